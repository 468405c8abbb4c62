"""``vraagbaak ask``: the answer POST /v1/ask gives, in a terminal or a script.

    vraagbaak ask "Waarom is het overleg met minderhedenorganisaties gestopt?"
    vraagbaak ask "Why was the WOM withdrawn?" --mode extractive -k 3 --json
    vraagbaak ask --questions-file vragen.txt --json      # batch: one JSON line per question

The answer comes from the same engine the API calls (rag/answer/engine.py, ``AnswerEngine.answer``) and
its JSON is the API's (rag/answer/payload.py); the LLM, if any, from VRAAGBAAK_LLM_* as for the server.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import textwrap

from rag.cli.common import (EXIT_OK, EXIT_USAGE, InputError, dumps, load_cli_settings, note, open_service, preview,
                            question_lines, top_k_type, wrap)

# What POST /v1/ask accepts (api/schemas.AskRequest; rag/answer/engine.MODES): kept here so that
# `vraagbaak --help` does not import the engine; tests/test_cli_ask.py checks they agree.
MODES = ("auto", "extractive", "generative", "plain")
MAX_TOP_K = 20
RELATED_PREVIEW_CHARS = 300  # of each related passage shown under an abstention
EXAMPLE_QUESTION = "Waarom is het overleg met minderhedenorganisaties gestopt?"


def add_parser(sub) -> None:
    a = sub.add_parser(
        "ask",
        help="answer a question, with numbered sources (as POST /v1/ask)",
        description=wrap("Answer a question from the documents: a short answer whose sentences end with [n] "
                         "markers, then the sources they point to. When the documents do not answer it, "
                         "says so, says where to ask instead, and lists the closest passages as related "
                         "passages, not as the answer. The same answer as POST /v1/ask; an LLM is used "
                         "when VRAAGBAAK_LLM_BASE_URL is set, and when it fails the answer is extractive "
                         "(with a note on stderr)."),
        epilog=textwrap.dedent(f"""\
            examples:
              vraagbaak ask "{EXAMPLE_QUESTION}"
              vraagbaak ask "Hoe vraag ik een DigiD aan?"            # not in the documents: where to ask
              vraagbaak ask "Why was the WOM withdrawn?" --mode extractive -k 3 --json

            modes:
              auto        with an LLM: VRAAGBAAK_AUTO_MODE (default plain); without one: extractive
              extractive  the best sentences of the passages, quoted (no LLM)
              plain       the extractive sentences rewritten plainly, in the question's language, each checked
              generative  the LLM writes the answer from the passages; every sentence is checked

            batch mode (--questions-file FILE, or - for stdin):
              one question per line; the model loads once. Every input line gives exactly one
              output (one JSON object per line with --json, shaped as /v1/ask's response), in
              input order, with its "line" number. A blank or too-long line gives
              {{"line": N, "question": ..., "error": ...}} instead and does not stop the batch;
              the exit status is then 2."""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    a.add_argument("question", nargs="?", metavar="QUESTION",
                   help="the question, in any language (nl, en, tr, ar, pl, uk, …; quote it)")
    a.add_argument("--mode", choices=MODES, default="auto",
                   help="how the answer is written (default: auto; see below)")
    a.add_argument("-k", "--top-k", type=top_k_type(MAX_TOP_K, "/v1/ask"), metavar="K",
                   help=f"passages given to the answer, 1 to {MAX_TOP_K} (default: VRAAGBAAK_TOP_K or 5)")
    a.add_argument("--json", action="store_true",
                   help="print /v1/ask's JSON response (batch: one object per line)")
    a.add_argument("-f", "--questions-file", "--queries-file", metavar="FILE", dest="questions_file",
                   help="batch mode: read one question per line from FILE ('-' for stdin)")
    a.set_defaults(func=cmd_ask)


# ---------------------------------------------------------------- output


def _cited(payload: dict) -> list[int]:
    """The source numbers the answer text cites, in number order."""
    from rag.answer.sentences import parse_markers

    count = len(payload["citations"])
    return sorted(n for n in parse_markers(payload["answer"])[1] if 1 <= n <= count)


def format_answer(payload: dict, width: int | None = None) -> str:
    """Human-readable: the answer, then the sources its [n] markers cite; for an abstention the notice,
    where to ask, and the closest passages under a heading that says they are not the answer."""
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 100)
    wrap = textwrap.TextWrapper(width=width, break_on_hyphens=False, break_long_words=False)
    # Paragraphs kept: an answer about the present from old sources ends with the horizon notice.
    out = ["\n\n".join(wrap.fill(part) for part in payload["answer"].split("\n\n")), ""]
    citations = {c["n"]: c for c in payload["citations"]}
    if payload["abstained"]:
        channels = (payload.get("referral") or {}).get("channels") or []
        if channels:
            out.append("Where to ask:")
            wrap.initial_indent, wrap.subsequent_indent = "  ", "    "
            out.extend(wrap.fill(c["name"] + (f"  {c['url']}" if c.get("url") else "")) for c in channels)
            out.append("")
        numbers = sorted(citations)
        if numbers:
            out.append("Related passages (the closest in the documents; they do not answer the question):")
    else:
        personal = payload.get("personal_referral")
        if personal:  # the own case's channel: a line of its own, not one of the cited sentences
            out.extend([wrap.fill(personal["text"]), ""])
        numbers = _cited(payload)
        if numbers:
            out.append("Sources:")
    for n in numbers:
        c = citations[n]
        wrap.initial_indent, wrap.subsequent_indent = "", " " * (len(str(n)) + 3)
        out.append(wrap.fill(f"[{n}] {c['citation']}"))
        if payload["abstained"]:
            wrap.initial_indent = wrap.subsequent_indent
            out.append(wrap.fill(" ".join(preview(c["text"], RELATED_PREVIEW_CHARS).split())))
    if numbers:
        out.append("")
    what = "no answer in the documents" if payload["abstained"] else f"{payload['mode_used']} answer"
    if payload.get("as_of") and not payload["abstained"]:
        what += f", newest source {payload['as_of']}"
    out.append(f"({what}, {payload['took_ms']:.0f} ms)")
    return "\n".join(out) + "\n"


def fallback_note(payload: dict, mode: str) -> str | None:
    """What stderr says when the answer is not the kind asked for (the engine fell back to extractive);
    None when it is, or when auto has no LLM to use (the documented default)."""
    reason = payload.get("fallback_reason")
    if not reason or (reason == "llm_not_configured" and mode == "auto"):
        return None
    wanted = "LLM" if mode == "auto" else mode
    return f"note: no {wanted} answer ({payload['llm']['error'] or reason}), so the answer is {payload['mode_used']}"


# ---------------------------------------------------------------- the command


def _questions(args, settings) -> list[tuple[int, str, str | None]]:
    """(line number, question, error) for each question, checked without the model: the service's
    rules (empty, too long, a lone surrogate) raise QueryError for a single question (exit 2)."""
    from rag.service import validate_query

    if args.questions_file is None:
        if args.question is None:
            raise InputError(f'give a question, e.g. vraagbaak ask "{EXAMPLE_QUESTION}" (or --questions-file FILE)')
        validate_query(args.question, settings.max_query_chars)
        return [(1, args.question, None)]
    if args.question is not None:
        raise InputError("give a QUESTION or --questions-file, not both")
    return [(n, line, error) for n, line, _, error in question_lines(args.questions_file, settings.max_query_chars)]


async def _answer_all(engine, batch, args, top_k: int, single: bool) -> int:
    """Answer each question in turn and print it as it comes; the number of lines not answered."""
    from rag.answer.payload import ask_payload
    from rag.service import QueryError

    failed = 0
    try:
        for n, question, error in batch:
            payload = None
            if error is None:
                try:
                    payload = ask_payload(await engine.answer(question, top_k=top_k, mode=args.mode))
                except QueryError as exc:
                    if single:
                        raise
                    error = str(exc)
            if payload is not None and (message := fallback_note(payload, args.mode)):
                note(message if single else f"line {n}: {message}")
            if single:
                sys.stdout.write(dumps(payload, indent=2) + "\n" if args.json else format_answer(payload))
                continue
            failed += error is not None
            if args.json:
                obj = {"line": n, **payload} if error is None else {"line": n, "question": question, "error": error}
                sys.stdout.write(dumps(obj) + "\n")
            else:
                sys.stdout.write(f"== {n}: {question}\n")
                sys.stdout.write(f"   error: {error}\n\n" if error else format_answer(payload) + "\n")
            sys.stdout.flush()
    finally:
        if engine is not None:
            await engine.aclose()
    return failed


def cmd_ask(args) -> int:
    import asyncio

    settings = load_cli_settings()
    batch = _questions(args, settings)  # everything that can be checked without the model, first
    engine = None  # not needed when every line of a batch is already refused
    if any(error is None for *_, error in batch):
        from rag.answer.engine import AnswerEngine

        # The engine logs an LLM failure as a warning; here fallback_note says it, once and shorter.
        logging.getLogger("vraagbaak.answer").addHandler(logging.NullHandler())
        service = open_service(settings)
        service.encoder.model  # load the model now, so took_ms measures the answer alone (as in the API)
        engine = AnswerEngine(service)  # the LLM from VRAAGBAAK_LLM_*, as for the server
    failed = asyncio.run(_answer_all(engine, batch, args, args.top_k or settings.top_k,
                                     single=args.questions_file is None))
    if failed:
        note(f"{failed} of {len(batch)} lines were not answered "
             f"(see the error {'objects' if args.json else 'lines'})")
        return EXIT_USAGE
    return EXIT_OK
