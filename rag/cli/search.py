"""``vraagbaak search``: the passages that answer a question (as POST /v1/search), one question or a batch."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap

from rag.cli.common import (DEMO_QUESTION, EXIT_OK, EXIT_USAGE, InputError, dumps, load_cli_settings, note,
                            open_service, preview, question_lines, top_k_type, wrap)

SEARCH_MAX_TOP_K = 50  # as POST /v1/search (api/schemas.SearchRequest)
PREVIEW_CHARS = 600  # of each passage in the human-readable output, unless --full


def _iso_date(text: str) -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD, checked to be a real date (the API's rule: rag.search.stores.base)."""
    from rag.search.stores.base import check_date  # imported here: --help stays fast

    try:
        return check_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(sub) -> None:
    s = sub.add_parser(
        "search",
        help="find the passages that answer a question",
        description=wrap("Search the index for the passages that best answer a question and print them "
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
    s.add_argument("-k", "--top-k", type=top_k_type(SEARCH_MAX_TOP_K, "/v1/search"), metavar="K",
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
        text = r["text"] if full else preview(r["text"], PREVIEW_CHARS)
        wrap.initial_indent = wrap.subsequent_indent = "     "
        out.extend(wrap.fill(line) for line in text.split("\n") if line.strip())
        if full:
            wrap.subsequent_indent = "         "
            out.extend(wrap.fill(f"[{fn['number']}] {fn['text']}") for fn in r.get("footnotes", []))
        out.append("")
    out.append(f"({len(result['results'])} passages in {result['took_ms']:.0f} ms)")
    return "\n".join(out) + "\n"


def cmd_search(args) -> int:
    from rag.search.retrieve import range_is_empty
    from rag.service import validate_query

    settings = load_cli_settings()
    # Everything that can be checked without the model is checked before it loads.
    if range_is_empty(args.date_from, args.date_to):
        raise InputError(f"--from {args.date_from} is after --to {args.date_to}")
    if args.queries_file is not None:
        if args.query is not None:
            raise InputError("give a QUESTION or --queries-file, not both")
        batch = question_lines(args.queries_file, settings.max_query_chars)
    else:
        if args.query is None:
            raise InputError('give a question, e.g. vraagbaak search "Waarom is de WOM ingetrokken?" '
                             "(or --queries-file FILE)")
        validate_query(args.query, settings.max_query_chars)

    service = filters = None  # not needed when every line of a batch is already refused
    if args.queries_file is None or any(error is None for *_, error in batch):
        service = open_service(settings)
        filters = _filters(args, service)
        service.encoder.model  # load the model now, so took_ms measures the search alone

    if args.queries_file is None:
        result = service.search(args.query, top_k=args.top_k, filters=filters).to_dict()
        sys.stdout.write(dumps(result, indent=2) + "\n" if args.json else format_results(result, args.full))
        return EXIT_OK

    failed = 0
    for n, line, query, error in batch:
        if error is None:
            obj = {"line": n, **service.search(query, top_k=args.top_k, filters=filters).to_dict()}
        else:
            failed += 1
            obj = {"line": n, "query": line, "error": error}
        if args.json:
            sys.stdout.write(dumps(obj) + "\n")
        else:
            sys.stdout.write(f"== {n}: {obj['query']}\n")
            sys.stdout.write(f"   error: {error}\n\n" if error else format_results(obj, args.full) + "\n")
        sys.stdout.flush()
    if failed:
        note(f"{failed} of {len(batch)} lines were not searched "
             f"(see the error {'objects' if args.json else 'lines'})")
        return EXIT_USAGE
    return EXIT_OK
