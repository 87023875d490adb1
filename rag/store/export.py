"""Write an index's passage vectors and payload in an external engine's bulk format.

The path beyond one machine's memory: the build stores the passages' float vectors as
encoded (``passage_vectors.npy``), and the passages hold the payload. Two formats:

- ``qdrant``: one JSON point per line, ``{"id", "vector", "payload"}``, for Qdrant's
  ``PUT /collections/{name}/points`` (send batches of lines as ``{"points": [...]}``);
  ``id`` is the passage's row number, ``payload.passage_id`` its stable id.
- ``opensearch``: ``_bulk`` NDJSON, an ``index`` action line then the document, for an index
  whose ``vector`` field is ``knn_vector`` (dimension from the manifest, engine ``faiss``,
  space ``innerproduct``: the vectors are unit length).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rag.store.handle import IndexHandle

ExportFormat = Literal["qdrant", "opensearch"]


def payload(handle: IndexHandle, row: int) -> dict[str, Any]:
    p = handle.passages[row]
    return {
        "passage_id": p.id,
        "document_id": p.document.id,
        "document_title": p.document.title,
        "section": p.section.title,
        "section_path": list(p.section.path),
        "footnotes": [
            {"number": f.number, "citation": f.citation, "url": f.url} for f in p.footnotes
        ],
        "text": p.text,
        "span": [p.span.start, p.span.end],
    }


def export_lines(
    handle: IndexHandle, fmt: ExportFormat, index_name: str = "briefs", batch: int = 4096
) -> Iterator[str]:
    """The bulk lines for every passage, vectors read back ``batch`` rows at a time."""
    total = len(handle.exact_passages)
    for start in range(0, total, batch):
        vectors = handle.exact_passages.span(start, min(start + batch, total))
        for offset, vector in enumerate(vectors):
            row = start + offset
            values = [round(float(x), 7) for x in vector]
            if fmt == "qdrant":
                point = {"id": row, "vector": values, "payload": payload(handle, row)}
                yield json.dumps(point, ensure_ascii=False)
            else:
                action = {"index": {"_index": index_name, "_id": handle.passages.ids[row]}}
                yield json.dumps(action)
                yield json.dumps({"vector": values, **payload(handle, row)}, ensure_ascii=False)


def opensearch_mapping(handle: IndexHandle) -> dict[str, Any]:
    """The index body to create before sending the ``_bulk`` lines."""
    return {
        "settings": {"index": {"knn": True}},
        "mappings": {
            "properties": {
                "vector": {
                    "type": "knn_vector",
                    "dimension": handle.manifest.model.dimension,
                    "method": {"name": "hnsw", "engine": "faiss", "space_type": "innerproduct"},
                },
                "passage_id": {"type": "keyword"},
                "document_id": {"type": "keyword"},
                "section": {"type": "keyword"},
                "text": {"type": "text"},
            }
        },
    }
