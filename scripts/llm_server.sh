#!/usr/bin/env bash
# Run the local OpenAI-compatible LLM server (llama.cpp's server from the prebuilt xllamacpp wheel) on a
# Qwen2.5-Coder GGUF model: scripts/llm_server.py does the work, this keeps the command people and the
# tests use.
#
#   scripts/llm_server.sh [0.5b|1.5b] [PORT] [--n_threads N] [--n_ctx N]
#
# Defaults: 0.5b on port 8080, 127.0.0.1 only, n_ctx 4096, 2 threads; the model name in the API is
# qwen2.5-coder-<size>. Ready when GET /v1/models answers 200 (503 while the model loads).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" scripts/llm_server.py "$@"
