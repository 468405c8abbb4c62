"""The embedding encoder on the real EmbeddingGemma model."""

import numpy as np


def test_single_query_fast_path_matches_the_batched_encode(service):
    # Search embeds one query at a time through the model's own modules (no encode() bookkeeping);
    # it must give the vectors encode() gives, or the ranking would drift between the two paths.
    encoder = service.encoder
    questions = ["Waarom is de Wet overleg minderhedenbeleid ingetrokken?",
                 "When will the first inspection visits of boarding schools take place?"]
    fast = np.stack([encoder.encode_query(q) for q in questions])
    prompt = encoder._prompt("query")
    # One at a time on both sides: in a batch, padding changes bf16 vectors by itself.
    batched = np.stack([encoder.model.encode([prompt + q], convert_to_numpy=True)[0] for q in questions])
    batched = batched / np.linalg.norm(batched, axis=1, keepdims=True)
    assert fast.dtype == np.float32 and fast.shape == batched.shape
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (np.sum(fast * batched, axis=1) > 0.998).all()  # bf16 rounding differs by op order; rankings do not


def test_many_queries_take_the_batched_path(service):
    questions = [f"vraag {i} over inburgering" for i in range(6)]
    many = service.encoder.encode_queries(questions)
    one_by_one = np.stack([service.encoder.encode_query(q) for q in questions])
    # Padding inside the batch moves bf16 vectors a little, never the meaning.
    assert (np.sum(many * one_by_one, axis=1) > 0.995).all()


def test_concurrent_queries_share_forward_passes(settings):
    # Its own encoder: starting and stopping batching must not touch the session's servers.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from embeddings.encoder import Encoder

    encoder = Encoder(settings)
    questions = ["Waarom is het overleg met minderhedenorganisaties gestopt?", "Wat is de participatieverklaring?",
                 "Hoeveel mensen kwamen er op de ontmoetingsdag?", "When did the consultation end?",
                 "Wie betaalt de inburgeringscursus?", "Wat doet het kabinet tegen discriminatie op de arbeidsmarkt?"]
    alone = np.stack([encoder.encode_query(q) for q in questions])
    encoder.start_query_batching(max_batch=8, threads=1)
    start = threading.Barrier(len(questions))

    def ask(q):
        start.wait()  # all at once, as concurrent requests arrive
        return encoder.encode_query(q)

    try:
        with ThreadPoolExecutor(len(questions)) as pool:
            together = np.stack(list(pool.map(ask, questions)))
        stats = encoder.batch_stats
    finally:
        encoder.stop_query_batching()
    assert not encoder.batching and encoder.batch_stats is None
    assert stats.total_processed == len(questions) and stats.total_batches < len(questions)
    # each query keeps its own vector; padding in a shared pass moves bf16 values only
    assert (np.sum(alone * together, axis=1) > 0.999).all()


def test_one_failing_query_does_not_fail_its_batch(settings):
    # The service refuses such input first (rag/service.validate_query); the batch must hold anyway.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import pytest

    from embeddings.encoder import Encoder

    encoder = Encoder(settings)
    encoder.start_query_batching(max_batch=8, threads=1)
    good = ["Waarom is de WOM ingetrokken?", "Wat is de participatieverklaring?", "Wie zit in het LOM?"]
    start = threading.Barrier(len(good) + 1)

    def ask(q):
        start.wait()
        try:
            return encoder.encode_query(q)
        except Exception as exc:  # noqa: BLE001
            return exc

    try:
        with ThreadPoolExecutor(len(good) + 1) as pool:
            results = list(pool.map(ask, good + ["\ud800 x"]))  # a lone surrogate: the tokenizer raises
    finally:
        encoder.stop_query_batching()
    assert all(isinstance(r, np.ndarray) and r.shape == (768,) for r in results[:-1]), results
    assert isinstance(results[-1], Exception)
    with pytest.raises(Exception):
        encoder.encode_query("\ud800 x")  # unbatched: the same error, in the caller


# ---------------------------------------------------------------- reproducible document vectors (issue 22)

def _fresh_cache_settings(settings, tmp_path):
    """The session's settings with an empty vector cache of their own (the verified model is linked in)."""
    cache = tmp_path / "cache"
    cache.mkdir(parents=True)
    (cache / "models").symlink_to(settings.models_dir, target_is_directory=True)
    return settings.replace(cache_dir=cache, index_dir=tmp_path / "index")


def test_a_document_vector_depends_on_its_text_alone(settings, tmp_path):
    """Whatever is embedded with a text, in which order and how many, its vector is bit-identical: every
    forward pass holds the same number of rows (VECTOR_RECIPE). In bf16 the row count alone moved vectors."""
    from embeddings.encoder import Encoder

    texts = [line for line in (settings.corpus_dir / "001_5cb22294ce2f5ea5.txt").read_text(encoding="utf-8")
             .split("\n\n") if len(line.split()) > 8][:21]
    target = texts[0]
    first = Encoder(_fresh_cache_settings(settings, tmp_path / "a"))
    alone, n_alone = first.encode_documents([target])
    second = Encoder(_fresh_cache_settings(settings, tmp_path / "b"))
    among, n_among = second.encode_documents(list(reversed(texts)))  # 21 texts: a full pass and a filled one
    assert (n_alone, n_among) == (1, len(texts))
    assert np.array_equal(alone[0], among[-1])
    again, n_again = second.encode_documents([target, "Een tekst die nog niet in de cache stond, over fietsen."])
    assert n_again == 1 and np.array_equal(again[0], alone[0])


