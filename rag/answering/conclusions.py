"""Where each brief says what should be done, learned from its own structure.

Briefs put their recommendations under headings of every name: "Way Forward",
"Recommendations", "Policy Options", "Looking Ahead", "Conclusion". Names are not matched;
sentences are. A *conclusion section* is one where sentences saying what should be done
("must", "should", "it is imperative") gather: at least twice as densely as in the brief as
a whole, or, when no section stands out so, the brief's last section holding any.

Built once per index build (on first use, held as long as the build is).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.answering.expects import prescriptive
from rag.store.derived import per_build

if TYPE_CHECKING:
    from rag.store.index import IndexHandle

# How much denser than its brief a section's prescriptive sentences must be.
DENSER = 2.0
# Fewer prescriptive sentences than this is chance, not a section's purpose.
MIN_PRESCRIPTIVE = 2


@dataclass(frozen=True)
class Conclusions:
    """The conclusion sections of each brief, as (document id, top-level section title)."""

    sections: frozenset[tuple[str, str]]
    prescriptive_rows: frozenset[int]  # sentence rows that say what should be done

    def holds(self, document: str, path: tuple[str, ...]) -> bool:
        return bool(path) and (document, path[0]) in self.sections


def _build(handle: IndexHandle) -> Conclusions:
    rows = frozenset(i for i, s in enumerate(handle.sentences) if prescriptive(s))
    # (document, top-level section) → [sentences, prescriptive sentences], in reading order.
    counts: dict[str, dict[str, list[int]]] = defaultdict(dict)
    # By column: building each sentence row's Passage took 0.13 s on the 10k library, this 0.01.
    table = handle.passages
    for row, owner in enumerate(handle.sentence_owners.tolist()):
        path = table.section_of(owner).path
        if table.kind_of(owner) == "front_matter" or not path:
            continue
        tally = counts[table.document_of(owner).id].setdefault(path[0], [0, 0])
        tally[0] += 1
        tally[1] += row in rows
    chosen: set[tuple[str, str]] = set()
    for doc, sections in counts.items():
        total = sum(t[0] for t in sections.values())
        said = sum(t[1] for t in sections.values())
        if not total or not said:
            continue
        share = said / total
        dense = {
            title
            for title, (n, p) in sections.items()
            if p >= MIN_PRESCRIPTIVE and p / n >= DENSER * share
        }
        if not dense:
            last = [title for title, (_, p) in sections.items() if p]
            dense = {last[-1]}
        chosen |= {(doc, title) for title in dense}
    return Conclusions(frozenset(chosen), rows)


@per_build
def conclusions(handle: IndexHandle) -> Conclusions:
    """The conclusions of one index build, made on first use and dropped with the build."""
    return _build(handle)
