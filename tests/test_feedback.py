"""Feedback on answers: the SQLite store (rag/feedback/sqlite_store.py) on real files, and POST/GET /v1/feedback
against a real running server with the real model and index.

Store: schema versions and migrations (also a failed one, and a file from a newer version), writers in
many threads and in several processes at once, a writer killed mid-way (what it acknowledged is on
disk), and CSV that a spreadsheet cannot run. HTTP: no key needed to send, a key to list, CSV export,
bad input answered with 422 in the one error shape, a restart of the server, an unusable database."""

from __future__ import annotations

import csv
import json
import io
import os
import re
import signal
import sqlite3
import threading
import time

import httpx
import pytest

from api.ratelimit import RateLimiter
from rag.feedback import FeedbackStoreError, NewFeedback
from rag.feedback.sqlite_store import MIGRATIONS, SqliteFeedbackStore

from feedback_writers import write_at_once, writer  # tests/feedback_writers.py

QUESTION = "Waarom is het overleg met minderhedenorganisaties gestopt?"
KEY = "beheer-sleutel"
AUTH = {"Authorization": f"Bearer {KEY}"}


def item(n: int = 0, **fields) -> NewFeedback:
    values = {"answer_id": f"antwoord{n:04d}", "rating": "up" if n % 2 == 0 else "down",
              "question": f"Vraag {n}?", "comment": f"opmerking {n}", "answer": f"Antwoord {n}. [1]",
              "passage_ids": (f"doc#{n:010d}",), "mode": "extractive", "language": "nl", "abstained": False}
    return NewFeedback(**{**values, **fields})


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def columns(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute("PRAGMA table_info(feedback)")]


# ---------------------------------------------------------------- the store


def test_store_creates_its_schema_on_first_write_only(tmp_path):
    path = tmp_path / "sub" / "feedback.sqlite3"
    store = SqliteFeedbackStore(path)
    assert store.count() == 0 and store.page() == [] and list(store.csv_lines())[1:] == []
    assert not path.exists() and not path.parent.exists()  # reading creates nothing

    stored = store.add(item(1, comment="  Duidelijk, dank u.  "))
    assert stored.id == 1 and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stored.created_at)
    assert path.exists() and user_version(path) == len(MIGRATIONS) == store.schema_version
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    again = SqliteFeedbackStore(path)  # another process, or the next start: nothing is re-created
    assert again.migrate() == len(MIGRATIONS)
    [row] = again.page()
    assert row == stored
    assert row.to_dict()["passage_ids"] == ["doc#0000000001"] and row.abstained is False


