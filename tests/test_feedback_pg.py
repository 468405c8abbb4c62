"""Feedback in PostgreSQL (rag/feedback/pg_store.py) on a real server: the same schema and migrations as the
SQLite store, writers in two processes at once, a newer schema refused, and the API writing there
when VRAAGBAAK_DATABASE_URL is set."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from rag.feedback import FeedbackStoreError, NewFeedback, open_feedback_store
from rag.feedback.pg_store import MIGRATIONS, PostgresFeedbackStore

from feedback_writers import write_at_once  # tests/feedback_writers.py


def test_same_columns_as_sqlite_and_one_migration_run(pg_database, tmp_path):
    url = pg_database()
    store = PostgresFeedbackStore(url)
    assert store.count() == 0  # the first use creates the schema
    with psycopg.connect(url) as conn:
        pg_columns = [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                                 "WHERE table_name = 'feedback' ORDER BY ordinal_position")]
        assert conn.execute("SELECT version FROM vraagbaak_schema WHERE component = 'feedback'").fetchone() == (1,)
    sqlite = open_feedback_store(type("S", (), {"database_url": "", "feedback_path": tmp_path / "f.sqlite3"})())
    sqlite.add(NewFeedback(answer_id="a", rating="up", question="Vraag?"))
    import sqlite3

    with sqlite3.connect(tmp_path / "f.sqlite3") as conn:
        assert pg_columns == [r[1] for r in conn.execute("PRAGMA table_info(feedback)")]
    assert PostgresFeedbackStore(url).migrate() == len(MIGRATIONS)  # again: nothing to do, no error


def test_round_trip_paging_and_csv(pg_database):
    store = PostgresFeedbackStore(pg_database())
    stored = [store.add(NewFeedback(answer_id=f"a{i}", rating="up" if i % 2 else "down", question=f"Vraag {i}?",
                                    comment="=SOM(A1)" if i == 0 else "é", passage_ids=(f"d#{i}",), abstained=i == 1))
              for i in range(5)]
    assert [r.id for r in store.page(limit=2, offset=1)] == [stored[3].id, stored[2].id]
    assert store.count("down") == 3 and store.count() == 5
    assert list(store.rows()) == stored
    csv_text = "".join(store.csv_lines())
    assert csv_text.startswith("\ufeffid,created_at") and "'=SOM(A1)" in csv_text


def test_two_processes_write_at_once(pg_database):
    url = pg_database()
    written = write_at_once(url, processes=2, count=40)
    rows = list(PostgresFeedbackStore(url).rows())
    assert len(rows) == 80 and len({r.id for r in rows}) == 80
    assert sorted(r.answer_id for r in rows) == sorted(written)


def test_a_newer_schema_is_refused(pg_database):
    url = pg_database()
    PostgresFeedbackStore(url, migrations=MIGRATIONS + (("ALTER TABLE feedback ADD COLUMN extra text",),)).migrate()
    with pytest.raises(FeedbackStoreError, match="newer than this Vraagbaak"):
        PostgresFeedbackStore(url).count()


def test_the_api_writes_to_the_database(pg_database, service, settings, serve_app):
    from api.app import create_app

    url = pg_database()
    app = create_app(settings.replace(database_url=url, api_keys=("k",), llm_base_url=""), service=service)
    base = serve_app(app)
    r = httpx.post(f"{base}/v1/feedback", json={"answer_id": "antwoord0001", "rating": "down",
                                                "question": "Vraag?"}, timeout=30)
    assert r.status_code == 201, r.text
    assert [f.answer_id for f in PostgresFeedbackStore(url).rows()] == ["antwoord0001"]
    listing = httpx.get(f"{base}/v1/feedback", headers={"Authorization": "Bearer k"}, timeout=30).json()
    assert listing["count"] == 1
