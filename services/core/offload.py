"""CPU-heavy work (PDF rendering) in worker processes, off the event loop, with a cap and a bounded queue.

WeasyPrint lays pages out in Python and holds the GIL for long stretches (a 300-row record book
stalls a thread-sharing event loop by ~0.3 s at a time), so a thread is not enough: each render runs
in a worker process of a per-API-process pool (``MOTCUA_PDF_WORKERS``, 2 by default, started on the
first render, warm after it, at a lower CPU priority than the API). At most ``MOTCUA_PDF_QUEUE``
more renders wait for a worker; beyond that the request is answered at once with 503 ``server_busy``
and ``Retry-After`` instead of queueing without bound. A render is counted until its worker is done
with it, even when the client that asked has gone, so abandoned renders cannot push the pool past
its cap.

Workers start from a fork server (a fork of a process with threads and an event loop is unsafe);
as with every non-fork start, each worker imports the parent's ``__main__``, so the entry point must
be guarded (``python -m uvicorn``, pytest and ``if __name__ == "__main__":`` scripts are).
Measured on the 2-core dev machine: a 38-page record book (560 rows) renders in 8 s while the event
loop's worst lag stays under 7 ms; in a thread, a 21-page one stalled the loop for 290 ms at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import hand_back
from services.core.errors import ServiceUnavailable

T = TypeVar("T")
RETRY_AFTER_SECONDS = 5
WORKER_NICENESS = 10  # on a busy machine the scheduler serves the event loop first


def _start_worker() -> None:
    """In each new worker: give way to the API processes (a render is never urgent next to a request's
    answer), and load WeasyPrint once, not on the first request it serves."""
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    import weasyprint  # type: ignore[import-untyped]  # noqa: F401


class ProcessOffload:
    """A pool of ``workers`` processes and at most ``queue`` calls waiting for one."""

    def __init__(self, *, workers: int, queue: int) -> None:
        self.workers = workers
        self.queue = queue
        self._executor: ProcessPoolExecutor | None = None
        self._pending = 0

    @property
    def pending(self) -> int:
        """Calls running or waiting."""
        return self._pending

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # forkserver: a fork of this process (threads, an event loop, open sockets) is not safe
            context = multiprocessing.get_context("forkserver")
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_start_worker
            )
        return self._executor

    def check_capacity(self) -> None:
        """503 ``server_busy`` with ``Retry-After`` when the pool and its queue are full."""
        if self._pending >= self.workers + self.queue:
            raise ServiceUnavailable(
                "Too many documents are being rendered; try again in a moment.",
                code="server_busy",
                retry_after=RETRY_AFTER_SECONDS,
            )

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        """``fn(*args)`` in a worker process (both must pickle); 503 when the pool and its queue are full."""
        self.check_capacity()
        loop = asyncio.get_running_loop()
        self._pending += 1
        try:
            # submit() may start a worker process and wait for the fork server: not on the event loop
            future: Future[T] = await asyncio.to_thread(self._pool().submit, partial(fn, *args))
        except BaseException as exc:
            self._pending -= 1
            if isinstance(exc, BrokenProcessPool):
                raise self._restarted() from None
            raise
        future.add_done_callback(lambda _: self._done_from_worker_thread(loop))
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            raise self._restarted() from None

    async def run_released(self, session: AsyncSession, fn: Callable[..., T], /, *args: Any) -> T:
        """``run`` for a read-only request (a printed form, a signature check): its transaction is ended first,
        so that no pooled connection waits idle for the worker (``services.core.db.hand_back``; a print writes
        its audit line after the render)."""
        await hand_back(session)
        return await self.run(fn, *args)

    def _restarted(self) -> ServiceUnavailable:
        """A worker died (killed, out of memory): the pool is broken; a fresh one starts on the next call."""
        self._executor = None
        return ServiceUnavailable("The document renderer restarted; try again.", code="server_busy", retry_after=1)

    def _done_from_worker_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: the app is gone, nobody counts any more
            loop.call_soon_threadsafe(self._done)

    def _done(self) -> None:
        self._pending -= 1

    def shutdown(self) -> None:
        """At the end of the lifespan: the workers finish what they run and exit; queued calls are dropped."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


async def get_offload(request: Request) -> ProcessOffload:
    """The app's pool; a request that would find it full is refused here, before it reads the database."""
    offload: ProcessOffload = request.app.state.offload
    offload.check_capacity()
    return offload


OffloadDep = Annotated[ProcessOffload, Depends(get_offload)]
