"""How far the bundled table agrees with a rater's own file, outlet by outlet.

    python bench/ratings_agreement.py --mbfc ../shared/data/ratings-samples/mbfc-combined-sample.json \\
                                      --allsides ../shared/data/ratings-samples/allsides-sample.csv

Each file is read with the importer ``newstilt ratings import`` uses (so the rater's scale is mapped onto the
seven steps the same way); every rated key the bundled table also rates (through its domains, aliases and the
rater's own aliases, as matching does) is compared with the table's own bias: the share within one step, the
share on the same side (left/center/right) and exactly equal, and the outlets more than one step apart. The
bundled table restates these raters where they rate an outlet, so a drop here is a transcription error.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newstilt.errors import InvalidURLError, NotFoundError  # noqa: E402
from newstilt.importers import parse, read_file  # noqa: E402
from newstilt.ratings import BUNDLED_RATER, build_index, parse_bundled, read_bundled_text  # noqa: E402
from newstilt.scale import side_of  # noqa: E402


def compare(fmt: str, path: Path) -> dict:
    parsed = parse(read_file(path), fmt)
    index = build_index(parse_bundled(read_bundled_text()), [], {}, {}, "bundled")
    pairs, outside = [], []
    for row in parsed.ratings:
        if row["bias_score"] is None:
            continue
        key = parsed.aliases.get(row["key"], row["key"])
        try:
            outlet = index.match("https://" + key + "/").outlet
        except (InvalidURLError, NotFoundError):
            outlet = index.outlet_for_key(key)
        if outlet is None:
            continue
        ours = next((r.bias_score for r in outlet.ratings if r.rater == BUNDLED_RATER), None)
        if ours is None:
            continue
        pairs.append((outlet.domain, ours, row["bias_score"]))
        if abs(ours - row["bias_score"]) > 1:
            outside.append({"outlet": outlet.domain, "table": ours, fmt: row["bias_score"]})
    n = len(pairs)
    share = (lambda hits: round(hits / n, 3) if n else None)  # noqa: E731
    return {
        "rater": fmt, "file": str(path), "rated_in_file": sum(1 for r in parsed.ratings if r["bias_score"] is not None),
        "shared_outlets": n,
        "within_one_step": share(sum(abs(a - b) <= 1 for _, a, b in pairs)),
        "same_side": share(sum(side_of(a) == side_of(b) for _, a, b in pairs)),
        "exact": share(sum(a == b for _, a, b in pairs)),
        "more_than_one_step_apart": outside,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mbfc", type=Path, help="MBFC combined.json")
    parser.add_argument("--allsides", type=Path, help="AllSides ratings CSV")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = [compare(fmt, path) for fmt, path in (("mbfc", args.mbfc), ("allsides", args.allsides)) if path]
    for r in results:
        print(f"{r['rater']}: {r['shared_outlets']} of {r['rated_in_file']} rated outlets are in the table; "
              f"within one step {r['within_one_step']}, same side {r['same_side']}, exact {r['exact']}")
        for item in r["more_than_one_step_apart"]:
            print(f"  more than one step apart: {item}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
