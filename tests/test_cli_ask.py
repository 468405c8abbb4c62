"""`vraagbaak ask` as a user runs it (rag/cli/ask.py): a real subprocess, the real model, the session's
index, no LLM (as the test API server), except one that cannot be reached."""

from __future__ import annotations

import json
import re
import socket
import typing

import pytest

from rag.config import PROJECT_ROOT

DEV = {row["id"]: row for row in map(json.loads, filter(None, (PROJECT_ROOT / "data" / "eval" / "dev.jsonl")
                                                         .read_text(encoding="utf-8").splitlines()))}
MARKER = re.compile(r"\[(\d+)\]")
# No LLM and the default top_k (5), whatever the developer's environment says (empty = unset).
DEFAULTS = {"VRAAGBAAK_LLM_BASE_URL": "", "VRAAGBAAK_TOP_K": ""}
ASK_KEYS = {"answer_id", "question", "answer", "citations", "mode_used", "abstained", "grounded", "unsupported_sentences",
            "sentences", "fallback_reason", "language", "referral", "llm", "took_ms", "as_of", "personal_referral"}  # as tests/api/test_api_answers.py


def dev_question(qid: str, answerable: bool) -> str:
    row = DEV[qid]
    assert row["answerable"] is answerable and row["lang"] == "nl"
    return row["question"]


ANSWERABLE = dev_question("da001", True)  # Wanneer stuurde de minister de Kamer een brief over de participatieverklaring …?
UNANSWERABLE = dev_question("da010", False)  # Hoe hoog is de boete als ik niet op tijd ben ingeburgerd?


@pytest.fixture(scope="module")
def ask(run_cli):
    def run(*args: str, stdin: str | None = None, env: dict | None = None):
        return run_cli("ask", *args, stdin=stdin, env={**DEFAULTS, **(env or {})})

    return run


def assert_one_line_error(proc, status: int, needle: str):
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr


def sections(stdout: str) -> tuple[str, dict[str, list[str]]]:
    """The answer paragraph, and the lines under each heading ("Sources:", "Where to ask:", …)."""
    answer, *blocks = stdout.split("\n\n")
    out = {}
    for block in blocks:
        head, *lines = block.splitlines()
        out[head] = lines
    return answer, out


def test_help_and_the_options_match_the_api():
    from api.schemas import AskRequest
    from rag.answer.engine import MODES as ENGINE_MODES
    from rag.cli.ask import MAX_TOP_K, MODES

    assert MODES == ENGINE_MODES == typing.get_args(AskRequest.model_fields["mode"].annotation)
    top_k = AskRequest.model_json_schema()["properties"]["top_k"]["anyOf"][0]
    assert top_k["maximum"] == MAX_TOP_K and top_k["minimum"] == 1


def test_help_lists_ask(run_cli):
    assert "ask" in run_cli("--help").stdout
    text = run_cli("ask", "--help").stdout
    for option in ("--mode", "--top-k", "--json", "--questions-file", "generative", "plain", "extractive"):
        assert option in text


def test_answer_with_numbered_sources(ask):
    proc = ask(ANSWERABLE)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and "Traceback" not in proc.stdout
    answer, parts = sections(proc.stdout)
    cited = sorted({int(n) for n in MARKER.findall(answer)})
    assert cited and "2013" in answer
    # The sources are the ones the answer cites, in number order, each with its citation.
    sources = parts["Sources:"]
    assert [int(MARKER.match(line).group(1)) for line in sources if not line.startswith(" ")] == cited
    assert all(line.startswith(("[", "    ")) for line in sources)  # a long citation wraps, indented
    assert "Kamerstuk 32 824, nr. 47 (december 2013)" in " ".join(" ".join(sources).split())
    assert proc.stdout.splitlines()[-1].startswith("(extractive answer, newest source 2013-12, ")
    assert "Related passages" not in proc.stdout and "Where to ask" not in proc.stdout
    # The answer says when its source spoke, in the question's language (rag/answer/dating.py).
    assert "Brief van december 2013: " in " ".join(answer.split())


def test_abstention_gives_notice_referral_and_related_passages(ask):
    proc = ask(UNANSWERABLE)
    assert proc.returncode == 0, proc.stderr
    answer, parts = sections(proc.stdout)
    notice = " ".join(answer.split())
    assert notice.startswith("De documenten van Vraagbaak geven geen antwoord op deze vraag.")
    assert not MARKER.search(notice)
    assert "DUO (Dienst Uitvoering Onderwijs)" in notice  # the notice names where to ask …
    assert parts["Where to ask:"] == ["  DUO (Dienst Uitvoering Onderwijs)  https://duo.nl"]  # … and so does the list
    head = next(h for h in parts if h.startswith("Related passages"))
    assert "do not answer the question" in head
    numbered = [int(MARKER.match(line).group(1)) for line in parts[head] if MARKER.match(line)]
    assert numbered == [1, 2, 3, 4, 5]  # the closest passages, each with a preview under its citation
    assert "Sources:" not in proc.stdout
    assert "(no answer in the documents" in proc.stdout


