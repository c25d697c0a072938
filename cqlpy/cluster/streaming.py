"""Range streaming (Cassandra's StreamPlan, in small), shared by bootstrap, decommission and removenode.

For every user keyspace the ranges that change hands are ``replication.range_movements`` of a token
metadata holding the pending change (a bootstrapping or leaving endpoint); for each
(range, target, sources) one live source (this node when it holds the range) scans its partitions
of every table of the keyspace in the range, tombstones kept (RANGE_REQ when the source is another
node), and they go to the target as MUTATION_REQ in batches of ``STREAM_BATCH``, each acknowledged
before the next (applied locally when the target is this node: a bootstrap pulls its ranges).
Writes arriving meanwhile reach the gaining nodes too (the coordinator adds pending replicas).

Bounded memory: a range is never held whole.  The source is read a page at a time (RANGE_REQ with
``limit`` = ``page_partitions`` and ``max_bytes`` = ``page_bytes``; the answer's ``next`` resumes
after the last partition sent), and each page is sent and acknowledged before the next is asked
for, so at most one page (<= page_partitions partitions, about page_bytes plus one partition) is
in memory per stream.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, AsyncIterator, Callable, Iterable

log = logging.getLogger("cqlpy.streaming")

STREAM_BATCH = 64                     # partitions per MUTATION_REQ
STREAM_PAGE_PARTITIONS = 256          # partitions per RANGE_REQ page
STREAM_PAGE_BYTES = 4 * 1024 * 1024   # encoded bytes per page (frames stop at 16 MiB)
STREAM_TIMEOUT = 20.0


class StreamingError(Exception):
    """A streaming session that could not complete."""


class RangeStreamer:
    """Streams token ranges between nodes over ``messaging`` (RANGE_REQ out, MUTATION_REQ in).

    ``is_local(endpoint)`` and ``is_alive(endpoint)`` come from the ring; ``error`` is the
    exception class raised on failure (nodetool's AdminError for its commands)."""

    def __init__(self, messaging: Any, engine: Any, *, is_local: Callable[[Any], bool],
                 is_alive: Callable[[Any], bool], error: type[Exception] = StreamingError,
                 timeout: float = STREAM_TIMEOUT, batch: int = STREAM_BATCH,
                 page_partitions: int = STREAM_PAGE_PARTITIONS,
                 page_bytes: int = STREAM_PAGE_BYTES) -> None:
        self.messaging = messaging
        self.engine = engine
        self.is_local = is_local
        self.is_alive = is_alive
        self.error = error
        self.timeout = timeout
        self.batch = batch
        self.page_partitions = page_partitions
        self.page_bytes = page_bytes
        self.pages = 0                        # RANGE_REQ pages read (what the tests look at)
        self.max_page = 0                     # the most partitions one page held

    async def _off_loop(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def stream_movements(self, keyspaces: Iterable[tuple[str, Any]], plan_tm: Any,
                               exclude: Any = None,
                               target_filter: Callable[[Any], bool] | None = None
                               ) -> tuple[int, int]:
        """Stream every range that changes hands in ``plan_tm`` from a live holder to its new
        replica; ``keyspaces`` is (name, replication strategy) pairs.  Returns (partitions sent,
        ranges no live replica holds).  With ``exclude`` (removenode: the dead node) those ranges
        are skipped (Cassandra goes on too: the data is lost); otherwise they fail the stream.
        ``target_filter`` limits the targets (a bootstrap streams only to itself)."""
        from cqlpy.cluster.replication import range_movements
        sent = lost = 0
        for name, strategy in sorted(keyspaces, key=lambda kv: kv[0]):
            tables = [tid for ksn, _t, tid in self.engine.tables() if ksn == name]
            if not tables:
                continue
            for move in range_movements(strategy, plan_tm):
                if exclude is not None and move.target == exclude:
                    continue
                if target_filter is not None and not target_filter(move.target):
                    continue
                if not self.is_local(move.target) and not self.is_alive(move.target):
                    raise self.error(f"Cannot stream to {move.target}: it is DOWN")
                sources = [s for s in move.sources
                           if s != exclude and (self.is_local(s) or self.is_alive(s))]
                if not sources and exclude is not None:
                    log.warning("no live replica holds range (%d, %d] of keyspace %s: its data "
                                "is lost", move.range.start, move.range.end, name)
                    lost += 1
                    continue
                if not sources:
                    raise self.error(f"No live replica holds range ({move.range.start}, "
                                     f"{move.range.end}] of keyspace {name}")
                source = next((s for s in sources if self.is_local(s)), sources[0])
                for tid in tables:
                    async for page in self.pages_of(source, tid, move.range):
                        await self.send(move.target, page)
                        sent += len(page)
        return sent, lost

    async def fetch(self, source: Any, table_id: bytes, rng: Any) -> list[bytes]:
        """The encoded partitions (tombstones kept) ``source`` holds of one table in one range,
        all at once (streaming itself goes page by page: ``pages_of``)."""
        out: list[bytes] = []
        async for page in self.pages_of(source, table_id, rng):
            out.extend(page)
        return out

    async def pages_of(self, source: Any, table_id: bytes, rng: Any) -> AsyncIterator[list[bytes]]:
        """The partitions ``source`` holds of one table in one range, a bounded page at a time."""
        from cqlpy.cluster.messaging import Verb
        from cqlpy.cluster.ring_engine import range_answer
        from cqlpy.engine import murmur3
        if rng.start < rng.end:
            parts = [(rng.start, rng.end)]
        else:                                   # wraps past MAX_TOKEN (or the whole ring)
            parts = [(rng.start, None), (None, rng.end)]
        for start, end in parts:
            payload = {"table": table_id, "start": None if start is None else [start, b""],
                       "inclusive": True, "end": end, "limit": self.page_partitions,
                       "max_bytes": self.page_bytes}
            while True:
                if self.is_local(source):
                    answer = await self._off_loop(range_answer, self.engine, payload)
                else:
                    answer = await self.request(source, Verb.RANGE_REQ, payload)
                blobs = [b for b in answer.get("partitions") or [] if b is not None]
                self.pages += 1
                self.max_page = max(self.max_page, len(blobs))
                page = [b for b in blobs if rng.contains(murmur3.token(_key_of(b)))]
                if page:
                    yield page
                resume = answer.get("next")
                if not resume:
                    break
                payload = dict(payload, start=[int(resume[0]), bytes(resume[1])], inclusive=False)

    async def send(self, target: Any, updates: list[bytes]) -> None:
        from cqlpy.cluster.messaging import Verb
        if self.is_local(target):
            if updates:
                from cqlpy.engine.serialization import decode_update
                await self._off_loop(self.engine.apply, [decode_update(b) for b in updates])
            return
        for i in range(0, len(updates), self.batch):
            await self.request(target, Verb.MUTATION_REQ, {"updates": updates[i:i + self.batch]})

    async def request(self, to: Any, verb: Any, payload: Any) -> Any:
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()
        error = self.error

        def answered(message: Any) -> None:
            loop.call_soon_threadsafe(lambda: done.done() or done.set_result(message.payload))

        def failed(*info: Any) -> None:
            detail = " ".join(str(i) for i in info if i is not None) or "timed out"
            loop.call_soon_threadsafe(lambda: done.done() or done.set_exception(
                error(f"streaming to/from {to} failed: {verb.name}: {detail}")))

        self.messaging.send_with_callback(to, verb, payload, answered, failed,
                                          timeout=self.timeout)
        return await asyncio.wait_for(done, self.timeout + 5)


def _key_of(encoded: bytes) -> bytes:
    """The partition key of an encoded PartitionUpdate."""
    from cqlpy.engine.serialization import decode_update
    return decode_update(encoded).key
