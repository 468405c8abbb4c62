"""``vraagbaak serve``: the HTTP API (api/) under uvicorn, one worker.

The command is the application's entry point, so it is the one place under rag/ that imports api/
(tests/test_layout.py allows exactly this arrow; api/ never imports rag.cli).
"""

from __future__ import annotations

import argparse

from rag.cli.common import EXIT_OK, InputError, load_cli_settings, note, wrap


def add_parser(sub) -> None:
    v = sub.add_parser(
        "serve",
        help="run the HTTP API (search, answers, OpenAI-compatible chat)",
        description=wrap("Serve the HTTP API with one uvicorn worker. The model and index load in the "
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

    settings = load_cli_settings(host=args.host, port=args.port)
    try:
        app = create_app(settings)
    except ValueError as exc:  # an inconsistent configuration, e.g. keys required but none given
        raise InputError(str(exc)) from exc
    configure_logging(settings.log_level)
    note(f"serving on http://{settings.host}:{settings.port} (docs at /docs; ready when /readyz says so)")
    uvicorn.run(app, host=settings.host, port=settings.port, workers=1, log_config=None, access_log=False,
                timeout_graceful_shutdown=10)
    return EXIT_OK