def test_the_index_is_the_same_whatever_the_cache_held(settings, tmp_path):
    """Two builds of the same corpus, one with an empty vector cache and one whose cache was filled before,
    in another order and in other groupings (as a machine that built other things first has it): the
    vectors of the two indexes are bit-identical."""
    import shutil

    from embeddings.encoder import Encoder
    from rag.ingest.build import build_index, chunk_corpus, embedding_input
    from rag.ingest.corpus import load_corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(settings.corpus_dir / "001_5cb22294ce2f5ea5.txt", corpus)  # a short letter: ~40 texts
    empty = _fresh_cache_settings(settings, tmp_path / "empty").replace(corpus_dir=corpus)
    filled = _fresh_cache_settings(settings, tmp_path / "filled").replace(corpus_dir=corpus)
    chunks, units = chunk_corpus(load_corpus(corpus))
    texts = [embedding_input(c) for c in chunks] + [u for us in units for u in us]
    prefill = Encoder(filled)
    for group in (texts[::-3], texts[1::5], texts[7:20]):  # other orders, other groupings
        prefill.encode_documents(group)
    built = [build_index(s) for s in (empty, filled)]
    assert built[0].embedded == len(set(texts)) and built[1].embedded < built[0].embedded
    vectors = [np.load(s.index_dir / "current" / "units.npy") for s in (empty, filled)]
    assert np.array_equal(vectors[0], vectors[1])
    import faiss

    flat = [faiss.read_index(str(s.index_dir / "current" / "index.faiss")) for s in (empty, filled)]
    assert np.array_equal(flat[0].reconstruct_n(0, flat[0].ntotal), flat[1].reconstruct_n(0, flat[1].ntotal))


def test_input_shapes_are_bucketed_and_padding_changes_no_vector(service):
    """A server meets few input shapes (the CPU kernels kept per shape cost ~2 MB each; embeddings/shapes.py)
    and padding to them leaves each vector as it was, up to bf16 rounding."""
    import random

    import torch

    from embeddings import shapes

    encoder, rnd = service.encoder, random.Random(3)
    words = "Waarom heeft de minister de Kamer een brief gestuurd over inburgering van nieuwkomers".split()
    seen = set()
    for _ in range(200):
        batch = [" ".join(words[:rnd.randint(1, len(words))]) * rnd.randint(1, 4) for _ in range(rnd.randint(1, 16))]
        features = encoder.model.preprocess(batch)
        padded, n = shapes.pad_features(features, encoder.model.tokenizer.pad_token_id)
        assert n == len(batch) and padded["input_ids"].shape[1] == shapes.bucket_length(features["input_ids"].shape[1])
        seen.add(tuple(padded["input_ids"].shape))
    assert len(seen) <= 5 * len(shapes.lengths())
    texts = ["Wat is de participatieverklaring?", "Hoeveel mensen kwamen er op de landelijke ontmoetingsdag?",
             "Wie betaalt de inburgeringscursus van een nieuwkomer?"]
    with torch.inference_mode():
        exact = encoder.model.forward(encoder.model.preprocess(texts[1:2]))["sentence_embedding"].float().numpy()
    exact = exact / np.linalg.norm(exact, axis=1, keepdims=True)
    padded = encoder._encode_direct(texts)[1:2]  # 3 rows → 4, and to the length bucket
    assert float((exact * padded).sum()) > 0.999


# ---------------------------------------------------------------- a question's tokens read (VRAAGBAAK_QUERY_MAX_TOKENS)

def test_a_long_question_is_read_up_to_the_cap_and_a_normal_one_whole(service):
    """A 2,000-character question costs ~2 s to embed whole (one token a character); its vector reads the first
    ``query_max_tokens`` (a length bucket), in every query path. A question under the cap is read as before:
    bit-identical to a pass without the cap."""
    from embeddings import shapes

    encoder = service.encoder
    cap, prompt = encoder.query_max_tokens, encoder._prompt("query")
    assert cap == 256 and shapes.bucket_length(cap) == cap
    head = " ".join(["inburgering"] * 400)  # well over the cap
    long = [head + " Wat is de participatieverklaring?", head + " Wie betaalt de taalcursus van een nieuwkomer?"]
    features = encoder.model.preprocess([prompt + long[0]], **shapes.truncation(cap))
    assert features["input_ids"].shape == (1, cap)
    one = np.stack([encoder.encode_query(q) for q in long])
    assert np.array_equal(one[0], one[1])  # the tails, past the cap, are not read
    many = encoder.encode_queries(long * 9)  # 18 queries: encode()'s own batching path
    assert (np.sum(many[:2] * one, axis=1) > 0.999).all() and np.array_equal(many[0], many[1])
    normal = "Wanneer stuurde de minister de Kamer een brief over de participatieverklaring voor nieuwkomers?"
    assert np.array_equal(encoder.encode_query(normal), encoder._encode_direct([prompt + normal])[0])


def test_the_query_cap_must_be_a_length_bucket(settings):
    import pytest

    from rag.config import load_settings

    assert load_settings(query_max_tokens=192).query_max_tokens == 192
    with pytest.raises(ValueError, match=r"query_max_tokens='200' is not valid: .*not a length bucket.*e\.g\. 256"):
        load_settings(query_max_tokens="200")
