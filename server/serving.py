"""Running the service: the web server processes and the one ingestion process.

- ``workers = 1`` (the default): one process, waitress with ``threads`` request threads, and ingestion in a
  background thread of the same process.
- ``workers = N > 1``: a small supervisor binds the listening socket, then forks N web processes that each
  run waitress on that shared socket (the kernel hands each new connection to whichever accepts first, so
  busy processes take fewer) and ONE ingestion process (what ``newstilt worker`` runs). The supervisor holds
  no database connection, runs no thread and serves nothing: it restarts a process that dies and stops them
  all on SIGTERM/SIGINT. Python runs one thread at a time per process, so this is what uses every core.
  It loads the article scorer once before it forks, so that the web processes share its memory rather than
  each loading a copy of its own.

waitress rather than a pre-fork server such as gunicorn: waitress reads each request completely in its event
loop before a thread takes it, so slow or half-open connections cost a socket, not a thread, and
``connection_limit`` bounds them (gunicorn's threaded worker gives a new connection a thread at once). Its
per-request "Task queue depth" warning is silenced: a queue is normal under load, not something to log.

Ingestion runs in exactly one place whatever ``workers`` is; the web processes never ingest.
"""
from __future__ import annotations

import functools
import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

from .config import Settings
from .core import Newstilt

LOGGER = logging.getLogger(__name__)

#: Seconds an idle client connection is kept (waitress' default is 120).
CHANNEL_TIMEOUT = 60
#: Seconds the supervisor waits for its processes to stop before it kills them.
STOP_TIMEOUT = 30
#: A process that exits this soon after it started counts towards a crash loop...
QUICK_EXIT = 5.0
#: ...and this many quick exits in a row stop the service instead of restarting it forever.
CRASH_LOOP = 5


def quiet_waitress() -> None:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)


def make_server(app, settings: Settings, *, sockets: list[socket.socket] | None = None):
    """A waitress server for ``app``, listening on ``settings``' address or on ``sockets`` already bound."""
    from waitress import create_server

    quiet_waitress()
    where = {"sockets": sockets} if sockets else {"host": settings.host, "port": settings.port}
    return create_server(app, threads=settings.threads, connection_limit=settings.connection_limit,
                         channel_timeout=CHANNEL_TIMEOUT, ident="newstilt", **where)


def bind(settings: Settings) -> socket.socket:
    """The listening socket the web processes share."""
    family, kind, proto, _, address = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(1024)
    return sock


def warm_up(nt: Newstilt) -> None:
    """Build what the first requests would otherwise build: the ratings index, the scorer and its explanation
    tables, the database connection (a cold first analyze took most of a second). Then one thread for
    numerical libraries: each request already has a thread and the processes share the cores, so BLAS thread
    pools inside a web process only compete with them (and OpenBLAS' idle threads spin). Last, what was
    built is frozen out of the garbage collector's full passes."""
    nt.index()
    _warm_scorer(nt)
    nt.counts()
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    # What is loaded now lives as long as the process: out of the collector's sight. A full collection walked
    # the scorer's and the ratings' objects every time (200 ms with the two-view scorer: the p99 of requests
    # that ran into one); only objects made while serving are walked now.
    gc.collect()
    gc.freeze()


def _warm_scorer(nt: Newstilt) -> None:
    if nt.model_status()["loaded"]:
        # the scorer's first answer builds its explanation tables (about a second with the two-view model):
        # paid here rather than by the first reader, whose analyze otherwise took 1-2 s
        nt.score("Warm-up", "The service scores one short text at start so that no reader waits for this.")


def prepare_to_fork(nt: Newstilt) -> None:
    """The supervisor, before it forks: load the scorer and build its tables once, for every web process to
    share (``run_web(..., shared=nt)``), then freeze what is loaded out of the garbage collector, as Python
    advises before fork(), so that no process's collections write to the pages they share."""
    _warm_scorer(nt)
    gc.collect()
    gc.freeze()


# -- the processes -------------------------------------------------------------------------------------------------

def run_web(settings: Settings, sock: socket.socket, shared: Newstilt | None = None) -> int:
    """A web process: waitress on the shared socket until SIGTERM or SIGINT; with the scorer ``shared`` loaded
    (by the supervisor, before it forked this process) rather than one of its own."""
    from .web import create_app

    with Newstilt(settings) as nt:
        if shared is not None:
            nt.share_scorer(shared)
        app = create_app(nt)
        warm_up(nt)
        server = make_server(app, settings, sockets=[sock])
        _exit_on(signal.SIGTERM, signal.SIGINT)
        try:
            server.run()
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            server.close()
    return 0


