"""``GET /sections``: each document's section tree with passage counts."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter

from api.deps import AuthDep, EngineDep
from api.models import AUTH_ERRORS, DocumentSections, SectionNode, SectionsResponse
from rag.records import DocumentOutline

router = APIRouter(tags=["sections"], dependencies=[AuthDep], responses=AUTH_ERRORS)


def _total(node: SectionNode) -> int:
    node.passages_with_subsections = node.passages + sum(_total(c) for c in node.children)
    return node.passages_with_subsections


def section_tree(document: DocumentOutline, counts: Counter[tuple[str, ...]]) -> list[SectionNode]:
    """Nest sections by path; a section whose parent is missing hangs from the root."""
    roots: list[SectionNode] = []
    by_path: dict[tuple[str, ...], SectionNode] = {}
    for section in document.sections:
        node = SectionNode(
            title=section.title,
            path=list(section.path),
            passages=counts[section.path],
            passages_with_subsections=0,
        )
        by_path[section.path] = node
        parent = by_path.get(section.path[:-1])
        (parent.children if parent else roots).append(node)
    for node in roots:
        _total(node)
    return roots


@router.get("/sections", summary="Section tree")
def sections(engine: EngineDep) -> SectionsResponse:
    """Every document's sections, nested, with how many passages each holds; any title
    or path part works as the `section` filter of /search."""
    handle = engine.handle
    by_document = handle.passages.sections_by_document()  # one pass over the columns
    out = []
    for doc in handle.documents.values():
        counts: Counter[tuple[str, ...]] = Counter()
        for section, n in by_document.get(doc.id, Counter()).items():
            counts[section.path] += n
        out.append(
            DocumentSections(
                id=doc.id,
                title=doc.title,
                passages=counts.total(),
                sections=section_tree(doc, counts),
            )
        )
    return SectionsResponse(documents=out)
