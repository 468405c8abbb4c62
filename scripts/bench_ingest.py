"""Ingest speed per format: read (the format reader) and read + parse + chunk, in kB/s and (PDF) pages/s.

Files: the corpus's .txt (data/corpus) and the generated test documents (tests/ingest/data/formats); with
``--answers`` also the answers to Kamervragen (Kamerstuk 32 824, nr. 451, 235 questions) written as XML and
HTML by scripts/make_format_fixtures.py, and as PDF when LibreOffice is installed — the large documents.
Each file is read ``--repeat`` times and the best run counts, in CPU time of this process
(``time.process_time``: on a shared machine wall time mostly measures the neighbours). Embedding is not part
of it: scripts/bench_search.py times index builds, and the embedding cache makes it the same for every format.

    python scripts/bench_ingest.py [--answers] [--repeat 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.ingest.chunk import chunk_document  # noqa: E402
from rag.ingest.corpus import read_document  # noqa: E402
from rag.ingest.formats import read  # noqa: E402
from rag.ingest.parse import parse_document  # noqa: E402
from rag.types import Document, DocumentMeta  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _ingest(path: Path) -> tuple[int, int]:
    """(pages, passages) of one file through the readers, the parser and the chunker."""
    meta = DocumentMeta(id=path.stem, title=path.stem)
    if path.suffix == ".txt":
        doc, pages = Document(meta, read_document(path)), 0
    else:
        got = read(path)
        doc, pages = Document(meta, got.text, blocks=got.blocks, footnotes=got.footnotes,
                              paged=got.format == "pdf"), got.pages
    return pages, len(chunk_document(parse_document(doc)))


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return min(times)


def bench(files: list[Path], repeat: int) -> list[dict]:
    rows = []
    for path in files:
        reader = (lambda p=path: read_document(p)) if path.suffix == ".txt" else (lambda p=path: read(p))
        pages, chunks = _ingest(path)  # warm: imports, the word list
        read_s = _best(reader, repeat)
        total_s = _best(lambda p=path: _ingest(p), repeat)
        kb = path.stat().st_size / 1024
        rows.append({"file": path.name, "format": path.suffix.lstrip("."),
                     "kB": round(kb, 1), "pages": pages, "passages": chunks, "read_s": round(read_s, 4),
                     "ingest_s": round(total_s, 4), "read_kB_s": round(kb / read_s), "ingest_kB_s": round(kb / total_s),
                     "pages_s": round(pages / total_s, 1) if pages else None})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", action="store_true", help="also the 235 answers as XML, HTML (and PDF)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    args = parser.parse_args(argv)
    files = sorted((ROOT / "data" / "corpus").glob("*.txt")) + sorted(
        p for p in (ROOT / "tests" / "ingest" / "data" / "formats").iterdir() if p.suffix in (".pdf", ".html", ".xml"))
    with tempfile.TemporaryDirectory() as tmp:
        if args.answers:
            from scripts.make_format_fixtures import write

            files += write(Path(tmp), ("kst-32824-451",), pdf=bool(shutil.which("soffice")))
        rows = bench(files, args.repeat)
    print(f"{'file':36s} {'kB':>7s} {'pages':>5s} {'passages':>8s} {'read kB/s':>10s} {'ingest kB/s':>11s} {'pages/s':>8s}")
    for r in rows:
        print(f"{r['file']:36s} {r['kB']:7.1f} {r['pages'] or '':>5} {r['passages']:8d} {r['read_kB_s']:10d} "
              f"{r['ingest_kB_s']:11d} {r['pages_s'] or '':>8}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
