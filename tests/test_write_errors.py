"""A full disk while writing the index (issue 23): one line naming the cause and the folder, in the
CLI, the reindex status and the log; never a traceback; the old index stays in use.

On a real full file system: a small tmpfs mounted for the test (root with CAP_SYS_ADMIN; skipped
with the reason elsewhere). No monkeypatching: the writes fail the way they fail in production.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest

from embeddings.write_errors import IndexWriteError, describe


def _fill(folder: Path) -> None:
    """Write zeros into ``folder`` until its file system is full (unbuffered: every byte that fits is in)."""
    with open(folder / "filler", "wb", buffering=0) as fh:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC


@pytest.fixture
def tmpfs():
    """``tmpfs(size)`` mounts a tmpfs of ``size`` (e.g. "1m") and returns it (in a folder other users
    can reach: the PostgreSQL server runs as its own user)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if shutil.which("mount") is None or os.geteuid() != 0:
            pytest.skip("a full file system for this test is a small tmpfs, and mounting one needs root")
        where = Path(tempfile.mkdtemp(prefix="vraagbaak-fullfs-"))
        where.chmod(0o755)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"mounting a tmpfs is not allowed here (needs CAP_SYS_ADMIN): {proc.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        shutil.rmtree(where, ignore_errors=True)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("vraagbaak: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_index_on_a_too_small_disk_names_the_cause_and_the_folder(tmpfs, run_cli):
    """The real corpus (~10 MB of index) into 1 MB: no traceback, one line, nothing half-written left."""
    index_dir = tmpfs("1m") / "index"
    proc = run_cli("index", env={"VRAAGBAAK_INDEX_DIR": str(index_dir)})
    assert proc.returncode == 1
    assert _one_line(proc.stderr) == (f"vraagbaak: error: no space left on device while writing the index to "
                                      f"{index_dir}: free space or set VRAAGBAAK_INDEX_DIR")
    assert not (index_dir / "current").exists()
    assert list((index_dir / "builds").iterdir()) == []  # the partial build was removed


def test_a_full_disk_keeps_the_old_index(tmpfs, small_corpus, run_cli):
    from rag.config import load_settings
    from rag.ingest.build import expected_manifest
    from rag.search.stores.faiss_store import load_index

    fs = tmpfs("1m")
    env = {"VRAAGBAAK_CORPUS_DIR": str(small_corpus), "VRAAGBAAK_INDEX_DIR": str(fs / "index")}
    assert run_cli("index", env=env).returncode == 0
    before = os.readlink(fs / "index" / "current")
    _fill(fs)
    proc = run_cli("index", "--force", env=env)
    assert proc.returncode == 1
    assert "no space left on device while writing the index to " + str(fs / "index") in _one_line(proc.stderr)
    assert os.readlink(fs / "index" / "current") == before
    assert [p.name for p in (fs / "index" / "builds").iterdir()] == [Path(before).name]
    settings = load_settings(corpus_dir=small_corpus, index_dir=fs / "index")
    from embeddings.encoder import Encoder

    index = load_index(fs / "index", expected_manifest(settings, Encoder(settings).model_hash))
    assert [c.doc_id for c in index.chunks] == ["fietsbrief"]
    (fs / "filler").unlink()  # space again: the next build goes through
    assert run_cli("index", "--force", env=env).returncode == 0


def test_reindex_on_a_full_disk_reports_one_line_and_keeps_serving(tmpfs, small_corpus, service, serve_app, caplog):
    from api.app import create_app
    from rag.config import load_settings
    from rag.ingest.build import build_index, expected_manifest
    from rag.search.stores.faiss_store import load_index
    from rag.service import Vraagbaak

    fs = tmpfs("1m")
    settings = load_settings(corpus_dir=small_corpus, index_dir=fs / "index").replace(api_keys=("beheer",))
    build_index(settings, encoder=service.encoder)
    small = Vraagbaak(settings, service.encoder,
                      load_index(settings.index_dir, expected_manifest(settings, service.encoder.model_hash)))
    url = serve_app(create_app(settings, service=small))
    _fill(fs)
    expected = (f"no space left on device while writing the index to {fs / 'index'}: "
                "free space or set VRAAGBAAK_INDEX_DIR")
    with caplog.at_level(logging.INFO, logger="vraagbaak"), \
            httpx.Client(base_url=url, timeout=600, headers={"Authorization": "Bearer beheer"}) as client:
        status = client.post("/v1/admin/reindex", json={"wait": True, "force": True}).json()
        assert status["state"] == "failed" and status["error"] == expected
        assert client.get("/v1/admin/reindex").json()["error"] == expected
        found = client.post("/v1/search", json={"query": "fietsenstallingen bij stations"}).json()
        assert found["results"][0]["document"]["id"] == "fietsbrief"  # the old index still answers
    failed = [r for r in caplog.records if "reindex failed" in r.getMessage()]
    assert [r.getMessage() for r in failed] == [f"reindex failed: {expected}; the loaded index stays in use"]
    assert failed[0].exc_info is None  # no traceback in the log


