"""Score the sentences (and cited footnotes) of retrieved passages against the question.

Nothing is re-split or re-encoded here: the index stores each sentence's text and vector,
and each footnote's vector, built from the same texts retrieval searched. A question's
cosine to a candidate is one dot product with its pooled vector, computed by the retriever.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.answering.lexicon import lexicon, terms
from rag.answering.records import Candidate
from rag.records import Footnote, Hit, Passage
from rag.text import match_key

if TYPE_CHECKING:
    import numpy as np

    from rag.index import IndexHandle


def _rows(handle: IndexHandle, hit: Hit) -> tuple[range, list[int]]:
    """The sentence rows and footnote rows of one retrieved passage."""
    import numpy as np

    owner = handle.by_id[hit.passage.id]
    owners = handle.sentence_owners
    sentences = range(
        int(np.searchsorted(owners, owner, side="left")),
        int(np.searchsorted(owners, owner, side="right")),
    )
    notes = lexicon(handle).footnote_rows
    doc = hit.passage.document.id
    cited = [notes[key] for ref in hit.passage.footnotes if (key := (doc, ref.number)) in notes]
    return sentences, cited


def candidates(
    handle: IndexHandle, hits: Sequence[Hit], query: str, qvec: np.ndarray
) -> list[Candidate]:
    """Every sentence of ``hits`` and every footnote they cite, scored; each sentence once
    (adjacent passages overlap by a sentence: the better-ranked passage keeps it)."""
    words = lexicon(handle)
    (want,) = terms([query])
    seen: set[str] = set()
    out: list[Candidate] = []
    for hit in hits:
        sentences, notes = _rows(handle, hit)
        cosines = handle.sentence_vectors[sentences.start : sentences.stop] @ qvec
        for order, (row, cosine) in enumerate(zip(sentences, cosines.tolist(), strict=True)):
            text = handle.sentences[row]
            key = match_key(text)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Candidate(
                    hit,
                    text,
                    order,
                    cosine=round(float(cosine), 6),
                    coverage=round(words.coverage(want, words.sentences[row]), 6),
                )
            )
        for j, row in enumerate(notes):
            number = handle.footnote_keys[row][1]
            note = handle.footnote(handle.footnote_keys[row])
            text = f"Footnote {number}: {note.citation if note else ''}"
            key = match_key(text)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Candidate(
                    hit,
                    text,
                    len(sentences) + j,
                    footnote=number,
                    cosine=round(float(handle.footnote_vectors[row] @ qvec), 6),
                    coverage=round(words.coverage(want, words.footnotes[row]), 6),
                )
            )
    return out


def footnotes_of(handle: IndexHandle, passage: Passage) -> tuple[Footnote, ...]:
    """The full records of the footnotes a passage cites (its refs carry only the citation)."""
    found = []
    for ref in passage.footnotes:
        note = handle.footnote((passage.document.id, ref.number))
        found.append(note or Footnote(number=ref.number, citation=ref.citation, url=ref.url))
    return tuple(found)
