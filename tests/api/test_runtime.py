"""api/runtime.py: the gate that lets shutdown wait for model work, and a shutdown in the middle of
the warm-up that leaves no thread inside the model (before: the process aborted with exit 134)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import uuid

import pytest

from api.errors import ApiError
from api.model_gate import ModelGate
from embeddings.encoder import EncodingStopped
from rag.config import PROJECT_ROOT


def test_gate_counts_calls_and_refuses_after_close():
    gate = ModelGate()
    inside, release = threading.Event(), threading.Event()

    def work():
        inside.set()
        release.wait(5)
        return "done"

    results = []
    thread = threading.Thread(target=lambda: results.append(gate.run(work)))
    thread.start()
    assert inside.wait(5)
    assert gate.active == 1
    gate.close()
    with pytest.raises(ApiError) as refused:
        gate.run(work)
    assert (refused.value.status, refused.value.code) == (503, "shutting_down")
    assert gate.active == 1  # the call already inside goes on
    release.set()
    thread.join(5)
    assert results == ["done"] and gate.active == 0


def test_encoding_stops_between_slices_and_caches_nothing_unfinished(service):
    texts = [f"Een zin die nog niet in de cache staat {uuid.uuid4()}." for _ in range(3)]
    with pytest.raises(EncodingStopped):
        service.encoder.encode_documents(texts, should_stop=lambda: True)
    keys = [service.encoder._key(t) for t in service.encoder.document_inputs(texts)]
    assert service.encoder.cache.get_many(keys) == {}


def test_shutdown_during_warm_up_exits_cleanly(service, settings):
    script = textwrap.dedent(f"""
        import asyncio
        from api.observability import Metrics
        from api.runtime import Runtime
        from rag.config import load_settings

        async def main():
            runtime = Runtime(load_settings(index_dir={str(settings.index_dir)!r}, corpus_dir={str(settings.corpus_dir)!r},
                                            llm_base_url=""), Metrics())
            await runtime.startup()  # loads in the background, then warms up
            while runtime.loaded is None:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # in the middle of the warm-up
            assert not runtime.warm
            await runtime.shutdown()
            assert runtime.gate.active == 0
            print("stopped cleanly")

        asyncio.run(main())
    """)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stopped cleanly" in done.stdout


def test_a_server_batches_concurrent_searches_with_unchanged_results(api, service):
    from concurrent.futures import ThreadPoolExecutor

    questions = ["Waarom is de WOM ingetrokken?", "Wat is de participatieverklaring?", "Wie zit in het LOM?",
                 "When did the consultation with minority organisations end?", "Hoeveel kost inburgering?",
                 "Wat doet de overheid tegen discriminatie?"]

    def top(q):
        response = api.post("/v1/search", json={"query": q, "top_k": 3})
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["results"]]

    alone = [top(q) for q in questions]
    assert service.encoder.batching  # started by the server (VRAAGBAAK_QUERY_BATCH, default 16)
    with ThreadPoolExecutor(len(questions)) as pool:
        together = list(pool.map(top, questions))
    assert together == alone


def test_concurrent_answers_retrieve_together_with_unchanged_answers(api, service):
    """/v1/ask's retrieval may run up to VRAAGBAAK_QUERY_BATCH at once while the encoder batches (not only
    VRAAGBAAK_MAX_CONCURRENCY, 2), so concurrent answers share forward passes; the answers stay the same."""
    from concurrent.futures import ThreadPoolExecutor

    questions = ["Waarom is de WOM ingetrokken?", "Wat is de participatieverklaring?", "Wie zit in het LOM?",
                 "When did the consultation with minority organisations end?", "Wat doet de overheid tegen discriminatie?",
                 "Hoeveel mensen kwamen op de landelijke ontmoetingsdag?"]

    def answer(q):
        response = api.post("/v1/ask", json={"question": q, "mode": "extractive"})
        assert response.status_code == 200, response.text
        return response.json()["answer"]

    alone = [answer(q) for q in questions]
    assert service.encoder.batching
    before = service.encoder.batch_stats
    with ThreadPoolExecutor(len(questions)) as pool:
        together = list(pool.map(answer, questions))
    after = service.encoder.batch_stats
    assert together == alone
    embedded, passes = after.total_processed - before.total_processed, after.total_batches - before.total_batches
    assert embedded >= len(questions) and passes < embedded  # some shared a forward pass


def test_a_query_process_caps_blas_threads(service):
    # numpy's OpenBLAS threads busy-wait after each call and took the second core from concurrent
    # searches (rag/service.py limit_blas_threads)
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert blas and all(i["num_threads"] <= max(1, service.settings.query_threads) for i in blas)
