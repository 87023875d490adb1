"""PassageTable: the columns give back the passages they were made from (equal, and dumping
the same JSON), passages.jsonl round-trips byte for byte, and the column accessors agree
with a plain loop over the passages (fake encoder, no model)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rag.records import DocumentRef, FootnoteRef, Passage, SectionRef, Span
from rag.store.index import build_index, load_index
from rag.store.passage_table import PassageTable, _construct
from tests.conftest import FakeEncoder, chunk_params, dense_params

FIXTURES = Path(__file__).parent / "fixtures"
# passages.jsonl of the bundled brief as `rag index` wrote it before the table existed
# (a tuple of passages, one model_dump_json() a line).
BEFORE = FIXTURES / "passages-before-columns.jsonl"


def old_load(path: Path) -> tuple[Passage, ...]:
    """How passages.jsonl was read before the table: every line a validated Passage."""
    with open(path, encoding="utf-8") as fh:
        return tuple(Passage.model_validate_json(line) for line in fh if line.strip())


def old_dump(passages: tuple[Passage, ...]) -> bytes:
    """How passages.jsonl was written before the table."""
    return "".join(p.model_dump_json() + "\n" for p in passages).encode("utf-8")


def same(got: Passage, want: Passage) -> None:
    assert got == want
    assert got.model_dump_json() == want.model_dump_json()
    assert hash(got) == hash(want)


def generated() -> tuple[Passage, ...]:
    """Passages with what the bundled brief lacks: pages, footnotes with and without a URL,
    front matter, non-ASCII text, an empty text, a section title shared by two paths, two
    documents with interleaved rows."""
    a = DocumentRef(id="doc-a", title="Brief A – “quoted”")
    b = DocumentRef(id="doc-b", title="Brief B")
    front = SectionRef(title="Front Matter", path=("Front Matter",))
    intro = SectionRef(title="Introduction", path=("Introduction",))
    nested = SectionRef(title="Introduction", path=("Part II", "Introduction"))
    top = SectionRef(title="Part II", path=("Part II",))
    rootless = SectionRef(title="Untitled", path=())
    note1 = FootnoteRef(number=1, citation="“Report,” Institute, 2020", url="https://x.org/1")
    note2 = FootnoteRef(number=2, citation="Interview, 2021")
    rows: list[tuple[DocumentRef, SectionRef, str, tuple[FootnoteRef, ...], tuple[int, ...], str]]
    rows = [
        (a, front, "Brief A\nBy Someone", (), (1,), "front_matter"),
        (a, intro, "Plain ASCII text.", (), (1, 2), "body"),
        (a, intro, "Cited twice.¹ And again.² Emoji 🚀 and é.", (note1, note2), (2,), "body"),
        (b, front, "Brief B", (), (), "front_matter"),
        (a, nested, "", (), (3, 4, 5), "body"),
        (b, intro, "Same section as A's introduction.¹", (note1,), (), "body"),
        (a, top, "Part II opens.", (), (), "body"),
        (b, rootless, "No heading above this.²", (note2,), (7,), "body"),
        (b, nested, "Last, non-BMP 𝔘𝔫𝔦𝔠𝔬𝔡𝔢.", (), (), "body"),
    ]
    start = 0
    out = []
    for ordinal, (doc, section, text, notes, pages, kind) in enumerate(rows):
        out.append(
            Passage(
                id=f"{doc.id}-{ordinal:04x}",
                document=doc,
                text=text,
                section=section,
                footnotes=notes,
                span=Span(start=start, end=start + len(text)),
                tokens=len(text.split()),
                ordinal=ordinal,
                kind=kind,  # type: ignore[arg-type]
                pages=pages,
            )
        )
        start += len(text) + 2
    return tuple(out)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, brief_path: Path) -> Path:
    """A build of the bundled brief, its Markdown twin (front matter) and a PDF (pages)."""
    folder = tmp_path_factory.mktemp("table")
    corpus = folder / "corpus"
    corpus.mkdir()
    for source in (brief_path, FIXTURES / "brief.md", FIXTURES / "brief-a4-serif.pdf"):
        (corpus / source.name).write_bytes(source.read_bytes())
    build_index(
        sorted(corpus.iterdir()),
        folder / "idx",
        FakeEncoder(),
        chunk_params(),
        model_path="/nonexistent/fake-model",
        dense=dense_params(),
    )
    return folder / "idx"


def test_a_loaded_build_gives_back_every_passage_and_the_same_bytes(built: Path, tmp_path: Path):
    stored = built / "passages.jsonl"
    want = old_load(stored)
    handle = load_index(built)
    table = handle.passages
    assert isinstance(table, PassageTable) and len(table) == len(want)
    assert any(p.pages for p in want) and any(p.footnotes for p in want)
    assert {p.kind for p in want} == {"front_matter", "body"}
    for got, expected in zip(table, want, strict=True):
        same(got, expected)
    for row in range(len(want)):
        same(table[row], want[row])
    table.write_jsonl(tmp_path / "again.jsonl")
    assert (tmp_path / "again.jsonl").read_bytes() == stored.read_bytes() == old_dump(want)


def test_generated_passages_round_trip_in_memory_and_through_jsonl(tmp_path: Path):
    want = generated()
    table = PassageTable.of(want)
    assert len(table) == len(want)
    for got, expected in zip(table, want, strict=True):
        same(got, expected)
    path = tmp_path / "passages.jsonl"
    table.write_jsonl(path)
    assert path.read_bytes() == old_dump(want)
    again = PassageTable.read_jsonl(path)
    assert tuple(again) == want
    assert tuple(PassageTable.of(())) == () and len(PassageTable.of(())) == 0


def test_shared_parts_are_stored_once():
    want = generated()
    table = PassageTable.of(want)
    assert table[0].document is table[1].document  # one DocumentRef per document
    assert table[1].section is table[2].section  # one SectionRef per section
    assert table[0].footnotes is table[1].footnotes == ()  # the empty tuple itself
    assert table[4].section != table[1].section  # same title, another path: its own


def test_a_file_written_before_the_table_loads_and_is_written_back_unchanged(tmp_path: Path):
    want = old_load(BEFORE)
    table = PassageTable.read_jsonl(BEFORE)
    assert tuple(table) == want
    assert [p.model_dump_json() for p in table] == [p.model_dump_json() for p in want]
    table.write_jsonl(tmp_path / "after.jsonl")
    assert (tmp_path / "after.jsonl").read_bytes() == BEFORE.read_bytes()


def test_indexes_and_slices_behave_as_the_tuple_did():
    want = generated()
    table = PassageTable.of(want)
    n = len(want)
    for i in range(-n, n):
        assert table[i] == want[i]
    for bad in (n, -n - 1, 10**9):
        with pytest.raises(IndexError):
            table[bad]
    with pytest.raises(TypeError):
        table[1.0]  # type: ignore[call-overload]
    assert table[np.int64(-2)] == want[-2]  # rankings may hold NumPy integers
    for s in (
        slice(None),
        slice(2, 5),
        slice(-3, None),
        slice(None, -2),
        slice(None, None, 2),
        slice(None, None, -1),
        slice(7, 2, -2),
        slice(5, 2),
        slice(-100, 100),
    ):
        got = table[s]
        assert isinstance(got, tuple) and got == want[s]
    assert list(reversed(table)) == list(reversed(want))
    assert table.index(want[3]) == 3 and want[5] in table


def test_column_accessors_agree_with_a_loop_over_the_passages():
    want = generated()
    table = PassageTable.of(want)
    assert table.ids == tuple(p.id for p in want)
    for row, p in enumerate(want):
        assert table.document_of(row) == p.document
        assert table.section_of(row) == p.section
        assert table.kind_of(row) == p.kind
        assert table.text_of(row) == p.text
    for scope in (["doc-a"], ["doc-b"], ["doc-a", "doc-b"], {"doc-b", "nowhere"}, [], ["nowhere"]):
        rows = table.rows_of(scope).tolist()
        assert rows == [i for i, p in enumerate(want) if p.document.id in scope]
    keeps = [
        lambda s: s.title == "Introduction",
        lambda s: "Part II" in s.path,
        lambda s: not s.path,
        lambda s: False,
    ]
    for keep in keeps:
        rows = table.rows_in_sections(keep).tolist()
        assert rows == [i for i, p in enumerate(want) if keep(p.section)]
    assert table.sections_in() == list(dict.fromkeys(p.section for p in want))
    chosen = [5, 1, 7, 1]
    assert table.sections_in(chosen) == list(dict.fromkeys(want[i].section for i in chosen))
    assert table.count_by_document() == Counter(p.document.id for p in want)
    by_document: dict[str, Counter[SectionRef]] = {}
    for p in want:
        by_document.setdefault(p.document.id, Counter())[p.section] += 1
    assert table.sections_by_document() == by_document
    assert list(table.citations()) == [
        (row, ref.number) for row, p in enumerate(want) for ref in p.footnotes
    ]


def test_accessors_on_a_real_build_agree_with_the_passages(built: Path):
    handle = load_index(built)
    table, want = handle.passages, tuple(handle.passages)
    documents = list(handle.documents)
    assert len(documents) == 3
    for scope in ([documents[0]], documents[1:]):
        assert table.rows_of(scope).tolist() == [
            i for i, p in enumerate(want) if p.document.id in scope
        ]
    assert handle.by_id == {p.id: i for i, p in enumerate(want)}
    citing: dict[tuple[str, int], list[int]] = {}
    for i, p in enumerate(want):
        for ref in p.footnotes:
            citing.setdefault((p.document.id, ref.number), []).append(i)
    assert {k: list(v) for k, v in handle.citing.items() if v} == citing


def test_a_built_passage_is_what_model_construct_makes():
    """_construct skips pydantic's model_construct for speed; it must leave the same state."""
    for model, values in (
        (Span, {"start": 3, "end": 9}),
        (FootnoteRef, {"number": 2, "citation": "c", "url": None}),
        (Passage, dict(generated()[2])),
    ):
        assert not model.__private_attributes__ and model.model_config.get("extra") == "forbid"
        got, want = _construct(model, dict(values)), model.model_construct(**values)
        assert got == want and got.__dict__ == want.__dict__
        assert got.__pydantic_fields_set__ == want.__pydantic_fields_set__
        assert got.__pydantic_extra__ is want.__pydantic_extra__ is None
        assert got.__pydantic_private__ is want.__pydantic_private__ is None
    built = PassageTable.of(generated())[2]
    copy = built.model_copy(update={"text": "changed"})
    assert copy.text == "changed" and built.text != "changed"
    assert Passage.model_validate(built.model_dump()) == built
