"""Term statistics for the relevance gate: which stemmed content words each sentence and
footnote holds, and how rare each word is across the passages.

Built once per index build (on first use, held as long as that build is), so a question
costs one tokenisation of itself, not of every candidate. The words are held as term ids
(:mod:`rag.answering.termsets`): as frozensets, a 100k-passage library's took 290 MB.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.answering.termsets import TermSets, TermWeights, Vocabulary
from rag.chunking.represent import footnote_text, front_matter_facts
from rag.store.bm25 import query_tokens
from rag.store.derived import per_build
from rag.text import strip_markers

if TYPE_CHECKING:
    from rag.store.index import IndexHandle

# Words of the question form, not of its topic: matching them is no evidence of relevance.
_QUESTION_WORDS = frozenset(
    {"who", "whom", "whose", "what", "when", "where", "why", "how", "which", "tell", "give"}
)


def terms(texts: Sequence[str]) -> list[frozenset[str]]:
    """Stemmed content words, as BM25 sees them, minus the words of the question form.
    Each text through ``query_tokens`` (the same tokens as bm25s's ``tokenize``, without
    its per-call set-up of about a third of a millisecond: this runs for every answer)."""
    return [frozenset(query_tokens(t)) - _QUESTION_WORDS for t in texts]


@dataclass(frozen=True, eq=False)
class Lexicon:
    idf: TermWeights  # word → idf, for the words of the passages
    unseen: float  # weight of a word no passage uses: the strongest off-topic signal
    sentences: TermSets  # aligned with the handle's sentence rows
    footnotes: TermSets  # aligned with the handle's footnote rows
    footnote_rows: dict[tuple[str, int], int]  # (document id, number) → footnote row

    def coverage(self, want: frozenset[str], have: frozenset[str]) -> float:
        """IDF-weighted share of the question's words that a candidate contains."""
        total = sum(self.idf.get(t, self.unseen) for t in want)
        if not total:
            return 0.0
        return sum(self.idf.get(t, self.unseen) for t in want & have) / total


def _sentence_probes(handle: IndexHandle) -> Iterator[str]:
    """What each sentence row stands for, as it was embedded: the section path and the
    sentence without markers, or a front-matter fact in the words retrieval uses."""
    offsets = handle.passage_sentences.tolist()  # passage p owns rows offsets[p]:offsets[p + 1]
    table = handle.passages  # read by column: no Passage built per row (0.3 s at 100k)
    for owner in range(len(table)):
        rows = range(offsets[owner], offsets[owner + 1])
        doc = handle.documents.get(table.document_of(owner).id)
        front = doc.front_matter if doc is not None else None
        if table.kind_of(owner) == "front_matter" and front is not None:
            facts = [f.probe for f in front_matter_facts(front)]
            yield from (facts[row - rows.start] for row in rows)
        else:
            path = " > ".join(table.section_of(owner).path)
            yield from (f"{path}: {strip_markers(handle.sentences[row])}" for row in rows)


def _build(handle: IndexHandle) -> Lexicon:
    import numpy as np

    vocabulary = Vocabulary(dropped=_QUESTION_WORDS)
    table = handle.passages
    passages = vocabulary.sets(
        " ".join((*table.section_of(i).path, table.text_of(i))) for i in range(len(table))
    )
    # The passages' terms are numbered first, so the idf table is their ids' prefix.
    df = passages.counts(len(vocabulary)).tolist()
    n = len(passages)
    idf = np.array([math.log((n + 1) / (count + 0.5)) for count in df], dtype=np.float64)
    sentences = vocabulary.sets(_sentence_probes(handle))
    notes = (handle.footnote(key) for key in handle.footnote_keys)
    footnotes = vocabulary.sets(footnote_text(f) if f else "" for f in notes)
    return Lexicon(
        idf=TermWeights(vocabulary.ids, idf),
        unseen=math.log(n + 2) + 1.0,
        sentences=sentences,
        footnotes=footnotes,
        footnote_rows={key: row for row, key in enumerate(handle.footnote_keys)},
    )


@per_build
def lexicon(handle: IndexHandle) -> Lexicon:
    """The lexicon of one index build, made on first use and dropped with the build."""
    return _build(handle)
