"""What the ``vraagbaak`` subcommands share: exit statuses, InputError, argparse types, settings,
opening the service, batch files of questions and JSON output.

The errors contract (rag/cli/__init__.py): one line on stderr and an exit status, 2 for bad input,
1 for anything else. Only the standard library is imported here, so ``vraagbaak --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
DEMO_QUESTION = "Waarom is het overleg met minderhedenorganisaties gestopt?"


class InputError(ValueError):
    """Bad input from the command line or a file the user named (exit status 2)."""


def top_k_type(limit: int, endpoint: str):
    """An argparse type: a whole number 1..``limit``, the bound ``endpoint`` has."""
    def top_k(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"must be between 1 and {limit} (as for {endpoint}), got {value}")
        return value
    return top_k


def wrap(text: str) -> str:
    """A help paragraph wrapped to the terminal (at most 80 columns)."""
    return textwrap.fill(text, width=min(shutil.get_terminal_size((80, 24)).columns, 80) - 2)


def note(message: str) -> None:
    """One line on stderr, prefixed with the command's name."""
    print(f"vraagbaak: {message}", file=sys.stderr, flush=True)


def load_cli_settings(**overrides):
    """rag.config.load_settings; a malformed VRAAGBAAK_* variable is an InputError (exit 2)."""
    from rag.config import load_settings

    try:
        return load_settings(**overrides)
    except ValueError as exc:  # a malformed VRAAGBAAK_* variable
        raise InputError(str(exc)) from exc


def open_service(settings):
    """The service on the configured index, building the index first (with a note) if there is none."""
    from rag.search.stores import open_store
    from rag.service import Vraagbaak

    if open_store(settings).active_manifest() is None:
        note(f"no index in {open_store(settings)} yet: building it from {settings.corpus_dir} first "
             "(the first build embeds every passage: a few minutes on a CPU)")
    return Vraagbaak.open(settings, build_if_missing=True)


def question_lines(name: str, max_chars: int) -> list[tuple[int, str, str | None, str | None]]:
    """(line number, line, the question as the service takes it or None, why not or None) for each line of
    a batch file ('-': stdin), by rag.service.validate_query's rules, without the model. InputError when
    the file holds no questions."""
    from rag.service import QueryError, validate_query

    lines = read_queries(name)
    if not lines:
        raise InputError(f"{name} holds no questions (one question per line)")
    batch = []
    for n, line in enumerate(lines, start=1):
        try:
            batch.append((n, line, validate_query(line, max_chars), None))
        except QueryError as exc:
            batch.append((n, line, None, str(exc)))
    return batch


def read_queries(name: str) -> list[str]:
    """The lines of the queries file (or stdin for '-'), as UTF-8 text."""
    from rag.ingest.corpus import read_text  # its CorpusError says what is wrong with the file (exit 2)

    if name != "-":
        if Path(name).is_dir():
            raise InputError(f"queries file {name} is a folder; give a text file with one question per line")
        return read_text(Path(name)).splitlines()
    try:
        return sys.stdin.buffer.read().decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"standard input is not UTF-8 text (invalid byte at position {exc.start})") from None


def dumps(obj, indent=None) -> str:
    """JSON for stdout: non-ASCII as itself on a UTF-8 terminal or pipe, else escaped."""
    utf8 = (getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "") == "utf8"
    return json.dumps(obj, ensure_ascii=not utf8, indent=indent)


def preview(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters at a word boundary, with " …" when cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > limit // 2 else cut).rstrip() + " …"
