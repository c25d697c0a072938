"""Child process for test_crash_process.py: writes and deletes through an Engine until killed.

Usage: python crash_child.py DATA_DIR SEED BASE_TS [N]
Prints, one line each (flushed at once), ``S <op>`` before an apply and ``A <op>`` after it returned
(acknowledged), where <op> is ``<kind> <key> <clustering> <value> <timestamp>``.
"""
import random
import sys

from cqlpy.engine import Cell, DeletionTime, Engine, PartitionUpdate, Row

TID = b"\x42" * 16
KEYS = [b"k%02d" % i for i in range(24)]


def c(i: int) -> bytes:
    return i.to_bytes(4, "big")


def to_update(kind: str, key: bytes, i: int, value: bytes, ts: int) -> PartitionUpdate:
    if kind == "put":
        return PartitionUpdate(TID, key, rows={c(i): Row(c(i), Cell(b"", ts), None,
                                                          {"v": Cell(value, ts)})})
    if kind == "delrow":
        return PartitionUpdate(TID, key, rows={c(i): Row(c(i), None, DeletionTime(ts, 1), {})})
    return PartitionUpdate(TID, key, deletion=DeletionTime(ts, 1))


def main() -> None:
    data, seed, base = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 1_000_000
    rng = random.Random(seed)
    eng = Engine.open(data, commitlog_sync="batch", memtable_flush_bytes=24 * 1024,
                      commitlog_segment_size=256 * 1024)
    eng.create_table("ks", "t", TID)
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    for j in range(n):
        r = rng.random()
        kind = "put" if r < 0.85 else ("delrow" if r < 0.97 else "delpart")
        key = rng.choice(KEYS)
        i = rng.randrange(16)
        value = b"v%d" % (base + j) + b"x" * rng.randrange(100)
        op = f"{kind} {key.decode()} {i} {value.decode()} {base + j}"
        out.write(f"S {op}\n")
        out.flush()
        eng.apply([to_update(kind, key, i, value, base + j)])
        out.write(f"A {op}\n")
        out.flush()
    eng.close()
    out.write("DONE\n")
    out.flush()


if __name__ == "__main__":
    main()
