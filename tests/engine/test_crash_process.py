"""A real process writing through the Engine (batch commit log, small memtables, so flushes and
compactions run) is killed with SIGKILL at random moments; after each kill the data folder must
open (the dead owner's lock is gone) and hold every acknowledged write and delete exactly.  The one
write that was started but not acknowledged may or may not be there."""
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from cqlpy.engine import Engine

CHILD = os.path.join(os.path.dirname(__file__), "crash_child.py")
TID = b"\x42" * 16
KEYS = [b"k%02d" % i for i in range(24)]
KILLS = 14


def c(i: int) -> bytes:
    return i.to_bytes(4, "big")


def apply(model, op):
    kind, key, i, value, _ts = op
    if kind == "put":
        model[key][c(i)] = value
    elif kind == "delrow":
        model[key].pop(c(i), None)
    else:
        model[key].clear()


def parse(line: str):
    kind, key, i, value, ts = line.split(" ")
    return kind, key.encode(), int(i), value.encode(), int(ts)


def read_all(data: str):
    eng = Engine.open(data, compaction=False)
    try:
        out = {}
        for key in KEYS:
            p = eng.read(TID, key)
            out[key] = {} if p is None else {r.clustering: r.columns["v"].value for r in p.rows}
        problems = [p for h in eng._tables[TID].live_sstables() for p in h.reader.verify()]
        stats = eng.stats(TID)
    finally:
        eng.close()
    return out, problems, stats


def run_child(data: str, seed: int, base: int, rng: random.Random, errlog, early: bool):
    """Run the child and SIGKILL it: ``early`` = at a random moment of its start-up (open,
    replay, post-replay flush), otherwise at a random moment while it writes."""
    # stdout is read only through its TextIOWrapper (readline, then read): mixing it with
    # communicate(), which reads the raw pipe, would lose lines readline had buffered
    proc = subprocess.Popen([sys.executable, CHILD, data, str(seed), str(base)],
                            stdout=subprocess.PIPE, stderr=errlog, text=True)
    try:
        if early:
            time.sleep(rng.uniform(0.1, 0.5))
        else:
            first = proc.stdout.readline()
            assert first == "READY\n", first
            time.sleep(rng.uniform(0.15, 0.9))
        proc.send_signal(signal.SIGKILL)
        out = proc.stdout.read()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        proc.stdout.close()
    if proc.returncode != -signal.SIGKILL:
        errlog.flush()
        with open(errlog.name) as f:
            raise AssertionError(f"child exited with {proc.returncode}: {f.read()[-3000:]}")
    return out.splitlines()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_write(tmp_path):
    data = str(tmp_path / "db")
    rng = random.Random(20261126)
    model = {k: {} for k in KEYS}
    acked_total = 0
    deadline = time.time() + 120
    for run in range(KILLS):
        assert time.time() < deadline, "crash loop too slow"
        with open(tmp_path / f"child-{run}.err", "w") as errlog:
            lines = run_child(data, seed=run, base=(run + 1) * 1_000_000, rng=rng, errlog=errlog,
                              early=run % 4 == 3)
        inflight = None
        for line in lines:
            if line.startswith("A "):
                apply(model, parse(line[2:]))
                acked_total += 1
                inflight = None
            elif line.startswith("S "):
                inflight = parse(line[2:])
        got, problems, stats = read_all(data)
        assert problems == []
        if got != model:
            diff = {k: (model[k], got[k]) for k in KEYS if got[k] != model[k]}
            assert inflight is not None, f"run {run}: acknowledged data differs: {diff}"
            alt = {k: dict(v) for k, v in model.items()}
            apply(alt, inflight)
            diff = {k: (model[k], alt[k], got[k]) for k in KEYS if got[k] != alt[k]}
            assert got == alt, (f"run {run}: neither with nor without the in-flight write "
                                f"{inflight}: key -> (acked, acked+inflight, read) {diff}")
            model = alt
    assert acked_total > 200
    # flushes and compactions happened along the way
    assert stats["sstable_count"] >= 1