def test_the_vector_cache_on_a_full_disk_names_its_folder(tmpfs):
    from embeddings.encoder import EmbeddingCache

    fs = tmpfs("256k")
    cache = EmbeddingCache(fs / "embeddings" / "model.sqlite")
    first = {f"a{i}": np.full(768, i, dtype=np.float32) for i in range(8)}
    cache.put_many(first)
    _fill(fs)
    with pytest.raises(IndexWriteError) as caught:
        for n in range(200):  # SQLite's WAL may hold a few pages before the disk says no
            cache.put_many({f"b{n}-{i}": np.zeros(768, dtype=np.float32) for i in range(16)})
    assert str(caught.value) == (f"no space left on device while writing the vector cache to {fs / 'embeddings'}: "
                                 "free space or set VRAAGBAAK_CACHE_DIR")
    assert len(cache.get_many(list(first))) == 8  # what was in stays readable


def test_a_full_tablespace_in_postgresql_names_the_database(tmpfs, pg_server, pg_database, service):
    """PostgreSQL's own disk-full error (SQLSTATE 53100), from a tablespace on a full tmpfs."""
    import psycopg

    from rag.ingest.build import build_index
    from rag.search.stores import open_store

    from rag.search.stores.pgserver_local import SERVICE_USER

    fs = tmpfs("2m")
    space = fs / "space"
    space.mkdir()
    if os.geteuid() == 0:  # the server runs as SERVICE_USER then, and owns its tablespace folders
        shutil.chown(fs, SERVICE_USER)
        shutil.chown(space, SERVICE_USER)
    url = pg_database()
    name = f"full_{uuid.uuid4().hex[:8]}"
    database = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        try:
            conn.execute(f"CREATE TABLESPACE {name} LOCATION '{space}'")
        except psycopg.Error as exc:
            pytest.skip(f"PostgreSQL cannot use a tablespace on the tmpfs here: {exc}")
        conn.execute(f"ALTER DATABASE {database} SET default_tablespace = {name}")
    settings = service.settings.replace(database_url=url)
    store = open_store(settings)
    try:
        with pytest.raises(IndexWriteError) as caught:
            build_index(settings, service.encoder, store=store)
        assert str(caught.value) == (f"no space left on device while writing the index to the PostgreSQL database "
                                     f"{store}: free space or set VRAAGBAAK_DATABASE_URL")
        assert store.active_manifest() is None  # the transaction was rolled back: no version, none active
    finally:
        store.close()
        _drop_with_retries(pg_server.url, [f"DROP DATABASE IF EXISTS {database} WITH (FORCE)",
                                           f"DROP TABLESPACE IF EXISTS {name}"])


def _drop_with_retries(url: str, statements: list[str], seconds: float = 120) -> None:
    """Clean-up after a full tablespace. A PostgreSQL backend may abort while the tablespace is still full
    (seen once on a fresh machine: "server closed the connection unexpectedly" during DROP DATABASE); the
    postmaster then restarts after crash recovery, so reconnect and repeat (the statements are idempotent)."""
    import time

    import psycopg

    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                for statement in statements:
                    conn.execute(statement)
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def test_describe_turns_disk_and_permission_errors_into_one_line(tmp_path):
    full = describe(OSError(errno.ENOSPC, "No space left on device"), "the index", tmp_path, "VRAAGBAAK_INDEX_DIR")
    assert str(full) == f"no space left on device while writing the index to {tmp_path}: free space or set VRAAGBAAK_INDEX_DIR"
    denied = describe(PermissionError(errno.EACCES, "Permission denied"), "the index", tmp_path, "VRAAGBAAK_INDEX_DIR")
    assert str(denied).startswith("permission denied while writing the index to ")
    assert str(denied).endswith(": make it writable or set VRAAGBAAK_INDEX_DIR")
    assert describe(ValueError("a bug"), "the index", tmp_path, None) is None
    assert json.dumps(str(full))  # one plain line
    assert "\n" not in str(describe(OSError(errno.EIO, "Input/output error\nat block 7"), "x", tmp_path, None))
