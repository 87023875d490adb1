"""What is embedded and what is quoted of a passage: front-matter facts written once."""

from rag.chunking.represent import (
    Fact,
    front_matter_facts,
    front_matter_sentences,
    sentence_quotes,
    sentence_texts,
)
from rag.records import DocumentRef, FrontMatter, Passage, SectionRef, Span


def test_front_matter_facts_pair_a_quote_with_the_embedded_probe(brief):
    fm = brief.front_matter
    facts = front_matter_facts(fm)
    assert [f.probe for f in facts] == front_matter_sentences(fm)
    assert facts[1] == Fact(
        "The brief was written by Mahrukh Khan, Research Fellow.",
        "The brief was written by the author (writer) Mahrukh Khan, "
        "whose position is Research Fellow.",
    )
    assert [f.quote for f in facts][3:5] == [
        "It was edited by Dr Neelum Nigar.",
        "It was published on September 16, 2024.",
    ]


def test_front_matter_without_roles_is_quoted_as_written():
    fm = FrontMatter(lines=("A Brief", "Somewhere,   2024"))
    assert front_matter_facts(fm) == [Fact("A Brief Somewhere, 2024", "A Brief Somewhere, 2024")]


def _passage(text: str) -> Passage:
    return Passage(
        id="p",
        document=DocumentRef(id="d", title="D"),
        text=text,
        section=SectionRef(title="Trade", path=("Trade",)),
        span=Span(start=0, end=len(text)),
        tokens=1,
        ordinal=0,
    )


def test_quotes_keep_markers_and_align_with_the_embedded_rows():
    passage = _passage("Exports grew by 5%.¹  They fell   in 2023.²")
    assert sentence_quotes(passage) == ["Exports grew by 5%.¹", "They fell in 2023.²"]
    assert sentence_texts(passage, with_path=True) == [
        "Trade: Exports grew by 5%.",
        "Trade: They fell in 2023.",
    ]
