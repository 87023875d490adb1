"""Term statistics for the relevance gate: which stemmed content words each sentence and
footnote holds, and how rare each word is across the passages.

Built once per index build (on first use, held as long as that build is), so a question
costs one tokenisation of itself, not of every candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.chunking.represent import footnote_text, front_matter_facts
from rag.store.bm25 import tokenize
from rag.store.derived import per_build
from rag.text import strip_markers

if TYPE_CHECKING:
    from rag.store.index import IndexHandle

# Words of the question form, not of its topic: matching them is no evidence of relevance.
_QUESTION_WORDS = frozenset(
    {"who", "whom", "whose", "what", "when", "where", "why", "how", "which", "tell", "give"}
)


def terms(texts: Sequence[str]) -> list[frozenset[str]]:
    """Stemmed content words, as BM25 sees them, minus the words of the question form."""
    return [frozenset(t) - _QUESTION_WORDS for t in tokenize(texts)]


@dataclass(frozen=True)
class Lexicon:
    idf: dict[str, float]
    unseen: float  # weight of a word no passage uses: the strongest off-topic signal
    sentences: tuple[frozenset[str], ...]  # aligned with the handle's sentence rows
    footnotes: tuple[frozenset[str], ...]  # aligned with the handle's footnote rows
    footnote_rows: dict[tuple[str, int], int]  # (document id, number) → footnote row

    def coverage(self, want: frozenset[str], have: frozenset[str]) -> float:
        """IDF-weighted share of the question's words that a candidate contains."""
        total = sum(self.idf.get(t, self.unseen) for t in want)
        if not total:
            return 0.0
        return sum(self.idf.get(t, self.unseen) for t in want & have) / total


def _sentence_probes(handle: IndexHandle) -> list[str]:
    """What each sentence row stands for, as it was embedded: the section path and the
    sentence without markers, or a front-matter fact in the words retrieval uses."""
    probes: list[str] = []
    facts: dict[str, list[str]] = {}
    for row, owner in enumerate(handle.sentence_owners.tolist()):
        passage = handle.passages[owner]
        doc = handle.documents.get(passage.document.id)
        if passage.kind == "front_matter" and doc is not None and doc.front_matter is not None:
            if passage.id not in facts:
                facts[passage.id] = [f.probe for f in front_matter_facts(doc.front_matter)]
            first = int(handle.passage_sentences[owner])
            probes.append(facts[passage.id][row - first])
        else:
            path = " > ".join(passage.section.path)
            probes.append(f"{path}: {strip_markers(handle.sentences[row])}")
    return probes


def _build(handle: IndexHandle) -> Lexicon:
    passages = [" ".join((*p.section.path, p.text)) for p in handle.passages]
    df: dict[str, int] = {}
    for words in terms(passages):
        for word in words:
            df[word] = df.get(word, 0) + 1
    n = len(passages)
    notes = [handle.footnote(key) for key in handle.footnote_keys]
    return Lexicon(
        idf={word: math.log((n + 1) / (count + 0.5)) for word, count in df.items()},
        unseen=math.log(n + 2) + 1.0,
        sentences=tuple(terms(_sentence_probes(handle))),
        footnotes=tuple(terms([footnote_text(f) if f else "" for f in notes])),
        footnote_rows={key: row for row, key in enumerate(handle.footnote_keys)},
    )


@per_build
def lexicon(handle: IndexHandle) -> Lexicon:
    """The lexicon of one index build, made on first use and dropped with the build."""
    return _build(handle)
