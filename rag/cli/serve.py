"""``vraagbaak serve``: the HTTP API (api/) under uvicorn, one worker.

The command is the application's entry point, so it is the one place under rag/ that imports api/
(tests/test_layout.py allows exactly this arrow; api/ never imports rag.cli).
"""

from __future__ import annotations

import argparse
import errno
import socket

from rag.cli.common import EXIT_ERROR, EXIT_OK, InputError, load_cli_settings, note, wrap


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


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host``:``port`` (the first address ``host`` resolves to), made before
    anything else so a port in use or a host that is not this machine's is one clear error (InputError,
    exit status 2) before the app starts, and builds or publishes an index, in its lifespan; uvicorn
    would only bind after that and exit with its own status 3. SO_REUSEADDR as uvicorn sets it."""
    where = f"[{host}]" if ":" in host else host
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on host {host!r}: it is not an address or a name this machine can "
                         f"resolve ({exc.strerror}); choose another with --host") from None
    try:
        return socket.create_server(address, family=family)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise InputError(f"port {port} on {host} is already in use; choose another with --port") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise InputError(f"cannot listen on {host}: it is not an address of this machine; choose another "
                             "with --host (0.0.0.0 for every interface)") from None
        if exc.errno == errno.EACCES:
            raise InputError(f"no permission to listen on port {port} (ports below 1024 need privileges); "
                             "choose another with --port") from None
        raise InputError(f"cannot listen on {where}:{port}: {exc.strerror or exc}") from None


def cmd_serve(args) -> int:
    import uvicorn

    from api.app import create_app
    from api.observability import configure_logging

    settings = load_cli_settings(host=args.host, port=args.port)
    sock = listen_socket(settings.host, settings.port)
    with sock:
        try:
            app = create_app(settings)
        except ValueError as exc:  # an inconsistent configuration, e.g. keys required but none given
            raise InputError(str(exc)) from exc
        configure_logging(settings.log_level)
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        note(f"serving on http://{host}:{settings.port} (docs at /docs; ready when /readyz says so)")
        server = uvicorn.Server(uvicorn.Config(app, workers=1, log_config=None, access_log=False,
                                               timeout_graceful_shutdown=10))
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
    if not server.started:  # the app's startup failed; its log line says why
        note("error: the server did not start (see the log line above)")
        return EXIT_ERROR
    return EXIT_OK
