"""Size-tiered compaction selection and the compaction log format."""
from cqlpy.engine.compaction import (decode_log, encode_log, pending_compactions,
                                     select_compaction, size_tiered_buckets)

MB = 1024 * 1024
OPTS = {"min_threshold": 4, "max_threshold": 32, "bucket_low": 0.5, "bucket_high": 1.5,
        "min_sstable_size": 50 * MB, "enabled": True}


def test_small_sstables_share_one_bucket():
    sizes = [1 * MB, 10 * MB, 20 * MB, 49 * MB]
    assert size_tiered_buckets(list("abcd"), sizes) == [["a", "b", "c", "d"]]


def test_buckets_by_similar_size():
    sizes = [100 * MB, 120 * MB, 90 * MB, 400 * MB, 410 * MB, 1000 * MB]
    buckets = size_tiered_buckets(list("abcdef"), sizes)
    assert buckets == [["c", "a", "b"], ["d", "e"], ["f"]]


def test_bucket_average_moves_as_members_join():
    # 100 -> avg 100; 140 joins (<=150) -> avg 120; 175 joins (<=180); 300 does not
    sizes = [100 * MB, 140 * MB, 175 * MB, 300 * MB]
    assert size_tiered_buckets(list("abcd"), sizes) == [["a", "b", "c"], ["d"]]


def test_select_needs_min_threshold():
    assert select_compaction(list("abc"), [1, 2, 3], OPTS) is None
    assert select_compaction(list("abcd"), [1, 2, 3, 4], OPTS) == list("abcd")
    assert select_compaction(list("abcd"), [1, 2, 3, 4], {**OPTS, "enabled": False}) is None


def test_select_caps_at_max_threshold_smallest_first():
    items = [f"s{i}" for i in range(40)]
    sizes = [1000 + i for i in range(40)]
    chosen = select_compaction(items, sizes, OPTS)
    assert chosen == items[:32]
    assert pending_compactions(items, sizes, OPTS) == 2


def test_select_prefers_the_fullest_bucket():
    items = ["a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4", "b5"]
    sizes = [100 * MB] * 4 + [400 * MB] * 5
    assert select_compaction(items, sizes, OPTS) == ["b1", "b2", "b3", "b4", "b5"]
    assert pending_compactions(items, sizes, OPTS) == 2


def test_min_threshold_option():
    assert select_compaction(list("ab"), [1, 1], {**OPTS, "min_threshold": 2}) == ["a", "b"]


def test_log_round_trip_and_corruption():
    data = encode_log(9, [3, 4, 5])
    assert decode_log(data) == (9, [3, 4, 5])
    assert decode_log(data[:-1]) is None
    bad = bytearray(data)
    bad[10] ^= 1
    assert decode_log(bytes(bad)) is None
    assert decode_log(b"") is None
