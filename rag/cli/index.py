"""``vraagbaak index``: build (or refresh) the search index from the corpus (rag/ingest/build.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.cli.common import EXIT_OK, load_cli_settings, note, wrap


def add_parser(sub) -> None:
    p = sub.add_parser(
        "index",
        help="build (or refresh) the search index from the corpus",
        description=wrap("Load, parse, chunk and embed the corpus, and publish a new index atomically. "
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


def cmd_index(args) -> int:
    from rag.ingest.build import build_index
    from rag.search.stores import open_store

    settings = load_cli_settings(corpus_dir=args.corpus)
    if open_store(settings).active_manifest() is None:
        note(f"building a new index in {open_store(settings)} (the first build embeds every passage: "
             "a few minutes on a CPU)")
    report = build_index(settings, force=args.force)
    print(f"index {report.status}: {report.documents} documents, {report.chunks} chunks, "
          f"{report.embedded} newly embedded, {report.seconds:.1f} s ({report.version})")
    if report.skipped:  # reported, not fatal: the other documents are indexed and served
        print(f"skipped {len(report.skipped)} file(s), not in the index:")
        for skipped in report.skipped:
            print(f"  {skipped}")
    if report.flagged:  # indexed, but these sentences are never quoted, sent to the LLM or taken as support
        print(f"flagged instructions to the model in {len(report.flagged)} document(s), never used as evidence:")
        for flagged in report.flagged:
            print(f"  {flagged}")
    return EXIT_OK
