"""The real newstilt service for the browser tests: `newstilt serve` on a free port of 127.0.0.1."""
from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

NEWSTILT = [sys.executable, "-m", "newstilt"]
REPO = Path(__file__).resolve().parents[2]


def _drain(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@contextlib.contextmanager
def running_service(data_dir: Path, env: dict[str, str] | None = None):
    """Run ``newstilt serve --no-ingest`` over ``data_dir``; yields its base URL (ending in '/'). Its stderr
    goes to ``data_dir/server.stderr``."""
    stderr = (data_dir / "server.stderr").open("w", encoding="utf-8")
    args = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir), "--no-ingest"]
    process = subprocess.Popen([*NEWSTILT, *args], cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True,
                               env={**os.environ, **(env or {})})
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True)
    reader.start()
    try:
        first = lines.get(timeout=60)
        match = re.match(r"newstilt serving on (http://127\.0\.0\.1:\d+/)", first or "")
        if not match:
            raise RuntimeError(f"the service did not start: {first!r}; see {data_dir / 'server.stderr'}")
        yield match.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        process.stdout.close()
        stderr.close()