def test_json_is_the_v1_ask_response(ask, api):
    proc = ask(ANSWERABLE, "--json", "-k", "3", "--mode", "extractive")
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout)
    http = api.post("/v1/ask", json={"question": ANSWERABLE, "top_k": 3, "mode": "extractive"}).json()
    assert set(cli) == set(http) == ASK_KEYS
    assert [set(c) for c in cli["citations"]] == [set(c) for c in http["citations"]]
    assert [set(s) for s in cli["sentences"]] == [set(s) for s in http["sentences"]]
    assert cli["question"] == ANSWERABLE and cli["mode_used"] == "extractive" and cli["language"] == "nl"
    assert cli["abstained"] is False and cli["referral"] is None and cli["fallback_reason"] is None
    assert [c["n"] for c in cli["citations"]] == [1, 2, 3] and not any(c["related"] for c in cli["citations"])
    assert cli["citations"][0]["id"] == http["citations"][0]["id"]
    assert cli["answer"] == http["answer"]  # the same engine on the same index: the same answer
    assert {int(n) for n in MARKER.findall(cli["answer"])} <= {1, 2, 3}


@pytest.mark.parametrize("args, needle", [
    ([""], "the question is empty"),
    (["   "], "the question is empty"),
    (["\u200b\n"], "the question is empty"),
    (["x" * 2001], "limit is 2000"),
    (["Wat \udcff?"], "lone UTF-16 surrogate"),  # an invalid UTF-8 byte in argv
    ([], "give a question"),
    (["x", "--mode", "magic"], "invalid choice: 'magic'"),
    (["x", "-k", "0"], "between 1 and 20"),
    (["x", "-k", "21"], "between 1 and 20"),
    (["x", "--questions-file", "-"], "not both"),
    (["--questions-file", "/nonexistent/vragen.txt"], "cannot read /nonexistent/vragen.txt"),
])
def test_bad_input_is_one_line_and_exit_2(ask, args, needle):
    assert_one_line_error(ask(*args), 2, needle)


def test_unreachable_llm_falls_back_to_extractive_with_a_note(ask):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = ask(ANSWERABLE, "--mode", "generative", "--json",
               env={"VRAAGBAAK_LLM_BASE_URL": f"http://127.0.0.1:{port}/v1", "VRAAGBAAK_LLM_RETRIES": "0"})
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["mode_used"] == "extractive" and body["fallback_reason"] == "llm_unavailable"
    assert MARKER.search(body["answer"]) and body["llm"]["error"].startswith("unavailable:")
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vraagbaak: note: no generative answer (unavailable:"), proc.stderr
    assert lines[0].endswith("so the answer is extractive")


def test_batch_gives_one_json_line_per_question_in_order(ask):
    proc = ask("--questions-file", "-", "--json", stdin=f"{ANSWERABLE}\n   \n{UNANSWERABLE}\n")
    assert proc.returncode == 2  # a line was refused; the others are answered
    objects = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["line"] for o in objects] == [1, 2, 3]
    answered, blank, abstained = objects
    assert answered["question"] == ANSWERABLE and answered["abstained"] is False and MARKER.search(answered["answer"])
    assert set(blank) == {"line", "question", "error"} and "empty" in blank["error"]
    assert abstained["abstained"] is True and abstained["referral"]["channel"] == "DUO (Dienst Uitvoering Onderwijs)"
    assert all(c["related"] for c in abstained["citations"])
    assert set(answered) == set(abstained) == {"line"} | ASK_KEYS
    assert "1 of 3 lines were not answered" in proc.stderr and "Traceback" not in proc.stderr


def test_batch_as_text_and_without_any_question_to_answer(ask, tmp_path):
    questions = tmp_path / "vragen.txt"
    questions.write_text(f"{ANSWERABLE}\n", encoding="utf-8")
    proc = ask("-f", str(questions))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"== 1: {ANSWERABLE}\n") and "\nSources:\n[" in proc.stdout
    # Every line refused: error objects, exit 2, and no model is loaded for that.
    proc = ask("-f", "-", "--json", stdin="\n" + "x" * 2001 + "\n")
    assert proc.returncode == 2
    assert [json.loads(line)["error"][:16] for line in proc.stdout.splitlines()] == [
        "the question is ", "the question is "]
    assert "2 of 2 lines" in proc.stderr
