"""The cost of extracting hostile pages: seconds of CPU and peak memory for each shape, at the largest size
``extract_article`` accepts: ``MAX_HTML_BYTES``, or less where the shape would exceed ``MAX_NODES`` elements
or ``MAX_TEXT_CHARS`` of text (then just under that limit: the most expensive page of that shape it
extracts). ``--bytes`` and ``--no-shrink`` measure other sizes, e.g. what a refused page costs.

    python bench/extract_worst_case.py [--bytes 5000000] [--timeout 120] [--shape NAME ...]

Each shape runs in a fresh child process (so one that runs away can be stopped at ``--timeout`` and the peak
memory is its own); the child prints the outcome (``article`` or the exception's class), the CPU seconds of
the call, its peak resident memory (imports included) and how much the call grew it. The shapes are what
a page can do to an extractor: many small blocks (the quadratic case of trafilatura's fallback extractors),
one huge text, deep nesting, wide trees, tables, links, entities, metadata floods. The bound stated in
``newstilt.extract`` comes from this table.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORDS = "Senators debated the bill late into the night while reporters waited outside the chamber doors. "


def _fill(head: str, unit: str, tail: str, size: int) -> str:
    return head + unit * max(1, (size - len(head) - len(tail)) // len(unit)) + tail


SHAPES = {
    "div-p-words": lambda n: _fill("<html><body>", "<div><p>word word word</p></div>", "</body></html>", n),
    "p-sentences": lambda n: _fill("<html><body><article>", f"<p>{WORDS}</p>", "</article></body></html>", n),
    "one-huge-paragraph": lambda n: _fill("<html><body><p>", WORDS, "</p></body></html>", n),
    "one-huge-word": lambda n: _fill("<html><body><p>", "a", "</p></body></html>", n),
    "deep-nesting": lambda n: _fill("<html><body>", "<div>", "deep</body></html>", n),
    "deep-nesting-text": lambda n: _fill("<html><body>", "<div>text ", "</body></html>", n),
    "spans": lambda n: _fill("<html><body><p>", "<span>a</span>", "</p></body></html>", n),
    "br-flood": lambda n: _fill("<html><body><p>", "word<br>", "</p></body></html>", n),
    "table": lambda n: _fill("<html><body><table>", "<tr><td>cell text</td></tr>", "</table></body></html>", n),
    "links": lambda n: _fill("<html><body><div>", '<a href="/x">link text</a> ', "</div></body></html>", n),
    "list": lambda n: _fill("<html><body><ul>", "<li>item of a list</li>", "</ul></body></html>", n),
    "headings": lambda n: _fill("<html><body>", "<h2>Heading</h2><p>word word</p>", "</body></html>", n),
    "unclosed-inline": lambda n: _fill("<html><body><p>", "<b><i>x ", "</body></html>", n),
    "entities": lambda n: _fill("<html><body><p>", "&amp;&#x41;&eacute; ", "</p></body></html>", n),
    "attributes": lambda n: _fill("<html><body><p", ' class="a b c d e f"', ">text</p></body></html>", n),
    "meta-flood": lambda n: _fill("<html><head>", '<meta name="author" content="A. Writer">',
                                  "</head><body><p>" + WORDS * 4 + "</p></body></html>", n),
    "json-ld-flood": lambda n: _fill("<html><head>", '<script type="application/ld+json">{"@graph": ['
                                     + '{"@type": "Thing"},' * 200 + '{}]}</script>',
                                     "</head><body><p>" + WORDS * 4 + "</p></body></html>", n),
    "article-repeated": lambda n: _fill("<html><body>", "<article><h1>Title</h1><p>" + WORDS * 3
                                        + "</p></article>", "</body></html>", n),
    "cluttered-page-repeated": lambda n: _fill(
        "", (ROOT / "tests" / "resources" / "ingest" / "article-cluttered.html").read_text(), "", n),
}


def child(shape: str, size: int, shrink: bool) -> None:
    import resource
    import time

    sys.path.insert(0, str(ROOT))
    import lxml.html

    from newstilt.errors import NewstiltError
    from newstilt.extract import MAX_NODES, MAX_TEXT_CHARS, extract_article

    extract_article("<html><body><p>" + WORDS * 5 + "</p></body></html>", "https://example.com/warm")
    html = SHAPES[shape](size).encode()
    while shrink:
        tree = lxml.html.document_fromstring(html)
        excess = max(sum(1 for _ in tree.iter("*")) / MAX_NODES, len(tree.text_content()) / MAX_TEXT_CHARS)
        if excess <= 1:
            break
        size = int(size / excess * 0.99)
        html = SHAPES[shape](size).encode()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = time.process_time()
    try:
        extract_article(html, "https://example.com/a")
        outcome = "article"
    except NewstiltError as exc:
        outcome = type(exc).__name__ + ": " + str(exc)[:70]
    seconds = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"bytes": len(html), "seconds": seconds, "peak_mb": peak, "base_mb": base / 1024,
                      "outcome": outcome}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bytes", type=int, default=None, help="page size (default: the extractor's limit)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a shape is stopped")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="only these shapes")
    parser.add_argument("--no-shrink", action="store_true", help="do not shrink a shape to MAX_NODES")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), args.child[2] == "shrink")
    if args.bytes is None:
        sys.path.insert(0, str(ROOT))
        from newstilt.extract import MAX_HTML_BYTES

        args.bytes = MAX_HTML_BYTES - 1024
    worst = worst_peak = 0.0
    print(f"{'shape':<26} {'bytes':>9} {'CPU s':>8} {'peak MB':>8} {'growth':>7}  outcome")
    for shape in args.shape or SHAPES:
        try:
            done = subprocess.run([sys.executable, __file__, "--child", shape, str(args.bytes),
                                   "keep" if args.no_shrink else "shrink"],
                                  capture_output=True, text=True, timeout=args.timeout)
            row = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
        except subprocess.TimeoutExpired:
            print(f"{shape:<26} {args.bytes:>9} {'>' + str(int(args.timeout)):>8} {'?':>8}  stopped")
            worst = max(worst, args.timeout)
            continue
        if row is None:
            print(f"{shape:<26} {args.bytes:>9} {'-':>8} {'-':>8}  crashed: {done.stderr.strip()[-200:]}")
            continue
        worst = max(worst, row["seconds"])
        worst_peak = max(worst_peak, row["peak_mb"])
        print(f"{shape:<26} {row['bytes']:>9} {row['seconds']:>8.2f} {row['peak_mb']:>8.0f} "
              f"{row['peak_mb'] - row['base_mb']:>7.0f}  {row['outcome']}")
    print(f"worst: {worst:.2f} s CPU, {worst_peak:.0f} MB peak resident memory (the process, imports included)")


if __name__ == "__main__":
    main()
