"""The service functions the CLI, the API and the eval harness all call."""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from dataclasses import dataclass

from embeddings.encoder import Encoder, set_torch_threads
from rag.config import Settings, load_settings
from rag.ingest.build import build_index, expected_manifest
from rag.search.retrieve import Filters, Retriever
from rag.search.stores import IndexVersion, Store, open_store
from rag.types import Passage


class QueryError(ValueError):
    """A question the service cannot take as given; the message says why. ``code``: "empty_question",
    "question_too_long", "invalid_question" (a bad character) or "invalid_request" (another parameter);
    the API answers with it (api/deps.query_error)."""

    def __init__(self, message: str, code: str = "invalid_request"):
        super().__init__(message)
        self.code = code


_SURROGATE = re.compile("[\ud800-\udfff]")
# Control characters (Unicode category Cc: C0, DEL and C1) other than tab, line feed and carriage return.
# A question holding one (a NUL, an escape sequence, a form feed from a PDF) is refused, not cleaned: the
# asker sees where it is, and nothing is searched for or echoed that they did not see (README, Errors).
CONTROL_CHARACTERS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"  # as regex escapes
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


@functools.lru_cache(maxsize=1)
def not_blank_pattern() -> str:
    """A regex class matching any character that carries text: not whitespace (Python's definition, as
    str.strip() uses), not a control character (Cc) and not a format character (Cf: zero-width space,
    BOM, …). Written as BMP \\uXXXX escapes so the same pattern means the same to Python and to
    JSON Schema's ECMA-262 regexes (the OpenAPI document states it, api/schemas.py)."""
    blank = [c for c in map(chr, range(0x10000))
             if c.isspace() or unicodedata.category(c) in ("Cc", "Cf")]
    return "[^" + "".join(f"\\u{ord(c):04x}" for c in blank) + "]"


def question_pattern() -> str:
    """A regex a valid question matches whole: no control character but tab, line feed and carriage
    return, and at least one character that carries text (:func:`not_blank_pattern`). The same in Python
    and in JSON Schema's ECMA-262 (the OpenAPI document states it, api/schemas.py); the lone-surrogate
    rule it cannot state."""
    return f"^[^{CONTROL_CHARACTERS}]*{not_blank_pattern()}[^{CONTROL_CHARACTERS}]*$"


def is_blank(text: str) -> bool:
    """Only whitespace, control and format characters (a question of "\\u200b" is empty)."""
    return re.search(not_blank_pattern(), text) is None


def validate_query(query: str, max_chars: int, subject: str = "the question") -> str:
    """The question, stripped; QueryError if it is empty (whitespace, control or format characters
    only: "empty_question"), too long ("question_too_long"), or holds a lone UTF-16 surrogate (JSON allows
    "\\ud800"; the tokenizer raises on it) or a control character other than tab, line feed and carriage
    return (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+007F-U+009F): "invalid_question". ``subject``
    names the question in the messages (the API passes its field). The characters are checked first: a
    control character counts as blank, so "\\u0000" alone would otherwise be called empty, not named.
    Needs no model or index."""
    if isinstance(query, str):
        check_characters(query, subject)
    if not isinstance(query, str) or is_blank(query):
        raise QueryError(f"{subject} is empty; type a question, e.g. \"Waarom is de WOM ingetrokken?\"",
                         "empty_question")
    if len(query) > max_chars:
        raise QueryError(f"{subject} is {len(query)} characters long; the limit is {max_chars}", "question_too_long")
    return query.strip()


def check_characters(text: str, subject: str) -> None:
    """QueryError "invalid_question" if ``text`` holds a lone UTF-16 surrogate or a control character other
    than tab, line feed and carriage return; the message names ``subject`` and the position. The character
    rule of :func:`validate_query`, also for text that is not a question (the API's feedback comment)."""
    if (bad := _SURROGATE.search(text)) is not None:
        raise QueryError(f"{subject} holds an invalid character at position {bad.start()} (a lone UTF-16 "
                         f"surrogate, U+{ord(bad.group()):04X}); send the text as valid Unicode", "invalid_question")
    if (bad := _CONTROL.search(text)) is not None:
        raise QueryError(f"{subject} holds a control character at position {bad.start()} (U+{ord(bad.group()):04X}); "
                         "remove it (of the control characters only tab, line feed and carriage return are allowed)",
                         "invalid_question")


@dataclass
class SearchResult:
    query: str
    passages: list[Passage]
    took_ms: float

    def to_dict(self) -> dict:
        return {"query": self.query, "results": [p.to_dict() for p in self.passages], "took_ms": round(self.took_ms, 1)}


def limit_blas_threads(n: int) -> None:
    """Cap numpy's BLAS (OpenBLAS) at ``n`` threads for the rest of the process (threadpoolctl; 0 =
    leave it). Its worker threads busy-wait after each call: the query's few small matrix products
    (~2 ms) left a second core spinning through the ~90 ms encoding that follows, so one search used
    1.98 cores instead of 1.00 (same latency), and concurrent searches had no core to spare."""
    if n > 0:
        import scipy.linalg  # noqa: F401  scipy's own OpenBLAS loads lazily (BM25's sparse matrices); load it now
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n, user_api="blas")


class Vraagbaak:
    """One loaded model and index version; cheap to query many times (the model loads once).
    ``index`` is one immutable version from ``store``; a newer one is loaded with :meth:`reload`."""

    def __init__(self, settings: Settings, encoder: Encoder, index: IndexVersion, store: Store | None = None):
        self.settings = settings
        self.encoder = encoder
        self.index = index
        self.store = store if store is not None else open_store(settings)
        self.retriever = Retriever(index, encoder, lexical_weight=settings.lexical_weight,
                                   unit_weight=settings.unit_weight)

    @classmethod
    def open(cls, settings: Settings | None = None, build_if_missing: bool = False,
             should_stop=None) -> "Vraagbaak":
        settings = settings or load_settings()
        encoder = Encoder(settings)
        store = open_store(settings)
        if build_if_missing:
            build_index(settings, encoder, should_stop=should_stop, store=store)
        index = store.load(expected_manifest(settings, encoder.model_hash))
        set_torch_threads(settings.query_threads)  # from here on this process answers queries
        limit_blas_threads(settings.query_threads)
        return cls(settings, encoder, index, store)

    def reload(self) -> "Vraagbaak":
        """A service on the store's active version, sharing this one's model (this one is unchanged)."""
        index = self.store.load(expected_manifest(self.settings, self.encoder.model_hash))
        return type(self)(self.settings, self.encoder, index, self.store)

    def validate(self, query: str) -> str:
        return validate_query(query, self.settings.max_query_chars)

    def search(self, query: str, top_k: int | None = None, filters: Filters | None = None) -> SearchResult:
        started = time.perf_counter()
        query = self.validate(query)
        top_k = top_k or self.settings.top_k
        if top_k < 1:
            raise QueryError("top_k must be at least 1")
        passages = self.retriever.search(query, top_k=top_k, filters=filters)
        return SearchResult(query=query, passages=passages, took_ms=(time.perf_counter() - started) * 1000)
