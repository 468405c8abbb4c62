"""The `vraagbaak` command as a user runs it: a real subprocess, the real model, the session's index."""

from __future__ import annotations

import json
import shutil

import pytest

RESULT_KEYS = {"id", "rank", "score", "text", "document", "section", "citation", "char_start", "char_end"}


def assert_clean_failure(proc, status: int, *needles: str):
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.strip(), "a failure must say why on stderr"
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def test_help_lists_the_commands(run_cli):
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("index", "search", "serve"):
        assert command in proc.stdout
    search_help = run_cli("search", "--help").stdout
    assert "--queries-file" in search_help and "--json" in search_help and "--doc" in search_help


def test_search_json(run_cli, parsed):
    proc = run_cli("search", "Waarom is het overleg met minderhedenorganisaties gestopt?", "--top-k", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Loading weights" not in proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"query", "results", "took_ms"}
    assert out["query"] == "Waarom is het overleg met minderhedenorganisaties gestopt?"
    assert isinstance(out["took_ms"], (int, float))
    assert [r["rank"] for r in out["results"]] == [1, 2, 3]
    for r in out["results"]:
        assert RESULT_KEYS <= set(r)
        assert set(r["document"]) == {"id", "title", "date", "reference", "url", "date_source", "date_bound"}
        assert r["text"] == parsed[r["document"]["id"]].text[r["char_start"]:r["char_end"]]
        assert r["citation"].startswith(r["document"]["title"])


def test_batch_gives_one_json_line_per_question_in_order(run_cli, tmp_path):
    questions = [
        "Waarom is het overleg met minderhedenorganisaties gestopt?",
        "Who checks whether social media platforms based in the Netherlands are open about their algorithms?",
        "Wat gebeurt er met mijn bijstand als ik een startbaan weiger?",
    ]
    queries = tmp_path / "vragen.txt"
    queries.write_text("\n".join(questions) + "\n", encoding="utf-8")
    proc = run_cli("search", "--queries-file", str(queries), "--top-k", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    objects = [json.loads(line) for line in lines]
    assert [o["query"] for o in objects] == questions
    assert [o["line"] for o in objects] == [1, 2, 3]
    assert all(len(o["results"]) == 2 and RESULT_KEYS <= set(o["results"][0]) for o in objects)


def test_batch_bad_lines_give_error_objects_in_place(run_cli):
    """Blank, too-long and control-character lines are answered with an error object each; no model needed."""
    # --questions-file: ask's spelling, accepted by search too
    proc = run_cli("search", "--questions-file", "-", "--json", stdin="   \n" + "x" * 2500 + "\n\nW\x00OM?\n")
    assert proc.returncode == 2
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["line"] for o in objects] == [1, 2, 3, 4]
    assert all("error" in o and "results" not in o for o in objects)
    assert "empty" in objects[0]["error"] and "limit" in objects[1]["error"]
    assert "control character at position 1 (U+0000)" in objects[3]["error"]  # refused as by the API
    assert "4 of 4 lines" in proc.stderr and "Traceback" not in proc.stderr


def test_search_builds_a_missing_index_first(tmp_path, small_corpus, run_cli):
    env = {"VRAAGBAAK_CORPUS_DIR": str(small_corpus), "VRAAGBAAK_INDEX_DIR": str(tmp_path / "index")}
    proc = run_cli("search", "fietsenstallingen bij het station", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "building" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout.startswith(" 1. [") and "fietsenstallingen" in proc.stdout
    assert (tmp_path / "index" / "current").is_symlink()


def test_index_reports_up_to_date(run_cli):
    proc = run_cli("index")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("index up-to-date: 5 documents, ")
    assert "0 newly embedded" in proc.stdout and len(proc.stdout.splitlines()) == 1


@pytest.mark.parametrize("args, needle", [
    (["search", ""], "empty"),
    (["search", "   "], "empty"),
    (["search", "x" * 2001], "limit is 2000"),
    (["search", "WOM\x1b[31m?"], "control character at position 3 (U+001B)"),  # as /v1/search refuses it
    (["ask", "WOM\x7f?"], "control character at position 3 (U+007F)"),
    (["search"], "give a question"),
    (["search", "--queries-file", "/nonexistent/vragen.txt"], "cannot read /nonexistent/vragen.txt"),
    (["search", "--queries-file", "/"], "is a folder"),
    (["search", "x", "--doc", "geen-document"], "unknown document id"),
    (["search", "x", "--from", "2024-02-30"], "not a date"),
    (["search", "x", "--from", "2024", "--to", "2013"], "is after"),
    (["search", "x", "--top-k", "0"], "between 1 and 50"),
    (["search", "x", "--top-k", "1000"], "between 1 and 50"),  # as /v1/search
    (["search", "x", "--from", "٢٠١٣"], "not a date"),  # ASCII digits only (int() would read these)
    (["index", "--corpus", "/nonexistent/corpus"], "does not exist"),
    (["index", "--corpus", "README.md"], "README.md is a file, not a folder"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_a_clear_error(run_cli, args, needle):
    assert_clean_failure(run_cli(*args), 2, needle)


def test_non_utf8_queries_file(run_cli, tmp_path):
    queries = tmp_path / "vragen.txt"
    queries.write_bytes("Wat is één café?\n".encode("cp1252"))
    assert_clean_failure(run_cli("search", "--queries-file", str(queries)), 2, "not UTF-8", "vragen.txt")


def test_utf16_queries_file_is_read_by_its_byte_order_mark(run_cli, tmp_path):
    # As Notepad's "Unicode" or PowerShell's `>` save it (FF FE ...): read, not sent to iconv -f windows-1252.
    queries = tmp_path / "utf16.txt"
    queries.write_bytes(b"\xff\xfe" + "Waarom is de WOM ingetrokken?\r\nWat is één inburgeringsplicht?\r\n".encode("utf-16-le"))
    proc = run_cli("search", "-f", str(queries), "--json", "--top-k", "1")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["Waarom is de WOM ingetrokken?", "Wat is één inburgeringsplicht?"]
    broken = tmp_path / "kapot.txt"
    broken.write_bytes(b"\xff\xfe" + "Waarom?".encode("utf-16-le") + b"\x00\xd8")  # a lone surrogate
    assert_clean_failure(run_cli("search", "-f", str(broken)), 2, "UTF-16 byte order mark", "save it as UTF-8")


def test_question_and_queries_file_together(run_cli, tmp_path):
    queries = tmp_path / "vragen.txt"
    queries.write_text("Een vraag?\n", encoding="utf-8")
    assert_clean_failure(run_cli("search", "Nog een?", "--queries-file", str(queries)), 2, "not both")


def test_malformed_setting(run_cli):
    assert_clean_failure(run_cli("search", "x", env={"VRAAGBAAK_TOP_K": "vijf"}), 2, "VRAAGBAAK_TOP_K")


def test_damaged_index(run_cli, service, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(service.settings.index_dir, index, symlinks=True)
    (index / "current" / "index.faiss").write_bytes(b"not a faiss index")
    proc = run_cli("search", "integratie", env={"VRAAGBAAK_INDEX_DIR": str(index)})
    assert_clean_failure(proc, 1, "damaged", "vraagbaak index")
