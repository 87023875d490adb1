"""The index artifacts, described once (as bm25s's ``save()``/``load()`` do for theirs).

Each :class:`Artifact` names a path in the build folder, the :class:`IndexContents`
attribute it holds and the :class:`Codec` that writes and reads it. Saving, checksumming,
verifying and loading all walk :data:`ARTIFACTS`, so adding an artifact is one entry here
(and its attribute). Formats are JSON, ``.npy`` without pickle, FAISS and bm25s's own
JSON + ``.npy``: nothing that runs code when read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ConfigDict, TypeAdapter

from rag.errors import IndexCorrupt
from rag.fileio import file_sha256
from rag.records import Document, DocumentOutline
from rag.store import bm25
from rag.store.handle import IndexContents
from rag.store.manifest import REBUILD, Manifest
from rag.store.passage_table import PassageTable

if TYPE_CHECKING:
    import bm25s
    from numpy.typing import NDArray

T = TypeVar("T")


@dataclass(frozen=True)
class Codec(Generic[T]):
    save: Callable[[Path, T], None]
    load: Callable[[Path], T]


@dataclass(frozen=True)
class Artifact:
    name: str  # path inside the build folder; a folder for the bm25s indexes
    attribute: str  # the IndexContents attribute it holds
    codec: Codec[Any]

    def files(self, build: Path) -> list[Path]:
        path = build / self.name
        if path.is_dir():
            return sorted(f for f in path.rglob("*") if f.is_file())
        return [path]


class _StoredOutline(DocumentOutline):
    """A document as ``documents.json`` stores it, read without its text (body and
    paragraphs are skipped, not kept): a served index needs only the outline."""

    model_config = ConfigDict(frozen=True, extra="ignore")


_DOCUMENTS = TypeAdapter(list[Document])
_OUTLINES = TypeAdapter(list[_StoredOutline])
_STRINGS = TypeAdapter(tuple[str, ...])


def _save_documents(path: Path, documents: Mapping[str, DocumentOutline]) -> None:
    texts = [d for d in documents.values() if isinstance(d, Document)]
    if len(texts) != len(documents):  # a loaded index's outlines: the file would lose the text
        raise TypeError("an index is written from whole documents, not from their outlines")
    payload = [d.model_dump(mode="json") for d in texts]
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


def _load_documents(path: Path) -> dict[str, DocumentOutline]:
    return {d.id: d for d in _OUTLINES.validate_json(path.read_bytes())}


def read_documents(build: Path) -> dict[str, Document]:
    """The whole documents of a build, text included (what evaluation locates evidence
    in); a served index holds only their outlines (:class:`DocumentOutline`)."""
    path = build / "documents.json"
    try:
        return {d.id: d for d in _DOCUMENTS.validate_json(path.read_bytes())}
    except (OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise IndexCorrupt(
            f"index file documents.json in {build} cannot be read ({reason}); {REBUILD}"
        ) from None


def _save_passages(path: Path, passages: PassageTable) -> None:
    passages.write_jsonl(path)


def _load_passages(path: Path) -> PassageTable:
    return PassageTable.read_jsonl(path)


def _save_strings(path: Path, texts: tuple[str, ...]) -> None:
    path.write_text(json.dumps(list(texts), ensure_ascii=False), encoding="utf-8")


def _load_strings(path: Path) -> tuple[str, ...]:
    return _STRINGS.validate_json(path.read_bytes())


def _save_array(path: Path, array: NDArray[Any]) -> None:
    import numpy as np

    np.save(path, array, allow_pickle=False)


def _load_array(path: Path) -> NDArray[Any]:
    import numpy as np

    array: NDArray[Any] = np.load(path, allow_pickle=False)
    return array


def _map_array(path: Path) -> NDArray[Any]:
    """Memory-mapped, read-only, for the large tables a query reads a few rows of (the
    token table; the float vectors behind a graph): nothing is read until asked for, and
    then with ``pread`` (:class:`rag.store.rowfile.RowFile`) rather than through the map
    (read at random: :func:`advise_random`)."""
    import numpy as np

    array: NDArray[Any] = np.load(path, mmap_mode="r", allow_pickle=False)
    advise_random(path)
    return array


def advise_random(path: Path) -> None:
    """Tell the kernel this process's maps of ``path`` are read at random
    (``madvise(MADV_RANDOM)``), so a page fault maps the page and its cached neighbours
    (64 KB) instead of reading around it: on the 100k library's token table, gathering
    2,000 random sentences' rows (9.6 MB) mapped 650 MB of file pages by default and 125 MB
    with this, and those pages count in the server's RSS. The maps are found in
    ``/proc/self/maps`` (FAISS maps its files itself); elsewhere this does nothing."""
    import ctypes
    import ctypes.util

    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return
    target = str(Path(path).resolve())
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == target:
            start, end = (int(x, 16) for x in fields[0].split("-"))
            libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), 1)  # RANDOM


def _save_faiss(path: Path, index: Any) -> None:
    import faiss

    faiss.write_index(index, str(path))


def _load_faiss(path: Path) -> Any:
    """Memory-mapped, as the token table is: the stored vectors (a flat index's, an HNSW
    graph's storage) are read from the file's pages as they are touched, so a graph search
    on a large library holds the pages it visits, not every vector, and workers share them
    through the page cache (``IO_FLAG_MMAP_IFC``: FAISS maps the codes without a copy)."""
    import faiss

    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    advise_random(path)  # a graph search visits scattered vectors
    return index


def _save_bm25(path: Path, retriever: bm25s.BM25) -> None:
    bm25.save(retriever, path)


DOCUMENTS = Codec(_save_documents, _load_documents)
PASSAGES = Codec(_save_passages, _load_passages)
STRINGS = Codec(_save_strings, _load_strings)
ARRAY = Codec(_save_array, _load_array)
MAPPED = Codec(_save_array, _map_array)
FAISS = Codec(_save_faiss, _load_faiss)
BM25 = Codec(_save_bm25, bm25.load)

ARTIFACTS: tuple[Artifact, ...] = (
    Artifact("documents.json", "documents", DOCUMENTS),
    Artifact("passages.jsonl", "passages", PASSAGES),
    Artifact("dense.faiss", "faiss_index", FAISS),
    Artifact("bm25", "bm25", BM25),
    Artifact("footnotes.faiss", "footnote_index", FAISS),
    Artifact("bm25_footnotes", "footnote_bm25", BM25),
    Artifact("sentences.faiss", "sentence_index", FAISS),
    Artifact("sentence_owners.npy", "sentence_owners", ARRAY),
    Artifact("sentences.json", "sentences", STRINGS),
    Artifact("token_vectors.npy", "token_vectors", MAPPED),
    Artifact("token_offsets.npy", "token_offsets", ARRAY),
    Artifact("passage_vectors.npy", "passage_vectors", MAPPED),
    Artifact("sentence_vectors.npy", "sentence_vectors", MAPPED),
    Artifact("footnote_vectors.npy", "footnote_vectors", MAPPED),
)


def save_artifacts(contents: IndexContents, build: Path) -> dict[str, str]:
    """Write every artifact into ``build``; return the sha256 of each file written."""
    for artifact in ARTIFACTS:
        artifact.codec.save(build / artifact.name, getattr(contents, artifact.attribute))
    return {
        str(f.relative_to(build)): file_sha256(f)
        for f in sorted(f for artifact in ARTIFACTS for f in artifact.files(build))
    }


def read_artifacts(build: Path, shown: Path | None = None) -> IndexContents:
    """Read every artifact; a file that cannot be read is :class:`IndexCorrupt` naming it."""
    parts: dict[str, Any] = {}
    for artifact in ARTIFACTS:
        try:
            parts[artifact.attribute] = artifact.codec.load(build / artifact.name)
        except (OSError, ValueError, RuntimeError) as exc:  # RuntimeError: faiss's reader
            # First line only: a pydantic error spans several, and errors are one line.
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise IndexCorrupt(
                f"index file {artifact.name} in {shown or build} cannot be read ({reason}); "
                f"{REBUILD}"
            ) from None
    return IndexContents(**parts)


def verify_artifacts(folder: Path, manifest: Manifest, shown: Path | None = None) -> None:
    """Check every file against the manifest's checksums, and that the manifest covers
    every artifact this version reads."""
    folder_shown = shown or folder
    for artifact in ARTIFACTS:
        name = artifact.name
        if name not in manifest.artifacts and not any(
            key.startswith(f"{name}/") for key in manifest.artifacts
        ):
            raise IndexCorrupt(f"index at {folder_shown} has no checksum for {name}; {REBUILD}")
    for name, expected in manifest.artifacts.items():
        path = folder / name
        if not path.is_file():
            raise IndexCorrupt(f"index at {folder_shown} is missing {name}; {REBUILD}")
        if file_sha256(path) != expected:
            raise IndexCorrupt(
                f"index file {name} in {folder_shown} does not match its checksum "
                f"(modified or damaged); {REBUILD}"
            )


def check_sizes(contents: IndexContents, manifest: Manifest, shown: Path) -> None:
    """Artifacts that passed their checksums can still disagree (a hand-edited manifest);
    a query would then index out of range, so refuse them here."""
    c = contents
    rows = len(c.sentence_owners)
    mismatches = {
        "passages and passage vectors": c.faiss_index.ntotal != len(c.passages),
        "vector dimension and manifest": c.faiss_index.d != manifest.model.dimension,
        "footnotes and footnote vectors": c.footnote_index.ntotal
        != sum(len(d.footnotes) for d in c.documents.values()),
        "footnote vector dimension and manifest": c.footnote_index.d != manifest.model.dimension,
        "sentence rows": not (c.sentence_index.ntotal == len(c.sentences) == rows),
        "sentence vector dimension and manifest": c.sentence_index.d != manifest.model.dimension,
        "sentence owners and passages": bool(rows)
        and int(c.sentence_owners.max()) >= len(c.passages),
        "sentence owners in passage order": bool(rows)
        and bool((c.sentence_owners[1:] < c.sentence_owners[:-1]).any()),
        "token offsets and sentences": len(c.token_offsets) != rows + 1
        or int(c.token_offsets[-1]) != len(c.token_vectors),
        "token vectors of int8 and the model's dimension": c.token_vectors.dtype.str != "|i1"
        or c.token_vectors.shape[1:] != (manifest.model.dimension,),
        **{
            f"{name} vectors and their index": vectors.dtype.str != "<f4"
            or vectors.shape != (index.ntotal, manifest.model.dimension)
            for name, vectors, index in (
                ("passage", c.passage_vectors, c.faiss_index),
                ("sentence", c.sentence_vectors, c.sentence_index),
                ("footnote", c.footnote_vectors, c.footnote_index),
            )
        },
    }
    wrong = [what for what, bad in mismatches.items() if bad]
    if wrong:
        raise IndexCorrupt(
            f"index at {shown} has artifacts of mismatched sizes ({', '.join(wrong)}); {REBUILD}"
        )
