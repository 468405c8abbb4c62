"""The gate every model call of the app passes through, and the worker threads those calls run in.

A process that exits while a thread is still inside torch aborts, so shutdown closes the gate and waits
until no thread is inside the model (:class:`ModelGate`); the event loop's default executor sends the
answer engine's work through the same gate (:class:`GatedExecutor`). Each worker thread gets the torch
thread count of a query process (:func:`query_thread`). Used by api/runtime.py.
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

from api.errors import ApiError
from embeddings.encoder import set_torch_threads

_thread = threading.local()


def query_thread(threads: int) -> None:
    """Give this worker thread the torch/OpenMP thread count of a query process. OpenMP keeps that
    count per thread: a thread the setting was never made in runs the model on every core, which
    here is slower for one short query (rag/config.py query_threads; measured 87-100 ms p50 vs 75)."""
    if getattr(_thread, "threads", None) != threads:
        set_torch_threads(threads)
        _thread.threads = threads


def in_query_thread(threads: int, fn, *args):
    """``fn(*args)`` in a thread set up by :func:`query_thread`."""
    query_thread(threads)
    return fn(*args)


class ModelGate:
    """Every model call the app starts in a worker thread passes through here, so shutdown can close
    the gate and wait until no thread is inside the model. A process that exits while a thread is
    still in torch aborts ("terminate called without an active exception", exit 134); cancelling the
    awaiting task does not stop the thread, so shutdown has to wait for it. Long work (warm-up,
    index builds) is done in short calls or asks :meth:`closed` between slices, so the wait is short."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._closed = False

    def run(self, fn, *args):
        with self._cond:  # checking and counting under one lock: no call slips in after close()
            if self._closed:
                raise ApiError(503, "shutting_down", "the server is shutting down; retry in a moment")
            self._active += 1
        try:
            return fn(*args)
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True

    @property
    def active(self) -> int:
        return self._active


class GatedExecutor(ThreadPoolExecutor):
    """The loop's default executor (the answer engine's asyncio.to_thread work), through the gate."""

    def __init__(self, gate: ModelGate, **kwargs):
        super().__init__(**kwargs)
        self._gate = gate

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(self._gate.run, functools.partial(fn, *args, **kwargs))
