#!/usr/bin/env bash
# Install llama-cpp-python (with its [server] extra) into the project's virtualenv, built with
# CPU flags that work on our VMs. The default build enables Intel AMX, which these VMs forbid:
# it compiles fine and then crashes at the first token. See ../shared/MODELS.md.
#
# Idempotent: if the venv already has llama_cpp 0.3.36 installed from our flagged wheel (checked
# through a stamp file holding the sha256 of the installed libllama), it does nothing.
# pip's wheel cache does not key on CMAKE_ARGS, so we never let pip build implicitly: the wheel
# is built explicitly (--no-cache-dir) into a cache directory named after a hash of the flags,
# and installed from that file.
#
#   scripts/install_llama_cpp.sh            # uses .venv/bin/python
#   PYTHON=/path/to/python scripts/install_llama_cpp.sh
#   FORCE=1 scripts/install_llama_cpp.sh    # reinstall from the cached wheel even if stamped
set -euo pipefail

cd "$(dirname "$0")/.."

LLAMA_VERSION="0.3.36"
PYTHON="${PYTHON:-.venv/bin/python}"
CACHE_DIR="${VRAAGBAAK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vraagbaak}"
# Fixed flags, deliberately not taken from the caller's environment: a stray CMAKE_ARGS must not
# produce a crashing build.
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
FLAGS_HASH="$(printf '%s' "llama-cpp-python==${LLAMA_VERSION} ${CMAKE_ARGS}" | sha256sum | cut -c1-12)"
WHEEL_DIR="${CACHE_DIR}/wheels/llama-cpp-${FLAGS_HASH}"

log() { printf '[install_llama_cpp] %s\n' "$*" >&2; }

if ! [ -x "$PYTHON" ] && ! command -v "$PYTHON" >/dev/null 2>&1; then
    log "error: python '$PYTHON' not found (set PYTHON=...)"
    exit 1
fi
STAMP="$("$PYTHON" -c 'import sys; print(sys.prefix)')/.vraagbaak-llama-cpp.stamp"

# Print the stamp line describing what is installed now, or nothing if llama_cpp (or a server
# dependency) is not importable. Identifies the build by the sha256 of the installed libllama.
installed_fingerprint() {
    "$PYTHON" - "$LLAMA_VERSION" "$FLAGS_HASH" 2>/dev/null <<'EOF' || true
import hashlib, pathlib, sys
import llama_cpp
import fastapi, uvicorn, sse_starlette, starlette_context, pydantic_settings  # noqa: F401  [server] extra
if llama_cpp.__version__ != sys.argv[1]:
    sys.exit(1)
libs = sorted(pathlib.Path(llama_cpp.__file__).parent.glob("lib/libllama.*"))
if not libs:
    sys.exit(1)
digest = hashlib.sha256(libs[0].read_bytes()).hexdigest()
print(f"version={sys.argv[1]} flags={sys.argv[2]} libllama_sha256={digest}")
EOF
}

if [ "${FORCE:-0}" != "1" ] && [ -f "$STAMP" ]; then
    current="$(installed_fingerprint)"
    if [ -n "$current" ] && [ "$current" = "$(cat "$STAMP")" ]; then
        log "llama-cpp-python ${LLAMA_VERSION} (flags ${FLAGS_HASH}) already installed from our wheel; nothing to do"
        exit 0
    fi
    log "stamp present but the installed llama_cpp does not match it; reinstalling"
fi

mkdir -p "$WHEEL_DIR"
wheel="$(ls "$WHEEL_DIR"/llama_cpp_python-"${LLAMA_VERSION}"-*.whl 2>/dev/null | head -n1 || true)"
if [ -n "$wheel" ]; then
    log "using cached wheel $wheel"
else
    log "building llama-cpp-python ${LLAMA_VERSION} from source (takes 4-11 min on 2 cores)"
    log "CMAKE_ARGS=${CMAKE_ARGS}"
    # Build into a temporary directory and move the wheel in only when complete, so an
    # interrupted build never leaves a half-written wheel that later runs would trust.
    tmp="$(mktemp -d "${WHEEL_DIR}/.build-XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    start=$SECONDS
    CMAKE_ARGS="$CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" FORCE_CMAKE=1 \
        "$PYTHON" -m pip wheel --no-deps --no-cache-dir --no-binary llama-cpp-python \
        -w "$tmp" "llama-cpp-python==${LLAMA_VERSION}"
    built="$(ls "$tmp"/llama_cpp_python-"${LLAMA_VERSION}"-*.whl)"
    mv "$built" "$WHEEL_DIR/"
    wheel="$WHEEL_DIR/$(basename "$built")"
    rm -rf "$tmp"
    trap - EXIT
    log "built $wheel in $((SECONDS - start)) s"
fi

log "installing $(basename "$wheel") with the [server] extra (dependencies from the index)"
# The wheel file itself pins the main package, so pip cannot pick another llama-cpp-python build;
# --force-reinstall --no-deps first replaces any other build already in the venv.
"$PYTHON" -m pip install --no-cache-dir --force-reinstall --no-deps "$wheel"
"$PYTHON" -m pip install "${wheel}[server]"

current="$(installed_fingerprint)"
if [ -z "$current" ]; then
    log "error: llama_cpp ${LLAMA_VERSION} with server dependencies is not importable after install"
    exit 1
fi
printf '%s\n' "$current" >"$STAMP"
log "installed; stamp written to $STAMP"
