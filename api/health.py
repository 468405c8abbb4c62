"""GET /healthz (the process is up), GET /readyz (model and index loaded) and GET /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ERRORS, RuntimeDep
from api.runtime import flagged_documents, skipped_files
from api.schemas import Health, Readiness
from api.security import public_access

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="Liveness")
async def healthz() -> dict:
    """200 as long as the process serves HTTP, also while the model and index are loading."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: ERRORS[503]}, summary="Readiness")
async def readyz(runtime: RuntimeDep) -> dict:
    """200 once the embedding model and the index are loaded; 503 (error shape) until then, or when
    loading failed (the message says why). ``warm`` turns true a little later, when the background
    warm-up is done and latency is at its steady state."""
    loaded = runtime.require()
    service = loaded.service
    return {
        "status": "ready",
        "documents": len(service.index.documents),
        "passages": len(service.index.chunks),
        "index": service.index.name,
        "embedding_model": service.settings.embedding_model,
        "answer_engine": loaded.engine is not None,
        "llm_configured": runtime.llm is not None,
        "warm": runtime.warm,
        "skipped_files": skipped_files(service),
        "flagged_documents": flagged_documents(service),
    }


@router.get("/metrics", dependencies=[Depends(public_access)], summary="Prometheus metrics",
            response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
