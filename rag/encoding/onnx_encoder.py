"""The ONNX encoders (float32 and int8): ONNX Runtime and Hugging Face ``tokenizers``, no
torch.

Serving with it imports neither torch nor sentence-transformers, so a server is ready in a
second or two and small in memory. It computes what :class:`SentenceTransformerEncoder`
does for a mean-pooling model — the transformer's hidden states, mean-pooled over the
attention mask and L2-normalised — and the normalised content-token vectors for late
interaction, all from one forward pass.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.encoding.content import content_table
from rag.encoding.model_dir import check_model_dir, model_name, weights_sha256
from rag.encoding.protocol import Progress
from rag.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

    from rag.encoding.onnx_export import ExportedModel


class OnnxEncoder:
    """``onnx``: the float32 export, for indexes and questions. ``onnx-int8``: its int8
    copy, for questions only — an index it searches holds the float32 export's vectors."""

    index_backend = "onnx"

    def __init__(
        self, model_path: str | Path, *, cache_dir: Path, threads: int = 1, int8: bool = False
    ) -> None:
        self.variant = "int8" if int8 else "fp32"
        self.backend = "onnx-int8" if int8 else "onnx"
        self.path = check_model_dir(Path(model_path).expanduser())
        self.model_id = model_name(self.path)
        self.cache_dir = cache_dir
        self.threads = max(1, threads)
        self._exported: ExportedModel | None = None
        self._session: Any = None
        self._tokenizer: Any = None
        self._inputs: set[str] = set()
        self._content: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    @property
    def weights_sha256(self) -> str:
        return weights_sha256(self.path)

    @property
    def vectors_sha256(self) -> str:
        """The ONNX file's sha256: vectors change when it does, not only with the weights."""
        return self._export().sha256

    @property
    def index_vectors_sha256(self) -> str:
        """The float32 file: its own vectors, or those the int8 file was quantised from."""
        exported = self._export()
        return exported.quantised_from or exported.sha256

    @property
    def dimension(self) -> int:
        config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        return int(config["hidden_size"])

    def _export(self) -> ExportedModel:
        if self._exported is None:
            from rag.encoding.onnx_export import exported_model

            self._exported = exported_model(self.path, self.cache_dir, self.variant)
        return self._exported

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                try:
                    import onnxruntime as ort
                    from tokenizers import Tokenizer
                except ImportError as exc:
                    raise ModelError(f"{self.backend} encoder unavailable ({exc})") from None
                options = ort.SessionOptions()
                # One inference at a time (the micro-batcher's), using the threads given:
                # more threads than cores per worker only thrash.
                options.intra_op_num_threads = self.threads
                options.inter_op_num_threads = 1
                # ONNX Runtime's threads spin after each run, waiting for the next; between
                # two questions that spinning took the cores from the search legs and the
                # HTTP handling (on 2 cores the token leg went from 0.2 to 3.5 ms).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                try:
                    self._session = ort.InferenceSession(
                        str(self._export().path), options, providers=["CPUExecutionProvider"]
                    )
                except Exception as exc:  # any runtime failure is a model problem to the user
                    raise ModelError(f"cannot load {self._export().path}: {exc}") from exc
                self._inputs = {i.name for i in self._session.get_inputs()}
                tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=_max_length(self.path))
                tokenizer.enable_padding()
                self._content = content_table(tokenizer.get_vocab(with_added_tokens=True))
                self._tokenizer = tokenizer
        return self._session, self._tokenizer

    def _forward(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import numpy as np

        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (hidden,) = session.run(["last_hidden_state"], feeds)
        return hidden, mask, ids

    def _token_vectors(
        self, hidden: np.ndarray, mask: np.ndarray, ids: np.ndarray
    ) -> list[np.ndarray]:
        """Each row's unit content-token vectors (:func:`rag.encoding.content.content_positions`'
        choice), picked for the whole batch at once by token id: no Python work per token,
        which a server's encoder thread paid for every question."""
        import numpy as np

        assert self._content is not None  # set by _load, before any forward pass
        content, plain = self._content
        inside = mask.astype(bool)
        chosen = content[ids] & inside
        # A text of stopwords only keeps its non-special tokens, and one of specials only
        # its first (the same fallbacks as content_positions).
        for row in np.flatnonzero(~chosen.any(axis=1)):
            chosen[row] = plain[ids[row]] & inside[row]
            if not chosen[row].any():
                chosen[row, 0] = True
        counts = chosen.sum(axis=1)
        vectors = _unit(hidden[chosen])
        return list(np.split(vectors, np.cumsum(counts)[:-1]))

    def encode_with_tokens(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return self._encode(texts, batch_size, progress, pooled=True, tokens=True)

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None
    ) -> np.ndarray:
        return self._encode(texts, batch_size, progress, pooled=True, tokens=False)[0]

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> list[np.ndarray]:
        return self._encode(texts, batch_size, None, pooled=False, tokens=True)[1]

    def _encode(
        self,
        texts: Sequence[str],
        batch_size: int,
        progress: Progress | None,
        *,
        pooled: bool,
        tokens: bool,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One forward pass per batch; only the outputs asked for are computed (picking a
        row's content tokens is Python work per row, which a build's pooled-only calls
        were paying for every passage and sentence)."""
        import numpy as np

        rows: list[np.ndarray] = []
        tokens_out: list[np.ndarray] = []
        for i in range(0, len(texts), batch_size):
            batch = texts[i : i + batch_size]
            hidden, mask, ids = self._forward(batch)
            if pooled:
                weights = mask[..., None].astype(np.float32)
                mean = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
                rows.append(_unit(mean))
            if tokens:
                tokens_out.extend(self._token_vectors(hidden, mask, ids))
            if progress:
                progress(len(batch))
        if not rows:
            return np.zeros((0, self.dimension), dtype=np.float32), tokens_out
        return np.ascontiguousarray(np.vstack(rows), dtype=np.float32), tokens_out


def _unit(rows: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    out: np.ndarray = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return out


def _max_length(model_dir: Path) -> int:
    # sentence-transformers truncates to max_seq_length (256 for MiniLM), not the
    # tokenizer's 512; the same here, so both backends see the same tokens.
    config = model_dir / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length", 512))
    return 512
