"""cqlpy-sstable: dump, meta, verify; via main(argv) and via python -m."""
import io
import json
import os
import subprocess
import sys

import pytest

from cqlpy.engine import descriptor as d
from cqlpy.engine.compression import CompressionParams
from cqlpy.engine.fs import RealFileSystem
from cqlpy.engine.murmur3 import token
from cqlpy.engine.rows import (
    Cell, ComplexColumn, DeletionTime, PartitionUpdate, RangeTombstone, Row, Slice)
from cqlpy.engine.sstable_writer import SSTableWriter
from cqlpy.engine.tools import main

TABLE = bytes(range(16))


def make_table(directory: str, generation: int = 1) -> list[PartitionUpdate]:
    fs = RealFileSystem()
    fs.makedirs(directory)
    parts = []
    for i in range(30):
        u = PartitionUpdate(TABLE, b"key%d" % i)
        for j in range(20):
            cl = bytes([j])
            u.rows[cl] = Row(cl, Cell(b"", 10), None, {"v": Cell(os.urandom(50), 10)})
        parts.append(u)
    parts[0].deletion = DeletionTime(5, 1000)
    parts[1].range_tombstones = [RangeTombstone(Slice(b"\x01", True, None, True),
                                                DeletionTime(6, 1001))]
    parts[2].static_row = Row(b"", None, None, {"s": Cell(b"st", 3, 60, 4000)})
    parts[3].rows[b"\x00"] = Row(b"\x00", None, DeletionTime(7, 1002), {
        "m": ComplexColumn(DeletionTime(8, 1003), {b"\x01": Cell(None, 9, 0, 1004)})})
    w = SSTableWriter(fs, directory, generation, expected_partitions=30, table_id=TABLE,
                      compression=CompressionParams(1024), commitlog_position=(4, 2048))
    for u in sorted(parts, key=lambda u: (token(u.key), u.key)):
        w.append(token(u.key), u)
    w.finish().close()
    return parts


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_dump_whole_sstable_and_one_key(tmp_path, capsys):
    directory = str(tmp_path / "ks" / "t-00")
    parts = make_table(directory)
    code, text = run(["dump", d.path(directory, 1, d.TOC)])
    assert code == 0
    dumped = json.loads(text)
    assert len(dumped) == 30
    assert [p["partition"]["token"] for p in dumped] == sorted(token(u.key) for u in parts)
    by_key = {bytes.fromhex(p["partition"]["key"]): p for p in dumped}
    assert by_key[b"key0"]["partition"]["deletion_info"] == {"marked_deleted": 5,
                                                            "local_delete_time": 1000}
    assert by_key[b"key1"]["rows"][0]["type"] == "range_tombstone"
    assert by_key[b"key1"]["rows"][0]["end"] is None
    static = by_key[b"key2"]["rows"][0]
    assert static["type"] == "static_block" and static["cells"][0]["ttl"] == 60
    row0 = by_key[b"key3"]["rows"][0]
    assert row0["deletion_info"] == {"marked_deleted": 7, "local_delete_time": 1002}
    assert {"name": "m", "deletion_info": {"marked_deleted": 8, "local_delete_time": 1003}} \
        in row0["cells"]
    row = by_key[b"key9"]["rows"][3]
    assert row["clustering"] == "03" and row["liveness_info"] == {"tstamp": 10}
    assert row["cells"][0]["value"] == parts[9].rows[b"\x03"].columns["v"].value.hex()
    code, text = run(["dump", d.path(directory, 1, d.DATA), "--key", b"key9".hex()])
    assert code == 0 and len(json.loads(text)) == 1
    code, text = run(["dump", d.path(directory, 1, d.DATA), "--key", "00ff"])
    assert code == 0 and json.loads(text) == []


def test_meta(tmp_path):
    directory = str(tmp_path / "t")
    make_table(directory)
    code, text = run(["meta", d.path(directory, 1, d.STATISTICS)])
    assert code == 0
    meta = json.loads(text)
    stats = meta["statistics"]
    assert stats["partition_count"] == 30 and stats["row_count"] == 600
    assert stats["commitlog_position"] == [4, 2048] and stats["table_id"] == TABLE.hex()
    assert stats["min_local_deletion_time"] == 1000
    assert meta["bloom_filter"]["hashes"] == 5 and meta["compression"]["chunk_length"] == 1024
    assert set(meta["components"]) == set(d.COMPONENTS) | {d.TOC}


def test_verify_clean_then_damaged(tmp_path, capsys):
    root = tmp_path / "data"
    make_table(str(root / "ks" / "a-01"), 1)
    make_table(str(root / "ks" / "b-02"), 4)
    code, text = run(["verify", str(root)])
    assert code == 0 and "2 SSTable(s) checked, 0 damaged" in text
    data = root / "ks" / "b-02" / "4-Data.db"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x10
    data.write_bytes(bytes(raw))
    code, text = run(["verify", str(root)])
    assert code == 1
    assert f"DAMAGED {data}" in text and "1 damaged" in text


def test_verify_reports_incomplete_sstables(tmp_path):
    directory = tmp_path / "t"
    make_table(str(directory))
    (directory / "1-TOC.txt").unlink()
    code, text = run(["verify", str(directory)])
    assert code == 0 and "INCOMPLETE" in text


def test_errors_are_clean(tmp_path, capsys):
    assert main(["dump", str(tmp_path / "nothing.txt")]) == 1
    assert "cqlpy-sstable: error:" in capsys.readouterr().err
    assert main(["meta", str(tmp_path / "5-Data.db")]) == 1
    assert "no SSTable 5" in capsys.readouterr().err
    assert main(["verify", str(tmp_path / "missing")]) == 1
    assert main(["bogus"]) == 2
    directory = str(tmp_path / "t")
    make_table(directory)
    stats = tmp_path / "t" / "1-Statistics.db"
    stats.write_bytes(stats.read_bytes()[:-1] + b"\0")
    assert main(["meta", str(stats)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "1-Statistics.db" in err
    code, _ = run(["dump", d.path(directory, 1, d.DATA), "--key", "zz"])
    assert code == 1


@pytest.mark.slow
def test_python_dash_m(tmp_path):
    directory = str(tmp_path / "t")
    make_table(directory)
    proc = subprocess.run([sys.executable, "-m", "cqlpy.engine.tools", "meta",
                           d.path(directory, 1, d.DATA)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["statistics"]["partition_count"] == 30
    data = tmp_path / "t" / "1-Data.db"
    raw = bytearray(data.read_bytes())
    raw[100] ^= 1
    data.write_bytes(bytes(raw))
    proc = subprocess.run([sys.executable, "-m", "cqlpy.engine.tools", "verify", directory],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and str(data) in proc.stdout
