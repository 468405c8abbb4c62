"""The ``vraagbaak`` command: build the index, search it and answer from it, in a terminal or a script.

    vraagbaak index [--corpus DIR] [--force]
    vraagbaak search "Waarom is de WOM ingetrokken?" [--top-k 5] [--json] [--doc ID] [--from DATE] [--to DATE]
    vraagbaak search --queries-file questions.txt --json      # batch: one JSON line per question
    vraagbaak ask "Waarom is de WOM ingetrokken?" [--mode M] [-k K] [--json] [-f FILE]   # rag/cli/ask.py
    vraagbaak serve [--host H] [--port P]                      # the HTTP API (api/), docs at /docs

Errors are one line on stderr and an exit status, never a traceback: 2 for bad input (a question,
a file, an option, the corpus), 1 for anything else (model, index, disk).

One module per command (index.py, search.py, ask.py, serve.py: its parser and what it runs); common.py
holds what they share. Here: the parser that joins them and ``main``.
"""

from __future__ import annotations

import os

# Before anything imports transformers / huggingface_hub: they read these at import time.
# setdefault, so a developer can still ask for their output (e.g. TRANSFORMERS_VERBOSITY=info).
for _name, _value in (
    ("TRANSFORMERS_VERBOSITY", "error"),
    ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"),
    ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),  # the "Loading weights" bar; the embedding bar is plain tqdm
    ("TOKENIZERS_PARALLELISM", "false"),
):
    os.environ.setdefault(_name, _value)

import argparse  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402

from rag.cli import ask, index, search, serve  # noqa: E402
from rag.cli.common import EXIT_ERROR, EXIT_USAGE, InputError, note  # noqa: E402


class _Parser(argparse.ArgumentParser):
    """argparse keeping the errors contract above: one line on stderr, exit status 2 (no usage block)."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(  # its subcommands' parsers are _Parser too (argparse's default parser_class)
        prog="vraagbaak",
        description="Vraagbaak: answer questions from Dutch government documents, or find the passages that "
                    "answer them, with citations. Questions may be in any language (nl, en, tr, ar, pl, uk, …).",
        epilog="Configuration comes from VRAAGBAAK_* environment variables (see README.md), e.g. "
               "VRAAGBAAK_INDEX_DIR, VRAAGBAAK_CORPUS_DIR, VRAAGBAAK_TOP_K. "
               "Run 'vraagbaak COMMAND --help' for the options of one command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    for command in (index, search, ask, serve):  # the order of `vraagbaak --help`
        command.add_parser(sub)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("vraagbaak")
    except PackageNotFoundError:
        return "(not installed)"


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    if not sys.warnoptions:  # python -W / PYTHONWARNINGS still win
        warnings.simplefilter("ignore")
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # a non-UTF-8 terminal degrades, never crashes
    args = build_parser().parse_args(argv)

    from embeddings.encoder import EncoderError
    from embeddings.fetch import FetchError
    from rag.ingest.corpus import CorpusError
    from rag.search.stores.faiss_store import IndexUnavailable
    from rag.service import QueryError

    try:
        return args.func(args)
    except (InputError, CorpusError, QueryError, UnicodeDecodeError) as exc:
        note(f"error: {exc}")
        return EXIT_USAGE
    except (EncoderError, FetchError) as exc:
        note(f"error: {exc}\n(the model comes from `make setup`, or `python -m embeddings.fetch embeddinggemma-300m`)")
        return EXIT_ERROR
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except (IndexUnavailable, OSError) as exc:
        note(f"error: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        note("interrupted")
        return 130
