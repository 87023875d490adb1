"""Score the sentences (and cited footnotes) of retrieved passages against the question.

Nothing is re-split or re-encoded here: the index stores each sentence's text and vector,
and each footnote's vector, built from the same texts retrieval searched. A question's
cosine to a candidate is one dot product with its pooled vector, computed by the retriever.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rag.answering.lexicon import Lexicon, lexicon, terms
from rag.answering.records import Candidate
from rag.records import Footnote, Hit, Passage
from rag.text import match_key

if TYPE_CHECKING:
    import numpy as np

    from rag.store.index import IndexHandle


def _rows(handle: IndexHandle, hit: Hit, words: Lexicon) -> tuple[range, list[int]]:
    """The sentence rows and footnote rows of one retrieved passage."""
    owner = handle.by_id[hit.passage.id]
    offsets = handle.passage_sentences  # passage p owns rows offsets[p]:offsets[p + 1]
    sentences = range(int(offsets[owner]), int(offsets[owner + 1]))
    notes = words.footnote_rows
    doc = hit.passage.document.id
    cited = [notes[key] for ref in hit.passage.footnotes if (key := (doc, ref.number)) in notes]
    return sentences, cited


def candidates(
    handle: IndexHandle, hits: Sequence[Hit], query: str, qvec: np.ndarray, turn: str = ""
) -> list[Candidate]:
    """Every sentence of ``hits`` and every footnote they cite, scored; each sentence once
    (adjacent passages overlap by a sentence: the better-ranked passage keeps it).

    ``turn``: a follow-up's own words (:func:`rag.answering.followup.own_words`), when
    ``query`` joins it to the turn before; each candidate's share of them is kept too."""
    words = lexicon(handle)
    (want,) = terms([query])
    (mine,) = terms([turn]) if turn else (frozenset[str](),)
    seen: set[str] = set()
    out: list[Candidate] = []
    for hit in hits:
        sentences, notes = _rows(handle, hit, words)
        cosines = handle.exact_sentences.span(sentences.start, sentences.stop) @ qvec
        # (text, footnote number, cosine, terms): the sentences as written, then the notes.
        pool: list[tuple[str, int | None, float, frozenset[str]]] = [
            (handle.sentences[row], None, cosine, words.sentences[row])
            for row, cosine in zip(sentences, cosines.tolist(), strict=True)
        ]
        for row in notes:
            key = handle.footnote_keys[row]
            note = handle.footnote(key)
            text = f"Footnote {key[1]}: {note.citation if note else ''}"
            cosine = float(handle.exact_footnotes.span(row, row + 1)[0] @ qvec)
            pool.append((text, key[1], cosine, words.footnotes[row]))
        for order, (text, number, cosine, have) in enumerate(pool):
            folded = match_key(text)
            if folded in seen:
                continue
            seen.add(folded)
            coverage = words.coverage(want, have)
            out.append(
                Candidate(
                    hit,
                    text,
                    order,
                    footnote=number,
                    cosine=round(float(cosine), 6),
                    coverage=round(coverage, 6),
                    turn_coverage=round(words.coverage(mine, have), 6) if mine else 0.0,
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
