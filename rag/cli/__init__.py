"""The ``vraagbaak`` command: build the index, search it and answer from it, in a terminal or a script.

    vraagbaak index [--corpus DIR] [--force]
    vraagbaak search "Waarom is de WOM ingetrokken?" [--top-k 5] [--json] [--doc ID] [--from DATE] [--to DATE]
    vraagbaak search --queries-file questions.txt --json      # batch: one JSON line per question
    vraagbaak ask "Waarom is de WOM ingetrokken?" [--mode M] [-k K] [--json] [-f FILE]   # rag/cli/ask.py
    vraagbaak serve [--host H] [--port P]                      # the HTTP API (api/), docs at /docs

Errors are one line on stderr and an exit status, never a traceback: 2 for bad input (a question,
a file, an option, the corpus), 1 for anything else (model, index, disk).
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
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
PREVIEW_CHARS = 600  # of each passage in the human-readable output, unless --full
DEMO_QUESTION = "Waarom is het overleg met minderhedenorganisaties gestopt?"


class InputError(ValueError):
    """Bad input from the command line or a file the user named (exit status 2)."""


# ---------------------------------------------------------------- argument parsing


SEARCH_MAX_TOP_K = 50  # as POST /v1/search (api/schemas.SearchRequest)


def _top_k_type(limit: int, endpoint: str):
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


def _iso_date(text: str) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD, checked to be a real date (the API's rule: rag.search.stores.base)."""
    from rag.search.stores.base import check_date  # imported here: --help stays fast

    try:
        return check_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=min(shutil.get_terminal_size((80, 24)).columns, 80) - 2)


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

    p = sub.add_parser(
        "index",
        help="build (or refresh) the search index from the corpus",
        description=_wrap("Load, parse, chunk and embed the corpus, and publish a new index atomically. "
                          "Does nothing when the index already matches the corpus, model and chunker; only "
                          "passages not in the embedding cache are embedded."),
        epilog="examples:\n  vraagbaak index\n  vraagbaak index --corpus ~/mijn-documenten --force",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--corpus", type=Path, metavar="DIR",
                   help="folder of .txt documents (with manifest.json or <name>.json sidecars); "
                        "default: VRAAGBAAK_CORPUS_DIR or data/corpus")
    p.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    p.set_defaults(func=cmd_index)

    s = sub.add_parser(
        "search",
        help="find the passages that answer a question",
        description=_wrap("Search the index for the passages that best answer a question and print them "
                          "with their citations. Builds the index first if there is none (or it is out of "
                          "date)."),
        epilog=textwrap.dedent(f"""\
            examples:
              vraagbaak search "{DEMO_QUESTION}"
              vraagbaak search "Why was the WOM withdrawn?" --top-k 3 --json
              vraagbaak search "participatieverklaring" --from 2013 --to 2013-12-31
              vraagbaak search "Actieagenda" --doc kst-32824-445 --doc vragen-actieagenda-integratie-2024

            batch mode (--queries-file FILE, or - for stdin):
              one question per line; the model loads once. Every input line gives exactly one
              output (one JSON object per line with --json), in input order, with its "line"
              number. A blank or too-long line gives {{"line": N, "query": ..., "error": ...}}
              instead of results and does not stop the batch; the exit status is then 2."""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("query", nargs="?", metavar="QUESTION",
                   help="the question, in any language (nl, en, tr, ar, pl, uk, …; quote it)")
    s.add_argument("-k", "--top-k", type=_top_k_type(SEARCH_MAX_TOP_K, "/v1/search"), metavar="K",
                   help="number of passages to return (default: VRAAGBAAK_TOP_K or 5)")
    s.add_argument("--json", action="store_true",
                   help="print JSON: {query, results, took_ms} (batch: one object per line)")
    s.add_argument("--doc", action="append", metavar="DOC_ID", dest="docs",
                   help="only search this document (repeat for several); ids are in data/corpus/manifest.json")
    s.add_argument("--from", type=_iso_date, metavar="DATE", dest="date_from",
                   help="only documents dated on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD); "
                        "undated documents are left out when a date filter is given")
    s.add_argument("--to", type=_iso_date, metavar="DATE", dest="date_to",
                   help="only documents dated on or before DATE")
    s.add_argument("-f", "--queries-file", "--questions-file", metavar="FILE", dest="queries_file",
                   help="batch mode: read one question per line from FILE ('-' for stdin)")
    s.add_argument("--full", action="store_true",
                   help=f"print whole passages and their footnotes (default: the first ~{PREVIEW_CHARS} characters)")
    s.set_defaults(func=cmd_search)

    from rag.cli.ask import add_parser as add_ask_parser  # here, not at the top: rag.cli.ask imports this module

    add_ask_parser(sub)

    v = sub.add_parser(
        "serve",
        help="run the HTTP API (search, answers, OpenAI-compatible chat)",
        description=_wrap("Serve the HTTP API with one uvicorn worker. The model and index load in the "
                          "background (the index is built first if there is none): /healthz answers at "
                          "once, /readyz once they are loaded. Interactive docs at /docs. Logs are JSON "
                          "lines on stderr, one per request."),
        epilog="examples:\n  vraagbaak serve\n  vraagbaak serve --host 0.0.0.0 --port 8080\n"
               "  VRAAGBAAK_API_KEYS=geheim vraagbaak serve      # enables the admin endpoints",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    v.add_argument("--host", help="interface to listen on (default: VRAAGBAAK_HOST or 127.0.0.1)")
    v.add_argument("--port", type=_port, help="port to listen on (default: VRAAGBAAK_PORT or 8000)")
    v.set_defaults(func=cmd_serve)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("vraagbaak")
    except PackageNotFoundError:
        return "(not installed)"


# ---------------------------------------------------------------- helpers


def _note(message: str) -> None:
    print(f"vraagbaak: {message}", file=sys.stderr, flush=True)


def _settings(**overrides):
    from rag.config import load_settings

    try:
        return load_settings(**overrides)
    except ValueError as exc:  # a malformed VRAAGBAAK_* variable
        raise InputError(str(exc)) from exc


def _open_service(settings):
    from rag.search.stores import open_store
    from rag.service import Vraagbaak

    if open_store(settings).active_manifest() is None:
        _note(f"no index in {open_store(settings)} yet: building it from {settings.corpus_dir} first "
              "(the first build embeds every passage: a few minutes on a CPU)")
    return Vraagbaak.open(settings, build_if_missing=True)


def _question_lines(name: str, max_chars: int) -> list[tuple[int, str, str | None, str | None]]:
    """(line number, line, the question as the service takes it or None, why not or None) for each line of
    a batch file ('-': stdin), by rag.service.validate_query's rules, without the model. InputError when
    the file holds no questions."""
    from rag.service import QueryError, validate_query

    lines = _read_queries(name)
    if not lines:
        raise InputError(f"{name} holds no questions (one question per line)")
    batch = []
    for n, line in enumerate(lines, start=1):
        try:
            batch.append((n, line, validate_query(line, max_chars), None))
        except QueryError as exc:
            batch.append((n, line, None, str(exc)))
    return batch


def _read_queries(name: str) -> list[str]:
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


def _filters(args, service):
    from rag.search.retrieve import Filters

    docs = tuple(dict.fromkeys(args.docs or ()))
    unknown = [d for d in docs if d not in service.index.documents]
    if unknown:
        raise InputError(f"unknown document id(s): {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(service.index.documents))}")
    if not (docs or args.date_from or args.date_to):
        return None
    return Filters(doc_ids=docs or None, date_from=args.date_from, date_to=args.date_to)


def _dumps(obj, indent=None) -> str:
    utf8 = (getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "") == "utf8"
    return json.dumps(obj, ensure_ascii=not utf8, indent=indent)


def _preview(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (cut[:space] if space > limit // 2 else cut).rstrip() + " …"


def format_results(result: dict, full: bool = False, width: int | None = None) -> str:
    """Human-readable: rank, score and citation, then the passage indented and wrapped."""
    width = width or min(shutil.get_terminal_size((100, 24)).columns, 100)
    if not result["results"]:
        return "no passages found (check --doc / --from / --to)\n"
    # Never break at a hyphen: "LOM-organisaties" split over two lines reads like a parsing fault.
    wrap = textwrap.TextWrapper(width=width, break_on_hyphens=False, break_long_words=False)
    out = []
    for r in result["results"]:
        head = f"{r['rank']:>2}. [{r['score']:.3f}] "
        wrap.initial_indent, wrap.subsequent_indent = "", " " * len(head)
        out.append(wrap.fill(head + r["citation"]))
        text = r["text"] if full else _preview(r["text"], PREVIEW_CHARS)
        wrap.initial_indent = wrap.subsequent_indent = "     "
        out.extend(wrap.fill(line) for line in text.split("\n") if line.strip())
        if full:
            wrap.subsequent_indent = "         "
            out.extend(wrap.fill(f"[{note['number']}] {note['text']}") for note in r.get("footnotes", []))
        out.append("")
    out.append(f"({len(result['results'])} passages in {result['took_ms']:.0f} ms)")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- commands


def cmd_index(args) -> int:
    from rag.ingest.build import build_index
    from rag.search.stores import open_store

    settings = _settings(corpus_dir=args.corpus)
    if open_store(settings).active_manifest() is None:
        _note(f"building a new index in {open_store(settings)} (the first build embeds every passage: "
              "a few minutes on a CPU)")
    report = build_index(settings, force=args.force)
    print(f"index {report.status}: {report.documents} documents, {report.chunks} chunks, "
          f"{report.embedded} newly embedded, {report.seconds:.1f} s ({report.version})")
    if report.skipped:  # reported, not fatal: the other documents are indexed and served
        print(f"skipped {len(report.skipped)} file(s), not in the index:")
        for skipped in report.skipped:
            print(f"  {skipped}")
    return EXIT_OK


def cmd_search(args) -> int:
    from rag.search.retrieve import range_is_empty
    from rag.service import validate_query

    settings = _settings()
    # Everything that can be checked without the model is checked before it loads.
    if range_is_empty(args.date_from, args.date_to):
        raise InputError(f"--from {args.date_from} is after --to {args.date_to}")
    if args.queries_file is not None:
        if args.query is not None:
            raise InputError("give a QUESTION or --queries-file, not both")
        batch = _question_lines(args.queries_file, settings.max_query_chars)
    else:
        if args.query is None:
            raise InputError('give a question, e.g. vraagbaak search "Waarom is de WOM ingetrokken?" '
                             "(or --queries-file FILE)")
        validate_query(args.query, settings.max_query_chars)

    service = filters = None  # not needed when every line of a batch is already refused
    if args.queries_file is None or any(error is None for *_, error in batch):
        service = _open_service(settings)
        filters = _filters(args, service)
        service.encoder.model  # load the model now, so took_ms measures the search alone

    if args.queries_file is None:
        result = service.search(args.query, top_k=args.top_k, filters=filters).to_dict()
        sys.stdout.write(_dumps(result, indent=2) + "\n" if args.json else format_results(result, args.full))
        return EXIT_OK

    failed = 0
    for n, line, query, error in batch:
        if error is None:
            obj = {"line": n, **service.search(query, top_k=args.top_k, filters=filters).to_dict()}
        else:
            failed += 1
            obj = {"line": n, "query": line, "error": error}
        if args.json:
            sys.stdout.write(_dumps(obj) + "\n")
        else:
            sys.stdout.write(f"== {n}: {obj['query']}\n")
            sys.stdout.write(f"   error: {error}\n\n" if error else format_results(obj, args.full) + "\n")
        sys.stdout.flush()
    if failed:
        _note(f"{failed} of {len(batch)} lines were not searched "
              f"(see the error {'objects' if args.json else 'lines'})")
        return EXIT_USAGE
    return EXIT_OK


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, got {value}")
    return value


def cmd_serve(args) -> int:
    import uvicorn

    from api.app import create_app
    from api.observability import configure_logging

    settings = _settings(host=args.host, port=args.port)
    try:
        app = create_app(settings)
    except ValueError as exc:  # an inconsistent configuration, e.g. keys required but none given
        raise InputError(str(exc)) from exc
    configure_logging(settings.log_level)
    _note(f"serving on http://{settings.host}:{settings.port} (docs at /docs; ready when /readyz says so)")
    uvicorn.run(app, host=settings.host, port=settings.port, workers=1, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)
    return EXIT_OK


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
        _note(f"error: {exc}")
        return EXIT_USAGE
    except (EncoderError, FetchError) as exc:
        _note(f"error: {exc}\n(the model comes from `make setup`, or `python -m embeddings.fetch embeddinggemma-300m`)")
        return EXIT_ERROR
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except (IndexUnavailable, OSError) as exc:
        _note(f"error: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _note("interrupted")
        return 130
