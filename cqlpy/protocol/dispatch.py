"""Backend calls from the event loop to the worker threads and back, in batches (RequestDispatcher).

``asyncio.run_in_executor`` costs one executor job, one concurrent Future and one wake-up of the
event loop (a byte through its self-pipe) per request, and each hand-off makes the loop thread and
the worker fight for the GIL.  With many requests in flight that hand-off, not the query, is what a
request costs.  The dispatcher keeps the same threads (the server's ThreadPoolExecutor, ``workers``
of them) but moves work in batches:

* ``submit(fn)`` (loop thread) appends ``fn`` to one queue and returns an asyncio Future; it starts
  a drain job on the executor only when fewer than ``workers`` are running;
* a drain job (worker thread) runs queued calls one after the other until the queue is empty, so
  a worker that is busy picks up new requests without a new job;
* results collect in a list that the loop takes in one ``call_soon_threadsafe`` callback, scheduled
  when the queue runs dry or ``DELIVER_EVERY`` results have piled up: one wake-up of the loop (and
  one write to the client) for a whole batch, instead of a wake-up per result that makes the two
  threads trade the GIL after every request.  So that a result never waits for a slow call queued
  behind it, the first result of a batch also arms a ``DELIVER_AFTER`` timer on the loop.

Calls still run one at a time per worker and in submission order when ``workers`` is 1, as before.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import threading
import time
from typing import Any, Callable

DELIVER_EVERY = 64          # results handed to the loop at the latest after this many...
DELIVER_AFTER = 0.002       # ...or this many seconds after the oldest undelivered one


class RequestDispatcher:
    """Runs callables on ``executor``'s threads (at most ``workers`` at once), answers on ``loop``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, executor: concurrent.futures.Executor,
                 workers: int) -> None:
        self.loop = loop
        self.executor = executor
        self.workers = max(1, workers)
        self._lock = threading.Lock()
        self._queue: collections.deque[tuple[Callable[[], Any], asyncio.Future]] = collections.deque()
        self._draining = 0                         # drain jobs submitted and not yet returned
        self._results: list[tuple[asyncio.Future, bool, Any]] = []
        self._oldest_result = 0.0                  # monotonic time of the oldest undelivered result
        self._delivery_pending = False             # a _deliver is scheduled on the loop

    def submit(self, fn: Callable[[], Any]) -> asyncio.Future:
        """Queue ``fn`` (loop thread); the Future gets its return value or its exception."""
        future = self.loop.create_future()
        with self._lock:
            self._queue.append((fn, future))
            start = self._draining < self.workers
            if start:
                self._draining += 1
        if start:
            try:
                self.executor.submit(self._drain)
            except RuntimeError:                   # the executor is shut down: the server is closing
                with self._lock:
                    self._draining -= 1
                    self._queue.remove((fn, future))
                future.cancel()
        return future

    def _drain(self) -> None:
        """Worker thread: run queued calls until there are none."""
        while True:
            with self._lock:
                if not self._queue:
                    self._draining -= 1
                    schedule = bool(self._results) and not self._delivery_pending
                    self._delivery_pending = self._delivery_pending or schedule
                    break
                fn, future = self._queue.popleft()
            if future.cancelled():
                continue
            try:
                item = (future, True, fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine
                item = (future, False, exc)
            now = time.monotonic()
            with self._lock:
                first = not self._results
                if first:
                    self._oldest_result = now
                self._results.append(item)
                due = (not self._queue or len(self._results) >= DELIVER_EVERY
                       or now - self._oldest_result >= DELIVER_AFTER)
                schedule = due and not self._delivery_pending
                self._delivery_pending = self._delivery_pending or schedule
            if schedule:
                self._wake_loop()
            elif first and not due:                # more queued: deliver this one soon anyway
                self._wake_loop(DELIVER_AFTER)
        if schedule:
            self._wake_loop()

    def _wake_loop(self, delay: float = 0.0) -> None:
        try:
            if delay:
                self.loop.call_soon_threadsafe(self.loop.call_later, delay, self._deliver)
            else:
                self.loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:                       # the loop is closed: nobody awaits any more
            pass

    def _deliver(self) -> None:
        """Loop thread: complete the Futures of every result collected so far."""
        with self._lock:
            results, self._results = self._results, []
            self._delivery_pending = False
        if not results:
            return
        for future, ok, value in results:
            if future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
