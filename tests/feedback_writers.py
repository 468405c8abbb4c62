"""Writer processes for the feedback stores' concurrency tests (tests/test_feedback.py for SQLite,
tests/test_feedback_pg.py for PostgreSQL): each adds numbered rows and prints every acknowledged id."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from rag.config import PROJECT_ROOT

WRITER = textwrap.dedent("""
    import sys
    from rag.feedback import NewFeedback
    from rag.feedback.pg_store import PostgresFeedbackStore
    from rag.feedback.sqlite_store import SqliteFeedbackStore
    target = sys.argv[1]
    store = PostgresFeedbackStore(target) if target.startswith("postgresql://") else SqliteFeedbackStore(target)
    name, count = sys.argv[2], int(sys.argv[3])
    sys.stdin.readline()  # start together
    for i in range(count):
        stored = store.add(NewFeedback(answer_id=f"{name}-{i:05d}", rating="up", question="Vraag?"))
        print(stored.id, flush=True)  # acknowledged: the insert has returned
""")


def writer(target, name: str, count: int) -> subprocess.Popen:
    """A writer process on ``target`` (a SQLite path or a postgresql:// URL); it starts on a line on stdin."""
    return subprocess.Popen([sys.executable, "-c", WRITER, str(target), name, str(count)], cwd=PROJECT_ROOT,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def write_at_once(target, processes: int, count: int) -> set[str]:
    """``processes`` writers started together, each acknowledging ``count`` inserts; returns the
    answer_ids they wrote (what the store must hold, each once)."""
    procs = [writer(target, f"proces{p}", count) for p in range(processes)]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert len(out.split()) == count
    return {f"proces{p}-{i:05d}" for p in range(processes) for i in range(count)}
