"""Export an index's passage vectors + payload for Qdrant or OpenSearch k-NN (bulk format).

    RAG_INDEX_DIR=index/default python scripts/export_vectors.py --format qdrant > points.jsonl
    python scripts/export_vectors.py --format opensearch --mapping body.json > bulk.ndjson

Reads the published index (checksums verified, as every load does); no model is loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> None:
    from rag.config import Settings
    from rag.store.export import export_lines, opensearch_mapping
    from rag.store.index import load_index

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("qdrant", "opensearch"), required=True)
    parser.add_argument("--index-dir", type=Path, default=None, help="default: RAG_INDEX_DIR")
    parser.add_argument("--index", default="briefs", help="OpenSearch index name")
    parser.add_argument("--mapping", type=Path, help="also write the OpenSearch index body here")
    args = parser.parse_args()
    handle = load_index(args.index_dir or Settings().index_dir)
    if args.mapping:
        args.mapping.write_text(json.dumps(opensearch_mapping(handle), indent=2))
    out = sys.stdout
    for line in export_lines(handle, args.format, index_name=args.index):
        out.write(line + "\n")


if __name__ == "__main__":
    main()
