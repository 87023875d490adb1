"""Write a synthetic library of Markdown briefs that `rag index` reads, for scale tests.

    python scripts/synth_corpus.py --passages 10000 --out /tmp/synth-10k

The generator is :mod:`rag.bench.synth` (``rag bench --library`` uses the same one).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.bench.synth import PARAGRAPHS_PER_SECTION, SECTIONS, write_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1000, help="about this many passages")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    count = write_corpus(args.out, args.passages, args.seed)
    per_brief = SECTIONS * PARAGRAPHS_PER_SECTION + 1
    print(f"wrote {count} briefs (about {count * per_brief} passages) to {args.out}")


if __name__ == "__main__":
    main()