def test_a_new_migration_upgrades_an_old_file_and_keeps_its_rows(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    old = SqliteFeedbackStore(path)
    for n in range(3):
        old.add(item(n))
    assert user_version(path) == 1

    newer = SqliteFeedbackStore(path, migrations=MIGRATIONS + (
        ("ALTER TABLE feedback ADD COLUMN channel TEXT NOT NULL DEFAULT 'web'",),))
    assert newer.migrate() == 2
    assert user_version(path) == 2 and "channel" in columns(path)
    assert [r.answer_id for r in newer.rows()] == ["antwoord0000", "antwoord0001", "antwoord0002"]
    newer.add(item(3))
    assert newer.count() == 4

    # The older code refuses a file from the newer one instead of writing into a schema it does not know.
    with pytest.raises(FeedbackStoreError, match="schema version 2, newer"):
        SqliteFeedbackStore(path).add(item(4))
    assert newer.count() == 4


def test_a_failing_migration_changes_nothing(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    SqliteFeedbackStore(path).add(item(1))
    broken = SqliteFeedbackStore(path, migrations=MIGRATIONS + (
        ("ALTER TABLE feedback ADD COLUMN channel TEXT", "ALTER TABLE nergens ADD COLUMN x TEXT"),))
    with pytest.raises(FeedbackStoreError, match="nergens"):
        broken.migrate()
    assert user_version(path) == 1 and "channel" not in columns(path)  # the first statement was rolled back too
    assert SqliteFeedbackStore(path).count() == 1


def test_an_unusable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "geen-map"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(FeedbackStoreError, match="geen-map"):
        SqliteFeedbackStore(blocker / "feedback.sqlite3").add(item(1))


def test_rating_must_be_up_or_down():
    with pytest.raises(ValueError, match="rating"):
        item(1, rating="meh")


def test_new_file_opened_by_many_at_once(tmp_path):
    """Cold opens racing on a new file (the switch to WAL, the first migration) all succeed: SQLite
    reports some of these lock conflicts at once instead of waiting; the store retries them."""
    for round_ in range(40):
        path = tmp_path / f"koud-{round_}.sqlite3"
        start, errors = threading.Barrier(8), []

        def first_write(t: int) -> None:
            store = SqliteFeedbackStore(path)
            start.wait()
            try:
                store.add(item(t))
            except Exception as exc:  # noqa: BLE001 — collected and asserted below
                errors.append(exc)

        workers = [threading.Thread(target=first_write, args=(t,)) for t in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        assert errors == [] and SqliteFeedbackStore(path).count() == 8 and user_version(path) == len(MIGRATIONS)


def test_many_threads_write_at_once_and_nothing_is_lost(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    shared = SqliteFeedbackStore(path)  # one store shared by half the threads; the others open their own
    threads, per_thread, errors, ids = 8, 25, [], []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def write(t: int) -> None:
        store = shared if t % 2 else SqliteFeedbackStore(path)
        start.wait()
        for i in range(per_thread):
            try:
                stored = store.add(item(t * 1000 + i))
                with lock:
                    ids.append(stored.id)
            except Exception as exc:  # noqa: BLE001 — collected and asserted below
                errors.append(exc)

    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert errors == []
    assert len(ids) == len(set(ids)) == threads * per_thread
    rows = list(SqliteFeedbackStore(path).rows())
    assert len(rows) == threads * per_thread
    assert {r.answer_id for r in rows} == {f"antwoord{t * 1000 + i:04d}" for t in range(threads) for i in range(per_thread)}


def test_several_processes_write_at_once(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    written = write_at_once(path, processes=3, count=40)
    rows = list(SqliteFeedbackStore(path).rows())
    assert len(rows) == 120 and len({r.id for r in rows}) == 120
    assert sorted(r.answer_id for r in rows) == sorted(written)


def test_what_a_killed_writer_acknowledged_is_on_disk(tmp_path):
    """SIGKILL in the middle of a stream of inserts: every insert that returned is there after a
    'restart' (a new store on the same file), and the file is intact."""
    path = tmp_path / "feedback.sqlite3"
    proc = writer(path, "kill", 100_000)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    acknowledged = [int(proc.stdout.readline()) for _ in range(50)]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    proc.stdout.close()
    proc.stderr.close()
    proc.stdin.close()

    store = SqliteFeedbackStore(path)
    stored = {r.id for r in store.rows()}
    assert set(acknowledged) <= stored
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.add(item(1))  # and it takes new writes
    assert store.count() == len(stored) + 1


def test_csv_is_rfc4180_and_safe_to_open_in_a_spreadsheet(tmp_path):
    store = SqliteFeedbackStore(tmp_path / "feedback.sqlite3")
    tricky = 'Klopt niet, "helemaal" niet;\nzie vraag 3 — één ding'
    store.add(item(1, rating="up", comment=tricky, passage_ids=("a#1", "b#2")))
    store.add(item(2, comment="=HYPERLINK(\"http://x\")", question="+31 6 vraag?", abstained=None, mode=None))
    store.add(item(3, rating="down", comment="@SUM(1)"))
    text = "".join(store.csv_lines())
    assert text.startswith("\ufeffid,") and text.endswith("\r\n")  # BOM: Excel then reads UTF-8
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r["id"] for r in rows] == ["1", "2", "3"]  # oldest first
    assert rows[0]["comment"] == tricky and rows[0]["passage_ids"] == "a#1 b#2" and rows[0]["abstained"] == "false"
    assert rows[1]["comment"].startswith("'=") and rows[1]["question"].startswith("'+")
    assert rows[1]["abstained"] == "" and rows[1]["mode"] == ""
    assert rows[2]["comment"] == "'@SUM(1)"
    only_down = list(csv.DictReader(io.StringIO("".join(store.csv_lines(rating="down")).removeprefix("\ufeff"))))
    assert [r["id"] for r in only_down] == ["3"]


# ---------------------------------------------------------------- over HTTP


@pytest.fixture(scope="module")
def feedback_db(tmp_path_factory):
    return tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"


@pytest.fixture(scope="module")
def client(api_server, feedback_db):
    """A real server with an admin key and its own feedback database. Its tests play many citizens
    from one address, so the per-address limit is out of their way (tested on its own below)."""
    with httpx.Client(base_url=api_server(api_keys=(KEY,), feedback_db=feedback_db, feedback_per_minute=1000),
                      timeout=120) as c:
        yield c


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == code and body["error"]["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body["error"]


def asked(client: httpx.Client, question: str = QUESTION) -> dict:
    response = client.post("/v1/ask", json={"question": question})
    assert response.status_code == 200, response.text
    return response.json()


def feedback_for(answer: dict, **fields) -> dict:
    return {"answer_id": answer["answer_id"], "rating": "up", "question": answer["question"],
            "answer": answer["answer"], "passage_ids": [c["id"] for c in answer["citations"]],
            "mode": answer["mode_used"], "language": answer["language"], "abstained": answer["abstained"], **fields}


def test_every_answer_has_its_own_id(client):
    first, second = asked(client), asked(client)
    assert re.fullmatch(r"[0-9a-f]{32}", first["answer_id"]) and first["answer_id"] != second["answer_id"]
    with client.stream("POST", "/v1/ask", json={"question": QUESTION, "stream": True}) as response:
        done = [line for line in response.iter_lines() if line.startswith("data:")][-1]
    assert re.search(r'"answer_id": "[0-9a-f]{32}"', done)


def test_a_citizen_sends_feedback_without_a_key_and_an_admin_reads_it(client):
    answer = asked(client)
    body = feedback_for(answer, rating="down", comment="  Ik mis waarom de wet is ingetrokken.  ")
    sent = client.post("/v1/feedback", json=body, headers={"X-Request-ID": "fb-1"})
    assert sent.status_code == 201, sent.text
    created = sent.json()
    assert set(created) == {"id", "created_at", "answer_id"} and created["answer_id"] == answer["answer_id"]

    assert_error(client.get("/v1/feedback"), 401, "unauthorized")
    assert_error(client.get("/v1/feedback", headers={"Authorization": "Bearer fout"}), 401, "unauthorized")
    listing = client.get("/v1/feedback", headers=AUTH)
    assert listing.status_code == 200, listing.text
    page = listing.json()
    assert set(page) == {"count", "limit", "offset", "items"} and page["count"] >= 1
    [row] = [r for r in page["items"] if r["id"] == created["id"]]
    assert row == {"id": created["id"], "created_at": created["created_at"], "answer_id": answer["answer_id"],
                   "rating": "down", "comment": "Ik mis waarom de wet is ingetrokken.", "question": QUESTION,
                   "answer": answer["answer"], "passage_ids": [c["id"] for c in answer["citations"]],
                   "mode": "extractive", "language": "nl", "abstained": False, "request_id": "fb-1"}


def test_listing_pages_newest_first_and_filters(client):
    answer = asked(client)
    ids = [client.post("/v1/feedback", json=feedback_for(answer, rating=r)).json()["id"] for r in ("up", "down", "up")]
    everything = client.get("/v1/feedback", headers=AUTH).json()
    assert [r["id"] for r in everything["items"]][:3] == ids[::-1]
    assert everything["count"] == len(everything["items"])
    first = client.get("/v1/feedback", params={"limit": 2}, headers=AUTH).json()
    second = client.get("/v1/feedback", params={"limit": 2, "offset": 2}, headers=AUTH).json()
    assert [r["id"] for r in first["items"]] == ids[::-1][:2] and second["items"][0]["id"] == ids[0]
    assert first["count"] == everything["count"] and first["limit"] == 2 and second["offset"] == 2
    downs = client.get("/v1/feedback", params={"rating": "down"}, headers=AUTH).json()
    assert downs["items"] and {r["rating"] for r in downs["items"]} == {"down"} and downs["count"] < everything["count"]
    assert_error(client.get("/v1/feedback", params={"limit": 0}, headers=AUTH), 422, "invalid_request")
    assert_error(client.get("/v1/feedback", params={"rating": "meh"}, headers=AUTH), 422, "invalid_request")
    assert_error(client.get("/v1/feedback", params={"format": "xml"}, headers=AUTH), 422, "invalid_request")


def test_csv_export_over_http(client):
    answer = asked(client)
    client.post("/v1/feedback", json=feedback_for(answer, comment="=1+1, “komma”"))
    for response in (client.get("/v1/feedback", params={"format": "csv"}, headers=AUTH),
                     client.get("/v1/feedback", headers={**AUTH, "Accept": "text/csv"})):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert re.fullmatch(r'attachment; filename="vraagbaak-feedback-\d{8}-\d{6}\.csv"',
                            response.headers["content-disposition"])
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        total = client.get("/v1/feedback", headers=AUTH).json()["count"]
        assert len(rows) == total and [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
        assert rows[-1]["comment"] == "'=1+1, “komma”" and rows[-1]["answer_id"] == answer["answer_id"]
        assert rows[-1]["passage_ids"].split(" ") == [c["id"] for c in answer["citations"]]
    # JSON stays the default; an explicit format wins over Accept.
    assert client.get("/v1/feedback", headers={**AUTH, "Accept": "application/json, text/csv"}).json()["items"]
    assert client.get("/v1/feedback", params={"format": "json"}, headers={**AUTH, "Accept": "text/csv"}).json()["items"]
    assert_error(client.get("/v1/feedback", params={"format": "csv"}), 401, "unauthorized")


GOOD = {"answer_id": "0123456789abcdef0123456789abcdef", "rating": "up", "question": QUESTION}
BAD_FEEDBACK = [
    # (body, words the message must contain)
    ({**GOOD, "rating": "meh"}, "rating"),
    ({**GOOD, "rating": None}, "rating"),
    ({k: v for k, v in GOOD.items() if k != "rating"}, "'rating' is required"),
    ({k: v for k, v in GOOD.items() if k != "answer_id"}, "'answer_id' is required"),
    ({k: v for k, v in GOOD.items() if k != "question"}, "'question' is required"),
    ({**GOOD, "answer_id": "kort"}, "answer_id"),
    ({**GOOD, "answer_id": "<script>alert(1)</script>"}, "answer_id"),
    ({**GOOD, "question": ""}, "question"),
    ({**GOOD, "question": "   "}, "question"),
    ({**GOOD, "comment": "x" * 2001}, "comment: String should have at most 2000 characters"),
    # Control characters are refused as in a question asked, not stored raw (in SQLite, in the CSV export).
    ({**GOOD, "question": "Waarom\u0000?"}, "question: the question holds a control character at position 6 (U+0000)"),
    ({**GOOD, "comment": "rood\u001b[31m"}, "comment: the comment holds a control character at position 4 (U+001B)"),
    ({**GOOD, "comment": "ok\u0085"}, "(U+0085); remove it"),
    ({**GOOD, "answer": "Omdat\u0007 de wet"}, "answer: the answer holds a control character at position 5 (U+0007)"),
    ({**GOOD, "answer": "De WOM\u000c is ingetrokken."}, "answer: the answer holds a control character at position 6"),
    ({**GOOD, "passage_ids": ["a"] * 51}, "passage_ids"),
    ({**GOOD, "passage_ids": [""]}, "passage_ids.0"),
    ({**GOOD, "passage_ids": ["a\u0000b"]}, "passage_ids.0: the passage id holds a control character at position 1 (U+0000)"),
    ({**GOOD, "passage_ids": ["kst-1#a", "kst-1\u001b[31m"]}, "passage_ids.1: the passage id holds a control character"),
    ({**GOOD, "mode": "creatief"}, "mode"),
    ({**GOOD, "language": "nederlands"}, "language"),
    ({**GOOD, "stars": 5}, "unknown field 'stars'"),
    ([GOOD], "body"),
]


@pytest.mark.parametrize("body,words", BAD_FEEDBACK, ids=[w.split(":")[0][:30] + f"-{i}" for i, (_, w) in enumerate(BAD_FEEDBACK)])
def test_bad_feedback_is_a_clear_422(client, body, words):
    error = assert_error(client.post("/v1/feedback", json=body), 422, "invalid_request")
    assert words in error["message"]


def test_unreadable_feedback_bodies(client):
    assert_error(client.post("/v1/feedback", content=b'{"rating": ', headers={"content-type": "application/json"}),
                 400, "invalid_json")
    assert_error(client.post("/v1/feedback", content=b"rating=up", headers={"content-type": "text/plain"}),
                 415, "unsupported_media_type")
    before = client.get("/v1/feedback", headers=AUTH).json()["count"]
    for field in ("question", "comment", "answer", "passage_ids"):  # a lone surrogate, as in a question: 422, nothing stored
        value = "Waarom \udfff?"
        raw = json.dumps({**GOOD, field: [value] if field == "passage_ids" else value}).encode()
        error = assert_error(client.post("/v1/feedback", content=raw, headers={"content-type": "application/json"}),
                             422, "invalid_request")
        where = f"{field}.0" if field == "passage_ids" else field
        assert error["message"].startswith(f"{where}: "), error
    assert client.get("/v1/feedback", headers=AUTH).json()["count"] == before
    assert client.post("/v1/feedback", json=GOOD).status_code == 201  # the minimum
    # tab, line feed and carriage return are text (an answer's lines), as in a question
    assert client.post("/v1/feedback", json={**GOOD, "answer": "Omdat het overleg stopte [1].\r\n\tBronnen"}).status_code == 201
    assert client.get("/v1/feedback", headers=AUTH).json()["count"] == before + 2


def test_feedback_needs_a_key_only_when_keys_are_required(api_server, tmp_path):
    url = api_server(api_keys=(KEY,), require_api_key=True, feedback_db=tmp_path / "fb.sqlite3")
    with httpx.Client(base_url=url, timeout=60) as strict:
        assert_error(strict.post("/v1/feedback", json=GOOD), 401, "unauthorized")
        assert strict.post("/v1/feedback", json=GOOD, headers=AUTH).status_code == 201


def test_admin_listing_is_off_without_keys(api_server, tmp_path):
    with httpx.Client(base_url=api_server(feedback_db=tmp_path / "fb.sqlite3"), timeout=60) as open_server:
        assert open_server.post("/v1/feedback", json=GOOD).status_code == 201
        assert_error(open_server.get("/v1/feedback", headers=AUTH), 403, "admin_disabled")


def test_feedback_survives_a_server_restart(service, settings, tmp_path):
    """Stop the server, start a new one (a new app and store) on the same file: the rows are there."""

    from live_server import ApiServer

    from api.app import create_app

    configured = settings.replace(llm_base_url="", api_keys=(KEY,), feedback_db=tmp_path / "fb.sqlite3")
    first = ApiServer(create_app(configured, service=service)).start()
    try:
        with httpx.Client(base_url=first.url, timeout=60) as c:
            answer = asked(c)
            sent = [c.post("/v1/feedback", json=feedback_for(answer, comment=f"nummer {i}")).json()["id"] for i in range(5)]
    finally:
        first.stop()
    second = ApiServer(create_app(configured, service=service)).start()
    try:
        with httpx.Client(base_url=second.url, timeout=60) as c:
            items = c.get("/v1/feedback", headers=AUTH).json()["items"]
            assert sorted(r["id"] for r in items) == sorted(sent)
            assert {r["comment"] for r in items} == {f"nummer {i}" for i in range(5)}
    finally:
        second.stop()


def test_an_unusable_database_is_a_503_that_leaks_nothing_to_citizens(api_server, tmp_path):
    blocker = tmp_path / "bestand"
    blocker.write_text("not a folder")
    url = api_server(api_keys=(KEY,), feedback_db=blocker / "feedback.sqlite3")
    with httpx.Client(base_url=url, timeout=60) as c:
        error = assert_error(c.post("/v1/feedback", json=GOOD), 503, "feedback_unavailable")
        assert "bestand" not in error["message"] and "try again" in error["message"]
        assert c.get("/v1/feedback", headers=AUTH).json()["count"] == 0  # nothing stored, nothing to list
        assert c.post("/v1/ask", json={"question": QUESTION}).status_code == 200  # the rest works on


def test_many_citizens_send_feedback_at_once(client):
    before = client.get("/v1/feedback", headers=AUTH).json()["count"]
    results: list[int] = []

    def send(n: int) -> None:
        with httpx.Client(base_url=client.base_url, timeout=60) as own:
            for i in range(10):
                results.append(own.post("/v1/feedback", json={**GOOD, "comment": f"{n}-{i}"}).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [201] * 60, results
    assert client.get("/v1/feedback", headers=AUTH).json()["count"] == before + 60
    assert time.monotonic() - started < 60


def test_rate_limiter_allows_a_burst_then_refills_evenly():
    now = [0.0]
    limiter = RateLimiter(per_minute=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("a") == pytest.approx(20.0)  # one token per 20 s
    assert limiter.take("b") == 0  # per address
    now[0] = 20.0
    assert limiter.take("a") == 0 and limiter.take("a") > 0


def test_too_much_feedback_from_one_address_is_a_429_and_nothing_is_stored(api_server, tmp_path):
    url = api_server(api_keys=(KEY,), feedback_db=tmp_path / "fb.sqlite3", feedback_per_minute=3)
    with httpx.Client(base_url=url, timeout=60) as c:
        assert [c.post("/v1/feedback", json=GOOD).status_code for _ in range(3)] == [201] * 3
        limited = c.post("/v1/feedback", json=GOOD)
        error = assert_error(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["retry-after"]) <= 20 and "try again" in error["message"]
        assert c.get("/v1/feedback", headers=AUTH).json()["count"] == 3
        assert c.post("/v1/search", json={"query": "inburgering"}).status_code == 200  # only feedback is limited


def test_only_valid_feedback_counts_towards_the_limit(api_server, tmp_path):
    # A client fixing its requests sees their real errors, not a 429 earned by its earlier mistakes.
    url = api_server(api_keys=(KEY,), feedback_db=tmp_path / "fb.sqlite3", feedback_per_minute=3)
    json_type = {"content-type": "application/json"}
    with httpx.Client(base_url=url, timeout=60) as c:
        for _ in range(10):
            assert_error(c.post("/v1/feedback", json={**GOOD, "rating": "meh"}), 422, "invalid_request")
            assert_error(c.post("/v1/feedback", content=b"rating=up", headers={"content-type": "text/plain"}),
                         415, "unsupported_media_type")
            assert_error(c.post("/v1/feedback", content=b'{"rating": ', headers=json_type), 400, "invalid_json")
        assert [c.post("/v1/feedback", json=GOOD).status_code for _ in range(3)] == [201] * 3
        assert_error(c.post("/v1/feedback", json={**GOOD, "passage_ids": [""]}), 422, "invalid_request")
        assert_error(c.post("/v1/feedback", json=GOOD), 429, "rate_limited")  # a flood of valid feedback still is
        assert c.get("/v1/feedback", headers=AUTH).json()["count"] == 3