def run_ingest(settings: Settings, stop: threading.Event | None = None) -> int:
    """The ingestion process (``newstilt worker``): a pass every ``ingest_interval`` seconds until SIGTERM or
    SIGINT (or ``stop``); a pass in progress stores the batch in hand and ends."""
    from .ingest import Scheduler

    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    with Newstilt(settings) as nt:
        Scheduler(nt, settings.ingest_interval, stop).run()  # in this thread
    return 0


def _exit_on(*signums: int) -> None:
    def leave(_signum, _frame):
        raise SystemExit(0)

    for signum in signums:
        signal.signal(signum, leave)


# -- one process ---------------------------------------------------------------------------------------------------

def serve_one(nt: Newstilt, echo: Callable[[str], None], banner: Callable[[str], None]) -> None:
    """``workers = 1``: waitress and (with ``ingest``) the ingestion scheduler in this process."""
    from .web import create_app

    settings = nt.settings
    server = make_server(create_app(nt), settings)
    banner(_address(server.effective_host, server.effective_port))
    warm_up(nt)
    stopping = threading.Event()
    scheduler = None
    if settings.ingest:
        from .ingest import Scheduler

        scheduler = Scheduler(nt, settings.ingest_interval, stopping)
        scheduler.start()
        echo(f"  ingesting feeds every {settings.ingest_interval}s in this process (off with --no-ingest)")
    sys.stdout.flush()

    def stop(_signum, _frame):
        # What waitress does on Ctrl-C: leave the loop, let running requests finish (up to its task timeout),
        # and drop idle keep-alive connections instead of waiting for clients to hang up.
        stopping.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit, OSError):
        pass
    finally:
        stopping.set()
        if scheduler is not None:
            scheduler.join(timeout=30)


# -- several processes ---------------------------------------------------------------------------------------------

class Supervisor:
    """Forks the web processes and the ingestion process, restarts one that dies, stops them all on a signal."""

    def __init__(self, settings: Settings, sock: socket.socket,
                 web: Callable[[Settings, socket.socket], int] = run_web):
        """``web(settings, sock)`` is what each web process runs (``run_web``; the benchmarks serve a hello-world
        app through the same machinery)."""
        self.settings, self.sock, self.web = settings, sock, web
        self.children: dict[int, tuple[str, float]] = {}  # pid -> (role, started)
        self.stopping = False
        self.quick_exits = 0

    def spawn(self, role: str) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the supervisor's code
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                code = run_ingest(self.settings) if role == "ingest" else self.web(self.settings, self.sock)
            except BaseException:  # noqa: BLE001 - whatever happens, the child must not return
                LOGGER.exception("%s process failed", role)
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = (role, time.monotonic())
        return pid

    def stop(self, _signum=None, _frame=None) -> None:
        if not self.stopping:
            self.stopping = True
            self.deadline = time.monotonic() + STOP_TIMEOUT
            self.signal_children(signal.SIGTERM)

    def signal_children(self, signum: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for _ in range(self.settings.workers):
            self.spawn("web")
        if self.settings.ingest:
            self.spawn("ingest")
        failed = False
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                if self.stopping and time.monotonic() > self.deadline:
                    LOGGER.warning("processes still running after %ss: killing them", STOP_TIMEOUT)
                    self.signal_children(signal.SIGKILL)
                    self.deadline = float("inf")
                time.sleep(0.2)
                continue
            role, started = self.children.pop(pid, ("?", 0.0))
            if self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            LOGGER.error("%s process %s exited (%s); starting another", role, pid, code)
            self.quick_exits = self.quick_exits + 1 if time.monotonic() - started < QUICK_EXIT else 0
            if self.quick_exits >= CRASH_LOOP:
                LOGGER.error("processes keep exiting at start: stopping")
                failed = True
                self.stop()
                continue
            self.spawn(role)
        self.sock.close()
        return 1 if failed else 0


def serve_many(nt: Newstilt, echo: Callable[[str], None], banner: Callable[[str], None]) -> int:
    """``workers > 1``: the supervisor, its web processes and its ingestion process."""
    settings = nt.settings
    if not hasattr(os, "fork"):
        from .errors import ConfigError

        raise ConfigError("NEWSTILT_WORKERS above 1 needs fork() (Linux, macOS, BSD); run one process here")
    sock = bind(settings)
    host, port = sock.getsockname()[:2]
    banner(_address(host, port))
    echo(f"  {settings.workers} web processes x {settings.threads} threads"
         + (f"; ingesting feeds every {settings.ingest_interval}s in one more process (off with --no-ingest)"
            if settings.ingest else "; not ingesting"))
    prepare_to_fork(nt)
    nt.close()  # nothing open crosses the fork: each process opens its own database connections
    return Supervisor(settings, sock, web=functools.partial(run_web, shared=nt)).run()


def _address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in str(host) else host
    return f"http://{shown}:{port}/"
