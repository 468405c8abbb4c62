"""The HTTP API against a real running server (uvicorn on 127.0.0.1) with the real model and index:
health, search, documents and passages, bad inputs, request ids, metrics, CORS, API keys, reindex,
and the OpenAPI docs. Answers (/v1/ask, chat completions) are in test_api_answers.py."""

from __future__ import annotations

import gzip
import json
import re
import time
from urllib.parse import quote

import httpx
import pytest

QUESTION = "Waarom is de WOM ingetrokken?"


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The one error shape: {"error": {"code", "message", "request_id"}}, request id as in the header."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "request_id"}
    assert error["message"] and isinstance(error["message"], str)
    assert "Traceback" not in response.text
    assert error["request_id"] == response.headers["x-request-id"]
    if code:
        assert error["code"] == code, error
    return error


# ---------------------------------------------------------------- health


def test_healthz_and_readyz(api, service):
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["documents"] == len(service.index.documents)
    assert body["passages"] == len(service.index.chunks)
    assert body["embedding_model"] == service.settings.embedding_model
    assert body["llm_configured"] is False
    # uptime checkers probe with HEAD: same status, no body
    assert api.head("/healthz").status_code == 200 and api.head("/readyz").status_code == 200


def test_every_get_answers_head_alike_without_a_body(api, service):
    # RFC 9110: HEAD is GET without the body. One mechanism (api/app.py) covers every GET route, the
    # documented ones and the undocumented (the web page, /docs, /openapi.json), and the document lists
    # no HEAD of its own.
    spec = api.get("/openapi.json").json()
    assert not any("head" in operations for operations in spec["paths"].values())
    passage = service.index.chunks[0]
    values = {"doc_id": passage.doc_id, "passage_id": quote(passage.id, safe=""), "model": "vraagbaak"}
    paths = [re.sub(r"\{(\w+)(?::path)?\}", lambda m: values[m.group(1)], path)
             for path, operations in spec["paths"].items() if "get" in operations]
    paths += ["/", "/favicon.ico", "/docs", "/redoc", "/openapi.json", "/v1/nergens"]
    for path in paths:
        got, head = api.get(path), api.head(path)
        assert head.status_code == got.status_code and head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
    refused = api.put("/healthz")
    assert_error(refused, 405, "method_not_allowed")
    assert refused.headers["allow"] == "GET, HEAD"


