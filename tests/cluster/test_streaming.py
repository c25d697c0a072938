"""Range streaming reads a range in bounded pages (partitions and bytes), resuming after the last
partition of each page, and still yields exactly the partitions of the range, wrapping ranges too;
over the simulated network a RANGE_REQ page answers the same way."""
from __future__ import annotations

import asyncio

from cqlpy.cluster.partitioner import TokenRange
from cqlpy.cluster.ring_engine import range_answer
from cqlpy.cluster.streaming import RangeStreamer
from cqlpy.engine import Engine, murmur3
from cqlpy.engine.serialization import decode_update

from .sim_cluster import TABLE_ID, row_update

KEYS = [b"key-%04d" % i for i in range(600)]


def engine_with_data(tmp_path):
    engine = Engine.open(str(tmp_path / "e"), commitlog_sync="periodic", compaction=False)
    engine.create_table("ks", "t", TABLE_ID)
    engine.apply([row_update(k, b"c", b"x" * 200, 1) for k in KEYS])
    engine.flush()
    engine.apply([row_update(k, b"d", b"y", 2) for k in KEYS[::7]])   # memtable + SSTable
    return engine


def streamer(engine, **kw) -> RangeStreamer:
    return RangeStreamer(None, engine, is_local=lambda e: True, is_alive=lambda e: True, **kw)


def collect(s: RangeStreamer, rng: TokenRange) -> list[list[bytes]]:
    async def run():
        return [page async for page in s.pages_of("me", TABLE_ID, rng)]
    return asyncio.run(run())


def keys_in(rng: TokenRange) -> set[bytes]:
    return {k for k in KEYS if rng.contains(murmur3.token(k))}


def test_pages_are_bounded_and_cover_the_range_exactly(tmp_path):
    engine = engine_with_data(tmp_path)
    try:
        for rng in (TokenRange(-(2 ** 62), 2 ** 62), TokenRange(2 ** 62, -(2 ** 62)),
                    TokenRange(0, 0)):             # inside, wrapping, the whole ring
            s = streamer(engine, page_partitions=50)
            pages = collect(s, rng)
            assert s.max_page <= 50 and s.pages >= len(keys_in(rng)) // 50
            got = [decode_update(b).key for page in pages for b in page]
            assert len(got) == len(set(got))            # nothing twice across page boundaries
            assert set(got) == keys_in(rng)
        s = streamer(engine, page_partitions=10_000, page_bytes=10_000)   # the byte cap
        pages = collect(s, TokenRange(0, 0))
        assert s.pages >= 600 * 200 // 10_000 and all(
            sum(len(b) for b in p) < 10_000 + 1_000 for p in pages)
        assert sum(len(p) for p in pages) == 600
        whole = asyncio.run(streamer(engine).fetch("me", TABLE_ID, TokenRange(0, 0)))
        assert sorted(decode_update(b).key for b in whole) == sorted(KEYS)
        merged = decode_update(next(b for b in whole if decode_update(b).key == KEYS[7]))
        assert set(merged.rows) == {b"c", b"d"}         # memtable and SSTable merged
    finally:
        engine.close()


def test_range_answer_pages_resume_after_the_last_partition(tmp_path):
    engine = engine_with_data(tmp_path)
    try:
        payload = {"table": TABLE_ID, "start": None, "inclusive": True, "end": None, "limit": 100}
        seen: list[bytes] = []
        while True:
            answer = range_answer(engine, payload)
            assert len(answer["partitions"]) <= 100
            seen.extend(decode_update(b).key for b in answer["partitions"])
            if "next" not in answer:
                break
            token, key = answer["next"]
            assert (token, key) == (murmur3.token(seen[-1]), seen[-1])
            payload = dict(payload, start=[token, key], inclusive=False)
        assert seen == sorted(KEYS, key=lambda k: (murmur3.token(k), k))
        # without a limit the answer is the whole range, as before
        assert len(range_answer(engine, {"table": TABLE_ID})["partitions"]) == 600
    finally:
        engine.close()
