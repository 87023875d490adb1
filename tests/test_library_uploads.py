"""Uploaded briefs (rag/library/uploads.py): refused before anything is written when too
large or unreadable, their format told by their content, their id never a path, and only
the project's own files ever removed from the upload folder."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.config import Settings
from rag.errors import ConfigError, QueryError, UploadTooLarge, UploadUnreadable
from rag.library.uploads import MARKER, UploadFolder, id_from_name, take_upload
from rag.parsing.readers import Reader, ReadOptions

FIXTURES = Path(__file__).parent / "fixtures"
MEMO = b"# Water Memo\n\n## Rivers\n\nThe Indus Waters Treaty shares six rivers.\n"


def take(data: bytes, filename: str | None = "memo.md", doc_id: str | None = None):  # type: ignore[no-untyped-def]
    return take_upload(data, filename, doc_id, max_bytes=1_000_000, budget=_budget())


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("memo.md", "memo"),
        ("../../etc/passwd", "passwd"),
        ("..\\x.md", "x"),
        ("C:\\Users\\me\\Q3 Brief (final).docx", "q3-brief-final"),
        ("/abs/path/.hidden", "hidden"),
        ("..", None),
        ("....", None),
        ("", None),
        (None, None),
        ("«»。.md", None),
        ("x" * 300 + ".md", "x" * 80),
    ],
)
def test_an_id_made_from_a_file_name_is_a_slug_of_its_last_part(
    filename: str | None, expected: str | None
) -> None:
    assert id_from_name(filename) == expected


def test_without_a_usable_name_the_id_is_made_from_the_content_hash() -> None:
    upload = take(MEMO, filename="../..")
    assert upload.id == f"brief-{upload.sha256[:12]}"


def test_an_id_asked_for_must_be_a_document_id() -> None:
    assert take(MEMO, doc_id="water-2024").id == "water-2024"
    for bad in ("../x", "Water", "-x", "x-", "a/b", "a" * 201, ""):
        with pytest.raises(QueryError, match="not a document id"):
            take(MEMO, doc_id=bad)


def test_the_format_is_told_by_the_content_not_the_name() -> None:
    html = b"<!doctype html><html><head><title>T</title></head><body><p>Hi.</p></body></html>"
    assert take(html, "renamed.txt").reader.format == "html"
    assert take((FIXTURES / "brief.docx").read_bytes(), "brief.txt").suffix == ".docx"
    assert take((FIXTURES / "plain-memo.pdf").read_bytes(), "memo.md").suffix == ".pdf"
    assert take(MEMO, "memo.markdown").suffix == ".md"
    assert take(MEMO, "memo.pdf").suffix == ".txt"  # text bytes: read as text
    assert take(MEMO, "memo").name == "memo.txt"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (bytes(range(256)) * 8, "binary"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "encrypted"),
        (b"PK\x03\x04not really a zip", "not a Word .docx"),
        (b"\xff\xfe\x00\xd8", "neither"),
    ],
)
def test_unreadable_bytes_are_refused_naming_the_formats_taken(data: bytes, why: str) -> None:
    with pytest.raises(UploadUnreadable, match=why) as caught:
        take(data)
    message = str(caught.value)
    assert "\n" not in message and ".docx" in message and ".md" in message


def test_a_zip_that_is_not_a_word_file_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b\n")
    with pytest.raises(UploadUnreadable, match=r"not a Word \.docx"):
        take(buffer.getvalue(), "brief.docx")


def _budget(**settings: int) -> Callable[[Reader], tuple[int, str]]:
    return ReadOptions.from_settings(Settings(**settings)).byte_budget  # type: ignore[arg-type]


def test_size_budgets() -> None:
    with pytest.raises(UploadUnreadable, match="empty"):
        take(b"  \n\t ")
    with pytest.raises(UploadTooLarge, match="RAG_MAX_UPLOAD_BYTES"):
        take_upload(MEMO, "m.md", None, max_bytes=10, budget=_budget(max_file_bytes=10))
    with pytest.raises(UploadTooLarge, match="RAG_MAX_FILE_BYTES"):  # a text brief's budget
        take_upload(MEMO, "m.md", None, max_bytes=1000, budget=_budget(max_file_bytes=10))
    pdf = (FIXTURES / "plain-memo.pdf").read_bytes()  # a PDF has its own budget
    small = _budget(max_file_bytes=10)
    assert take_upload(pdf, "m.pdf", None, max_bytes=len(pdf), budget=small).suffix == ".pdf"
    with pytest.raises(UploadTooLarge, match="RAG_PDF_MAX_BYTES"):
        take_upload(pdf, "m.pdf", None, max_bytes=len(pdf), budget=_budget(pdf_max_bytes=10))


def test_an_upload_is_kept_under_its_hash_and_id_inside_the_folder(tmp_path: Path) -> None:
    folder = UploadFolder(tmp_path / "uploads")
    for name in ("../../etc/passwd", "..\\x.md", "/etc/shadow"):
        path = folder.store(take(MEMO + name.encode(), name))
        assert path.parent.parent == (tmp_path / "uploads").resolve()
        assert folder.owns(path)
    kept = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert sorted(p.name for p in kept) == sorted([MARKER, "passwd.txt", "x.md", "shadow.txt"])
    assert all(p.parts[0] == "uploads" for p in kept)
    assert not (tmp_path / "etc").exists()


def test_storing_the_same_bytes_again_changes_nothing(tmp_path: Path) -> None:
    folder = UploadFolder(tmp_path / "uploads")
    first = folder.store(take(MEMO))
    stamp = first.stat().st_mtime_ns
    assert folder.store(take(MEMO)) == first and first.stat().st_mtime_ns == stamp


def test_a_folder_of_the_users_is_never_used(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="RAG_UPLOAD_DIR"):
        UploadFolder(mine).store(take(MEMO))
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_a_sweep_removes_only_the_projects_files_no_index_holds(tmp_path: Path) -> None:
    folder = UploadFolder(tmp_path / "uploads")
    kept = folder.store(take(MEMO, "kept.md"))
    gone = folder.store(take(MEMO + b"more", "gone.md"))
    strangers = [
        kept.parent / "notes.txt",  # not an id.format name
        tmp_path / "uploads" / "readme.md",  # not in a hash folder
        tmp_path / "uploads" / ("a" * 64) / "Brief.md",  # not an id
    ]
    for path in strangers:
        path.parent.mkdir(exist_ok=True)
        path.write_text("the user's")
    assert folder.sweep({kept}) == [gone]
    assert kept.is_file() and not gone.parent.exists() and all(p.is_file() for p in strangers)
    assert not folder.owns(tmp_path / "elsewhere" / kept.parent.name / kept.name)