def test_not_ready_says_why_and_health_stays_up(api_server, tmp_path):
    """A server whose corpus is missing cannot load: /healthz 200, /readyz and the endpoints 503."""
    url = api_server(preload=False, corpus_dir=tmp_path / "no-corpus", index_dir=tmp_path / "index")
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.get("/healthz").status_code == 200 and client.head("/healthz").status_code == 200
        deadline = time.monotonic() + 60
        while True:
            error = assert_error(client.get("/readyz"), 503, "not_ready")
            if "could not be loaded" in error["message"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert "could not be loaded" in error["message"] and "no-corpus" in error["message"]
        assert_error(client.post("/v1/search", json={"query": QUESTION}), 503, "not_ready")
        assert_error(client.get("/v1/documents"), 503, "not_ready")
        assert client.head("/readyz").status_code == 503


# ---------------------------------------------------------------- search


def test_search_returns_ranked_cited_passages(api, service):
    response = api.post("/v1/search", json={"query": QUESTION, "top_k": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["query"] == QUESTION and body["took_ms"] > 0
    results = body["results"]
    assert [r["rank"] for r in results] == [1, 2, 3]
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    for r in results:
        for key in ("id", "rank", "score", "text", "document", "section", "char_start", "char_end", "citation"):
            assert key in r
        assert set(r["document"]) >= {"id", "title", "date", "reference"}
        assert r["document"]["id"] in service.index.documents
        assert r["citation"] and r["text"]
    # The same passages the service finds when called directly.
    direct = service.search(QUESTION, top_k=3)
    assert [r["id"] for r in results] == [p.chunk.id for p in direct.passages]


def test_search_defaults_to_five_results_and_answers_english(api):
    body = api.post("/v1/search", json={"query": "Why was the minority consultation act withdrawn?"}).json()
    assert len(body["results"]) == 5
    # 3.0 is an integer in JSON Schema's sense (schemathesis sends it); "3" and true are refused (BAD_JSON_BODIES)
    assert len(api.post("/v1/search", json={"query": QUESTION, "top_k": 3.0}).json()["results"]) == 3


def test_search_filters(api, service):
    doc_id = "kst-32824-445" if "kst-32824-445" in service.index.documents else next(iter(service.index.documents))
    body = api.post("/v1/search", json={"query": QUESTION, "top_k": 4, "filters": {"doc_ids": [doc_id]}}).json()
    assert body["results"] and {r["document"]["id"] for r in body["results"]} == {doc_id}
    body = api.post("/v1/search", json={"query": QUESTION, "filters": {"date_from": "2013", "date_to": "2013-12-31"}}).json()
    assert body["results"]
    assert all(r["document"]["date"] and r["document"]["date"].startswith("2013") for r in body["results"])


# ---------------------------------------------------------------- documents and passages


def test_documents_list_and_detail(api, service):
    listing = api.get("/v1/documents").json()
    assert listing["count"] == len(service.index.documents) == len(listing["documents"])
    assert sum(d["passage_count"] for d in listing["documents"]) == len(service.index.chunks)
    doc = max(listing["documents"], key=lambda d: d["passage_count"])
    detail = api.get(f"/v1/documents/{doc['id']}").json()
    assert detail["id"] == doc["id"] and detail["title"] == doc["title"]
    assert len(detail["passages"]) == doc["passage_count"]
    starts = [p["char_start"] for p in detail["passages"]]
    assert starts == sorted(starts)
    assert_error(api.get("/v1/documents/geen-document"), 404, "document_not_found")
    long_id = assert_error(api.get("/v1/documents/" + "a" * 5000), 404, "document_not_found")
    assert len(long_id["message"]) < 200  # the id is shortened, not echoed whole


def test_passage_with_neighbours_for_citation_links(api):
    hit = api.post("/v1/search", json={"query": QUESTION, "top_k": 1}).json()["results"][0]
    assert "#" in hit["id"]  # so a link must url-encode it
    passage = api.get("/v1/passages/" + quote(hit["id"], safe="")).json()
    assert passage["id"] == hit["id"] and passage["text"] == hit["text"]
    assert passage["citation"] == hit["citation"]
    assert passage["document"]["id"] == hit["document"]["id"]

    doc = api.get(f"/v1/documents/{hit['document']['id']}").json()
    ids = [p["id"] for p in doc["passages"]]
    assert len(ids) >= 3
    first = api.get("/v1/passages/" + quote(ids[0], safe="")).json()
    middle = api.get("/v1/passages/" + quote(ids[1], safe="")).json()
    last = api.get("/v1/passages/" + quote(ids[-1], safe="")).json()
    assert first["previous"] is None and first["next"]["id"] == ids[1]
    assert middle["previous"]["id"] == ids[0] and middle["next"]["id"] == ids[2]
    assert last["next"] is None and last["previous"]["id"] == ids[-2]
    assert middle["previous"]["text"] and middle["next"]["char_start"] >= middle["char_start"]
    assert_error(api.get("/v1/passages/" + quote("kst-32824-445#0000000000", safe="")), 404, "passage_not_found")


# ---------------------------------------------------------------- bad input

LONG = "a" * 2001

BAD_JSON_BODIES = [
    # (endpoint, body, status, code)
    ("/v1/search", {"query": ""}, 422, "empty_question"),
    ("/v1/search", {"query": "  \n\t "}, 422, "empty_question"),
    ("/v1/search", {"query": LONG}, 422, "question_too_long"),  # a field error (413 is for the body)
    ("/v1/search", {"query": "\u200b\ufeff"}, 422, "empty_question"),
    ("/v1/search", {"query": "\ud800 WOM"}, 422, "invalid_question"),
    ("/v1/ask", {"question": "\udfff WOM", "stream": True}, 422, "invalid_question"),
    ("/v1/chat/completions", {"model": "vraagbaak", "messages": [{"role": "user", "content": "\udfff WOM"}]}, 422,
     "invalid_question"),
    # With letters around it: the asker's language is told without the surrogate (was a 500).
    ("/v1/chat/completions", {"model": "vraagbaak", "messages": [
        {"role": "user", "content": "Dlaczego wycofano ustawę o mniejszościach? \udfff"}]}, 422, "invalid_question"),
    ("/v1/search", {"query": QUESTION, "top_k": 0}, 422, "invalid_request"),
    ("/v1/search", {"query": QUESTION, "top_k": 51}, 422, "invalid_request"),
    ("/v1/search", {"query": QUESTION, "top_k": "vijf"}, 422, "invalid_request"),
    ("/v1/search", {"query": QUESTION, "top_k": "5"}, 422, "invalid_request"),  # a JSON integer, as the schema says
    ("/v1/search", {"query": QUESTION, "top_k": True}, 422, "invalid_request"),
    ("/v1/ask", {"question": QUESTION, "top_k": 3.5}, 422, "invalid_request"),
    ("/v1/search", {"query": QUESTION, "filters": {"date_to": "2013-02-30"}}, 422, "invalid_request"),
    ("/v1/search", {"query": QUESTION, "filters": {"date_to": "٢٠١٣"}}, 422, "invalid_request"),  # ASCII digits
    ("/v1/search", {"query": QUESTION, "topk": 3}, 422, "invalid_request"),
    ("/v1/search", {"question": QUESTION}, 422, "invalid_request"),
    ("/v1/search", {"query": 42}, 422, "invalid_request"),
    ("/v1/search", {"query": QUESTION, "filters": {"doc_ids": ["geen-document"]}}, 422, "unknown_document"),
    ("/v1/search", {"query": QUESTION, "filters": {"date_from": "2013-13"}}, 422, "invalid_request"),
    ("/v1/search", {"query": QUESTION, "filters": {"date_from": "2014", "date_to": "2013"}}, 422, "empty_date_range"),
    ("/v1/search", {"query": QUESTION, "filters": {"docs": ["x"]}}, 422, "invalid_request"),
    ("/v1/search", [QUESTION], 422, "invalid_request"),
    ("/v1/ask", {"question": ""}, 422, "empty_question"),
    ("/v1/ask", {"question": "   "}, 422, "empty_question"),
    ("/v1/ask", {"question": LONG}, 422, "question_too_long"),
    ("/v1/ask", {"question": QUESTION, "top_k": 0}, 422, "invalid_request"),
    ("/v1/ask", {"question": QUESTION, "top_k": 21}, 422, "invalid_request"),
    ("/v1/ask", {"question": QUESTION, "mode": "creatief"}, 422, "invalid_request"),
    ("/v1/ask", {"question": QUESTION, "temperature": 0.2}, 422, "invalid_request"),
    ("/v1/ask", {"question": QUESTION, "history": [{"role": "system", "content": "x"}]}, 422, "invalid_request"),
    ("/v1/chat/completions", {"model": "vraagbaak", "messages": []}, 422, "invalid_request"),
    ("/v1/chat/completions", {"model": "vraagbaak", "messages": [{"role": "user", "content": " "}]}, 422, "empty_question"),
    ("/v1/chat/completions", {"model": "vraagbaak", "messages": [{"role": "user", "content": LONG}]}, 422, "question_too_long"),
    ("/v1/chat/completions", {"model": "vraagbaak", "messages": [{"role": "assistant", "content": "Ja."}]}, 422,
     "invalid_request"),  # no user message: no question
    ("/v1/search", {"query": "W\u0000OM"}, 422, "invalid_question"),  # a control character (not echoed back)
    ("/v1/ask", {"question": "Waarom\u001b[31m?"}, 422, "invalid_question"),
    ("/v1/ask", {"question": "\u0000"}, 422, "invalid_question"),  # named, not called empty
    ("/v1/chat/completions", {"model": "vraagbaak", "messages": [{"role": "user", "content": "WOM\u0085?"}]}, 422,
     "invalid_question"),
    ("/v1/chat/completions", {"model": "vraagbaak", "n": 2, "messages": [{"role": "user", "content": QUESTION}]}, 422, "invalid_request"),
    ("/v1/chat/completions", {"model": "vraagbaak", "messages": [{"role": "robot", "content": QUESTION}]}, 422, "invalid_request"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": QUESTION}]}, 404, "model_not_found"),
]


@pytest.mark.parametrize("endpoint,body,status,code", BAD_JSON_BODIES,
                         ids=[f"{e}-{s}-{c}-{i}" for i, (e, _, s, c) in enumerate(BAD_JSON_BODIES)])
def test_bad_input_is_a_clear_4xx(api, endpoint, body, status, code):
    # ASCII JSON (escapes as "\\ud800"): a lone surrogate cannot be encoded as UTF-8, but JSON can carry it
    error = assert_error(api.post(endpoint, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}),
                         status, code)
    if code == "empty_question":  # chat users read it: in their words (tests/test_api_openwebui.py)
        assert ("Typ eerst een vraag" if endpoint == "/v1/chat/completions" else "empty") in error["message"]
    if code == "question_too_long":
        assert "2001" in error["message"] and "2000" in error["message"]
    if body == {"query": QUESTION, "topk": 3}:
        assert "topk" in error["message"]
    if isinstance(body, dict) and body.get("filters") == {"date_from": "2013-13"}:
        # what to send, not the field's regular expression
        assert "YYYY-MM" in error["message"] and "2013-13" in error["message"] and "\\d" not in error["message"]
    if isinstance(body, dict) and body.get("filters") == {"date_to": "2013-02-30"}:
        assert error["message"] == ("filters.date_to: '2013-02-30' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD "
                                    "(a real month and day)")


BAD_RAW_BODIES = [
    # (endpoint, raw body, content type, status, code)
    ("/v1/search", b'{"query": "WOM"', "application/json", 400, "invalid_json"),
    ("/v1/search", b"query=WOM", "application/json", 400, "invalid_json"),
    ("/v1/search", '{"query": "W\u00d6M"}'.encode("latin-1"), "application/json", 400, "invalid_body"),
    ("/v1/search", b'{"query": "\xff\xfe"}', "application/json", 400, "invalid_body"),
    ("/v1/search", b'{"query": "WOM"}', "text/plain", 415, "unsupported_media_type"),
    ("/v1/search", b"", "application/json", 422, "invalid_request"),
    ("/v1/ask", b'{"question": ', "application/json", 400, "invalid_json"),
    ("/v1/chat/completions", b"{'model': 'vraagbaak'}", "application/json", 400, "invalid_json"),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "\xc3\x28"}]}', "application/json", 400, "invalid_body"),
    ("/v1/search", b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", 400, "invalid_body"),
]


@pytest.mark.parametrize("endpoint,raw,content_type,status,code", BAD_RAW_BODIES,
                         ids=[f"{e}-{s}-{c}-{i}" for i, (e, _, _, s, c) in enumerate(BAD_RAW_BODIES)])
def test_unreadable_bodies(api, endpoint, raw, content_type, status, code):
    error = assert_error(api.post(endpoint, content=raw, headers={"content-type": content_type}), status, code)
    if code == "invalid_body":  # says which of the two it was
        assert ("nested too deeply" in error["message"]) == raw.startswith(b'{"query": [[')


# JSON exchanged between systems is UTF-8 (RFC 8259 section 8.1); Python's json.loads(bytes) also reads UTF-16 and
# UTF-32, which FastAPI accepted. With and without a byte-order mark, both byte orders.
OTHER_ENCODINGS = [("/v1/search", {"query": QUESTION}, encoding) for encoding in
                   ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")]
OTHER_ENCODINGS += [("/v1/chat/completions", {"messages": [{"role": "user", "content": QUESTION}]}, "utf-16"),
                    ("/v1/ask", {"question": QUESTION}, "utf-32-be"),
                    ("/v1/feedback", {"answer_id": "a", "rating": "up", "question": QUESTION}, "utf-16-le")]


@pytest.mark.parametrize("endpoint,body,encoding", OTHER_ENCODINGS, ids=[f"{e}-{c}" for e, _, c in OTHER_ENCODINGS])
def test_bodies_in_utf16_or_utf32_are_refused(api, endpoint, body, encoding):
    raw = json.dumps(body, ensure_ascii=False).encode(encoding)
    error = assert_error(api.post(endpoint, content=raw, headers={"content-type": "application/json"}),
                         400, "invalid_body")
    assert f"UTF-{encoding[4:6]}" in error["message"] and "send JSON encoded as UTF-8" in error["message"]


def test_a_body_that_is_not_utf8_says_where(api):
    error = assert_error(api.post("/v1/search", content='{"query": "W\u00d6M"}'.encode("latin-1"),
                                  headers={"content-type": "application/json"}), 400, "invalid_body")
    assert error["message"] == ("the request body is not UTF-8 (byte 0xD6 at position 12); "
                                "send JSON encoded as UTF-8")


def test_utf8_with_a_byte_order_mark_is_still_read(api):
    # RFC 8259 lets a parser ignore a UTF-8 byte-order mark; Windows tools write one.
    response = api.post("/v1/search", content=json.dumps({"query": "Wat is de participatieverklaring?"}).encode("utf-8-sig"),
                        headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json()["results"]


COMPRESSED = [("/v1/ask", {"question": QUESTION}, "gzip", False), ("/v1/ask", {"question": QUESTION}, "gzip", True),
              ("/v1/search", {"query": QUESTION}, "br", False), ("/v1/search", {"query": QUESTION}, "identity, gzip", True),
              ("/v1/chat/completions", {"model": "vraagbaak", "messages": [{"role": "user", "content": QUESTION}]},
               "deflate", False),
              ("/v1/feedback", {"answer_id": "a", "rating": "up", "question": QUESTION}, "GZIP", True)]


@pytest.mark.parametrize("endpoint,body,coding,compressed", COMPRESSED,
                         ids=[f"{e}-{c}-{z}" for e, _, c, z in COMPRESSED])
def test_compressed_bodies_are_refused(api, endpoint, body, coding, compressed):
    # The service does not decode request bodies: a Content-Encoding was ignored (a plain body sent with
    # "gzip" was answered 200), and a body that was really compressed would be read as garbage.
    raw = json.dumps(body).encode()
    raw = gzip.compress(raw) if compressed else raw
    response = api.post(endpoint, content=raw, headers={"content-type": "application/json", "content-encoding": coding})
    error = assert_error(response, 415, "unsupported_content_encoding")
    assert f"'Content-Encoding: {coding}'" in error["message"] and "uncompressed" in error["message"], error
    assert response.headers["accept-encoding"] == "identity"  # RFC 7694: what the server does accept


def test_identity_encoding_and_bodiless_requests_are_read_as_before(api):
    response = api.post("/v1/search", json={"query": QUESTION}, headers={"content-encoding": "identity"})
    assert response.status_code == 200, response.text
    assert api.get("/v1/models", headers={"content-encoding": "gzip"}).status_code == 200  # no body to decode


def test_body_over_the_limit_is_413_declared_or_chunked(api):
    big = b'{"query": "' + b"a" * 1_100_000 + b'"}'
    assert_error(api.post("/v1/search", content=big, headers={"content-type": "application/json"}),
                 413, "body_too_large")

    def chunks():  # no Content-Length: the limit is enforced while reading
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    assert_error(api.post("/v1/search", content=chunks(), headers={"content-type": "application/json"}),
                 413, "body_too_large")


def test_a_model_is_retrieved_as_the_list_gives_it(api):
    # OpenAI's "retrieve model": GET /v1/models/{model} is the list's entry; another id is 404 model_not_found.
    listed = api.get("/v1/models").json()["data"]
    for card in listed:
        response = api.get(f"/v1/models/{card['id']}")
        assert response.status_code == 200 and response.json() == card
    error = assert_error(api.get("/v1/models/gpt-4o"), 404, "model_not_found")
    assert "'gpt-4o'" in error["message"] and all(card["id"] in error["message"] for card in listed)
    assert_error(api.get("/v1/models/vraagbaak%20"), 404, "model_not_found")  # ids are exact
    assert_error(api.post("/v1/models/vraagbaak"), 405, "method_not_allowed")
    # A huge unknown model name is echoed cut at 80 characters plus "…", not in full (a 60 kB message).
    long_name = "x" * 60_000  # httpx refuses URLs over 64 kB
    cut = assert_error(api.get(f"/v1/models/{long_name}"), 404, "model_not_found")["message"]
    assert f"'{'x' * 80}…'" in cut and len(cut) < 300
    chat = api.post("/v1/chat/completions", json={"model": "y" * 100_000, "messages": [{"role": "user", "content": QUESTION}]})
    cut = assert_error(chat, 404, "model_not_found")["message"]
    assert f"{'y' * 80}…" in cut and len(chat.content) < 1000
    spec = api.get("/openapi.json").json()["paths"]["/v1/models/{model}"]["get"]
    assert spec["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ModelCard"}
    assert "404" in spec["responses"]


def test_unknown_route_and_wrong_method(api):
    assert_error(api.get("/v1/nergens"), 404, "not_found")
    assert_error(api.post("/v2/search", json={"query": QUESTION}), 404, "not_found")
    assert_error(api.get("/v1/search"), 405, "method_not_allowed")
    assert_error(api.delete("/v1/documents"), 405, "method_not_allowed")
    assert_error(api.put("/v1/ask", json={"question": QUESTION}), 405, "method_not_allowed")
    # Allow names every method of the path, not only those of the first route that matched it.
    assert api.get("/v1/search").headers["allow"] == "POST"
    assert api.options("/v1/feedback").headers["allow"] == "GET, HEAD, POST"
    # A trailing slash is another path: a 404 in the error shape, no redirect built from the Host header.
    for method, path in (("GET", "/v1/documents/"), ("POST", "/v1/search/"), ("GET", "/healthz/"), ("GET", "/docs/"),
                         ("POST", "/v1/ask/"), ("GET", "//v1/models/")):
        response = api.request(method, path, json={"query": QUESTION} if method == "POST" else None,
                               headers={"Host": "evil.example"})
        assert "location" not in response.headers
        assert_error(response, 404, "not_found")
    for path in ("/", "/docs", "/redoc", "/openapi.json", "/static/index.html", "/healthz", "/v1/documents"):
        assert api.get(path).status_code == 200, path  # the page and the docs are where they were


# ---------------------------------------------------------------- operations


def test_request_id_is_echoed_or_generated(api):
    response = api.get("/healthz", headers={"X-Request-ID": "vb-test-42"})
    assert response.headers["x-request-id"] == "vb-test-42"
    generated = api.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert api.get("/healthz").headers["x-request-id"] != generated
    # An id that could forge a log line is replaced, not echoed.
    forged = api.get("/healthz", headers={"X-Request-ID": "x" * 300})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["x-request-id"])
    error = assert_error(api.post("/v1/search", json={"query": ""}, headers={"X-Request-ID": "vb-err-1"}), 422)
    assert error["request_id"] == "vb-err-1"


def test_metrics_expose_requests_latency_retrieval_and_answer_counters(api):
    api.post("/v1/search", json={"query": QUESTION, "top_k": 1})
    api.post("/v1/search", json={"query": ""})
    response = api.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text

    def value(pattern: str) -> float:
        m = re.search(r"^" + pattern + r" ([0-9.e+-]+)$", text, re.M)
        assert m, f"{pattern} not in /metrics"
        return float(m.group(1))

    assert value(r'vraagbaak_http_requests_total\{method="POST",route="/v1/search",status="200"\}') >= 1
    assert value(r'vraagbaak_http_requests_total\{method="POST",route="/v1/search",status="422"\}') >= 1
    assert value(r'vraagbaak_http_request_duration_seconds_count\{method="POST",route="/v1/search"\}') >= 2
    assert value(r"vraagbaak_retrieval_duration_seconds_count") >= 1
    assert value(r"vraagbaak_ready") == 1
    assert value(r"vraagbaak_index_passages") > 0
    assert value(r'vraagbaak_answer_fallbacks_total\{reason="none"\}') == 0
    assert value(r'vraagbaak_llm_errors_total\{kind="none"\}') == 0
    # the query batcher (VRAAGBAAK_QUERY_BATCH): embeddings and forward passes, embeddings ≥ passes
    assert value(r"vraagbaak_query_embeddings_total") >= value(r"vraagbaak_query_embedding_batches_total") >= 1
    assert value(r"vraagbaak_query_embedding_queue") >= 0
    for name in ("vraagbaak_llm_duration_seconds_count", "vraagbaak_answer_duration_seconds",
                 "vraagbaak_answers_total", "vraagbaak_unsupported_sentences_total",
                 "vraagbaak_http_requests_in_progress", "process_resident_memory_bytes"):
        assert name in text


def test_cors_preflight_and_simple_requests(api, api_server):
    preflight = api.options("/v1/search", headers={
        "Origin": "https://chat.example.nl", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-stainless-lang"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://chat.example.nl"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    simple = api.post("/v1/search", json={"query": QUESTION, "top_k": 1}, headers={"Origin": "https://chat.example.nl"})
    assert simple.headers["access-control-allow-origin"] == "https://chat.example.nl"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    refused = api.options("/v1/search", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert_error(refused, 400, "cors_rejected")
    # Without VRAAGBAAK_CORS_ORIGINS no origin is allowed.
    with httpx.Client(base_url=api_server(), timeout=60) as plain:
        response = plain.post("/v1/search", json={"query": QUESTION, "top_k": 1}, headers={"Origin": "https://chat.example.nl"})
        assert response.status_code == 200 and "access-control-allow-origin" not in response.headers


def test_openapi_docs(api):
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    # offline: every script, style and icon the docs pages load is served here, none from a CDN
    assert api.head("/docs").status_code == 200 and api.head("/redoc").status_code == 200
    for page in (docs, api.get("/redoc")):
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            if asset != "/openapi.json":
                assert api.get(asset).status_code == 200, asset
    spec = api.get("/openapi.json").json()
    for path in ("/v1/search", "/v1/ask", "/v1/chat/completions", "/v1/models", "/v1/documents",
                 "/v1/documents/{doc_id}", "/v1/passages/{passage_id}", "/healthz", "/readyz"):
        assert path in spec["paths"]
    assert "ErrorResponse" in spec["components"]["schemas"]
    # Public operations: the key is optional (an alternative without it); admin ones require it.
    assert spec["paths"]["/v1/search"]["post"]["security"] == [{"HTTPBearer": []}, {}]
    assert spec["paths"]["/v1/feedback"]["get"]["security"] == [{"HTTPBearer": []}]
    schemas = spec["components"]["schemas"]
    query = schemas["SearchRequest"]["properties"]["query"]
    assert query["minLength"] == 1 and query["maxLength"] == 2000
    pattern = re.compile(query["pattern"])  # blank and control characters, as rag.service.validate_query
    assert pattern.search("Waarom?\n") and not pattern.search(" \u200b") and not pattern.search("W\u0000OM")
    date = schemas["SearchFilters"]["properties"]["date_from"]["anyOf"][0]["pattern"]
    assert re.fullmatch(date, "2024-02-29") and not re.fullmatch(date, "0000") and not re.fullmatch(date, "2013-02-29")
    # Chat: every user message is a question; messages holds at least one (api/openapi.py).
    messages = schemas["ChatCompletionRequest"]["properties"]["messages"]
    assert messages["contains"] == {"$ref": "#/components/schemas/UserMessage"}
    content = schemas["UserMessage"]["properties"]["content"]["anyOf"]
    assert content[0]["pattern"] == query["pattern"] and content[0]["maxLength"] == 2000
    assert content[1]["maxContains"] == 1 and "content" in schemas["UserMessage"]["required"]
    offset = next(p for p in spec["paths"]["/v1/feedback"]["get"]["parameters"] if p["name"] == "offset")
    assert offset["schema"]["maximum"] == 2**63 - 1


def test_openapi_requires_keys_when_the_setting_says_so(api_server):
    with httpx.Client(base_url=api_server(api_keys=("k",), require_api_key=True), timeout=60) as client:
        spec = client.get("/openapi.json").json()
    assert spec["paths"]["/v1/search"]["post"]["security"] == [{"HTTPBearer": []}]


def test_feedback_offset_beyond_sqlite_is_a_422_not_a_500(api_server, tmp_path):
    url = api_server(api_keys=("k",), feedback_db=tmp_path / "feedback.sqlite3")
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": "Bearer k"}) as client:
        assert_error(client.get("/v1/feedback", params={"offset": "21275862269088518144", "limit": 971}),
                     422, "invalid_request")
        assert client.get("/v1/feedback", params={"offset": 2**63 - 1}).json()["items"] == []


# ---------------------------------------------------------------- API keys


def test_admin_endpoints_are_off_without_keys(api):
    assert_error(api.post("/v1/admin/reindex"), 403, "admin_disabled")
    # The key is checked before the body is read: a broken body does not tell a client without one anything.
    for raw in (b'{"force": ', b"null", b'{"forse": true}'):
        assert_error(api.post("/v1/admin/reindex", content=raw, headers={"content-type": "application/json"}),
                     403, "admin_disabled")
    assert_error(api.get("/v1/admin/reindex"), 403, "admin_disabled")
    assert_error(api.get("/v1/feedback", headers={"Authorization": "Bearer iets"}), 403, "admin_disabled")


def test_keys_guard_admin_and_leave_public_open(api_server):
    with httpx.Client(base_url=api_server(api_keys=("sleutel-1", "sleutel-2")), timeout=60) as client:
        assert client.post("/v1/search", json={"query": QUESTION, "top_k": 1}).status_code == 200
        missing = client.get("/v1/feedback")
        assert_error(missing, 401, "unauthorized")
        assert missing.headers["www-authenticate"] == "Bearer"
        assert_error(client.get("/v1/feedback", headers={"Authorization": "Bearer fout"}), 401, "unauthorized")
        assert_error(client.get("/v1/feedback", headers={"Authorization": "Basic c2xldXRlbC0xOg=="}), 401, "unauthorized")
        assert_error(client.post("/v1/admin/reindex", content=b'{"force": ',  # the key before the body
                                 headers={"content-type": "application/json"}), 401, "unauthorized")
        assert client.get("/v1/feedback", headers={"Authorization": "Bearer sleutel-2"}).status_code == 200
        status = client.get("/v1/admin/reindex", headers={"Authorization": "Bearer sleutel-1"})
        assert status.status_code == 200 and status.json()["state"] in ("idle", "succeeded")


def test_public_endpoints_need_a_key_when_required(api_server):
    with httpx.Client(base_url=api_server(api_keys=("sleutel-1",), require_api_key=True), timeout=60) as client:
        auth = {"Authorization": "Bearer sleutel-1"}
        for method, path, body in (("POST", "/v1/search", {"query": QUESTION}), ("GET", "/v1/documents", None),
                                   ("GET", "/v1/models", None), ("GET", "/v1/models/vraagbaak", None),
                                   ("GET", "/metrics", None),
                                   ("POST", "/v1/ask", {"question": QUESTION}),
                                   ("POST", "/v1/chat/completions", {"model": "vraagbaak", "messages": []})):
            assert_error(client.request(method, path, json=body), 401, "unauthorized")
            if method == "POST":  # the key is checked before the body is read
                assert_error(client.post(path, content=b'{"query": ', headers={"content-type": "application/json"}),
                             401, "unauthorized")
        assert client.post("/v1/search", json={"query": QUESTION, "top_k": 1}, headers=auth).status_code == 200
        assert client.get("/v1/models", headers=auth).status_code == 200
        assert client.get("/metrics", headers=auth).status_code == 200
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200


def test_required_keys_without_keys_is_a_configuration_error(settings):

    from api.app import create_app

    with pytest.raises(ValueError, match="VRAAGBAAK_API_KEYS"):
        create_app(settings.replace(require_api_key=True, api_keys=()))


# ---------------------------------------------------------------- reindex


def test_reindex_rebuilds_and_swaps_atomically(api_server):
    auth = {"Authorization": "Bearer beheer"}
    with httpx.Client(base_url=api_server(api_keys=("beheer",)), timeout=300, headers=auth) as client:
        before = client.get("/readyz").json()["index"]
        started = client.post("/v1/admin/reindex", json={"force": True})
        assert started.status_code == 202 and started.json()["state"] == "running"
        assert_error(client.post("/v1/admin/reindex", json={"force": True}), 409, "reindex_running")
        # Searches keep working during the rebuild.
        assert client.post("/v1/search", json={"query": QUESTION, "top_k": 1}).status_code == 200
        deadline = time.monotonic() + 240
        while (state := client.get("/v1/admin/reindex").json())["state"] == "running":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert state["state"] == "succeeded", state
        assert state["status"] == "built" and state["swapped"] is True and state["passages"] > 0
        after = client.get("/readyz").json()
        assert after["index"] != before and after["passages"] == state["passages"]
        hit = client.post("/v1/search", json={"query": QUESTION, "top_k": 1}).json()["results"][0]
        assert client.get("/v1/passages/" + quote(hit["id"], safe="")).status_code == 200

        unchanged = client.post("/v1/admin/reindex", json={"wait": True})
        assert unchanged.status_code == 200
        assert unchanged.json()["state"] == "succeeded" and unchanged.json()["status"] == "up-to-date"
        assert unchanged.json()["swapped"] is False
        assert_error(client.post("/v1/admin/reindex", json={"wait": True, "forse": True}), 422, "invalid_request")
        # The body is optional (the document: anyOf [ReindexRequest, null]): null is no options, as no body is.
        nothing = client.post("/v1/admin/reindex", content=b"null", headers={"content-type": "application/json"})
        assert nothing.status_code == 202 and nothing.json()["force"] is False, nothing.text
        while (state := client.get("/v1/admin/reindex").json())["state"] == "running":
            time.sleep(0.2)
        assert state["status"] == "up-to-date", state
        body = client.get("/openapi.json").json()["paths"]["/v1/admin/reindex"]["post"]["requestBody"]
        assert not body.get("required") and {"type": "null"} in body["content"]["application/json"]["schema"]["anyOf"]
        assert_error(client.post("/v1/admin/reindex", content=b'{"wait": ', headers={"content-type": "application/json"}),
                     400, "invalid_json")  # with a key, the body's own error


# ---------------------------------------------------------------- internal errors


def test_an_internal_error_is_a_500_in_the_error_shape(service, settings, serve_app):
    """A fault inside the service: 500 with code 'internal' and the request id, no traceback; the
    server keeps serving."""

    from api.app import create_app

    class BrokenSearch:
        def __getattr__(self, name):
            return getattr(service, name)

        def search(self, *args, **kwargs):
            raise RuntimeError("simulated fault in retrieval")

    url = serve_app(create_app(settings.replace(llm_base_url=""), service=BrokenSearch()))
    with httpx.Client(base_url=url, timeout=60) as client:
        response = client.post("/v1/search", json={"query": QUESTION}, headers={"X-Request-ID": "fout-1"})
        error = assert_error(response, 500, "internal")
        assert "fout-1" in error["message"] and "simulated" not in response.text
        assert client.get("/v1/documents").status_code == 200
        metrics = client.get("/metrics").text
        assert 'vraagbaak_http_requests_total{method="POST",route="/v1/search",status="500"} 1.0' in metrics


def test_a_client_gone_mid_body_is_not_a_server_error(api_server):
    """Content-Length promises more than arrives, then the socket closes: no 500 in the metrics."""
    import socket
    from urllib.parse import urlparse

    url = api_server()
    parts = urlparse(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n"
                  b'{"question": "W')
    time.sleep(1.0)
    metrics = httpx.get(url + "/metrics", timeout=30).text
    assert not re.search(r'vraagbaak_http_requests_total\{method="POST",route="/v1/ask",status="5\d\d"\}', metrics)
