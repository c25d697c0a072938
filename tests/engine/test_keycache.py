"""Key cache: LRU order, counters, invalidation."""
import threading

from cqlpy.engine.keycache import KeyCache


def test_hits_misses_and_lru_eviction():
    kc = KeyCache(capacity=2)
    assert kc.get("s1", b"a") is None
    kc.put("s1", b"a", (1, 2, ()))
    kc.put("s1", b"b", (3, 4, ()))
    assert kc.get("s1", b"a") == (1, 2, ())      # a is now most recent
    kc.put("s1", b"c", (5, 6, ()))                # evicts b
    assert kc.get("s1", b"b") is None
    assert kc.get("s1", b"c") == (5, 6, ())
    assert (kc.hits, kc.misses) == (2, 2)
    assert kc.hit_rate == 0.5
    assert kc.stats()["size"] == 2


def test_keys_are_per_sstable_and_invalidate():
    kc = KeyCache()
    kc.put("s1", b"k", 1)
    kc.put("s2", b"k", 2)
    assert kc.get("s1", b"k") == 1 and kc.get("s2", b"k") == 2
    assert kc.invalidate("s1") == 1
    assert kc.get("s1", b"k") is None and kc.get("s2", b"k") == 2
    kc.clear()
    assert len(kc) == 0


def test_zero_capacity_caches_nothing():
    kc = KeyCache(capacity=0)
    kc.put("s", b"k", 1)
    assert kc.get("s", b"k") is None


def test_concurrent_use():
    kc = KeyCache(capacity=50)

    def work(n):
        for i in range(2000):
            kc.put(n, bytes([i % 200]), i)
            kc.get(n, bytes([(i * 7) % 200]))
    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kc) <= 50
    assert kc.hits + kc.misses == 8000
