"""cqlpy-sstable: inspect SSTables offline (dump as JSON, print Statistics, verify checksums).

    cqlpy-sstable dump FILE [--key HEX]   partitions, rows, cells and tombstones as JSON (like
                                          Cassandra's sstabledump; keys and values in hex, since
                                          the engine knows no types)
    cqlpy-sstable meta FILE               Statistics and component facts (like sstablemetadata)
    cqlpy-sstable verify DIR              every checksum of every SSTable under DIR (recursive);
                                          exit 1 naming the damaged file(s)

FILE is any component of the SSTable (``3-Data.db``, ``3-TOC.txt``, ...).  Exit status: 0 fine,
1 damage or error (one line on stderr, never a traceback), 2 bad usage.  Also runs as
``python -m cqlpy.engine.tools``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from ..errors import CQLError
from . import descriptor as d
from .fs import RealFileSystem
from .murmur3 import token as token_of
from .rows import Cell, DeletionTime, RangeTombstone, Row
from .sstable_reader import SSTableReader, verify_sstable

PROG = "cqlpy-sstable"


def _deletion(dt: DeletionTime | None) -> dict | None:
    if dt is None:
        return None
    return {"marked_deleted": dt.timestamp, "local_delete_time": dt.local_deletion_time}


def _cell(cell: Cell, name: str | None = None, path: bytes | None = None) -> dict:
    out: dict = {}
    if name is not None:
        out["name"] = name
    if path is not None:
        out["path"] = path.hex()
    if cell.value is None:
        out["deletion_info"] = {"local_delete_time": cell.local_deletion_time}
    else:
        out["value"] = cell.value.hex()
    out["tstamp"] = cell.timestamp
    if cell.ttl:
        out["ttl"] = cell.ttl
        out["expires_at"] = cell.local_deletion_time
    return out


def _row(row: Row, kind: str = "row") -> dict:
    out: dict = {"type": kind}
    if kind == "row":
        out["clustering"] = row.clustering.hex()
    if row.marker is not None:
        out["liveness_info"] = info = _cell(row.marker)
        if info.get("value") == "":
            del info["value"]
    if row.deletion is not None:
        out["deletion_info"] = _deletion(row.deletion)
    cells = []
    for name, data in row.columns.items():
        if isinstance(data, Cell):
            cells.append(_cell(data, name))
        else:
            if data.deletion is not None:
                cells.append({"name": name, "deletion_info": _deletion(data.deletion)})
            for path, cell in data.cells.items():
                cells.append(_cell(cell, name, path))
    out["cells"] = cells
    return out


def _range_tombstone(rt: RangeTombstone) -> dict:
    s = rt.slice
    return {"type": "range_tombstone",
            "start": None if s.start is None else {"clustering": s.start.hex(),
                                                   "inclusive": s.start_inclusive},
            "end": None if s.end is None else {"clustering": s.end.hex(),
                                               "inclusive": s.end_inclusive},
            "deletion_info": _deletion(rt.deletion)}


def partition_json(p) -> dict:
    head: dict = {"key": p.key.hex(), "token": p.token}
    if p.deletion is not None:
        head["deletion_info"] = _deletion(p.deletion)
    rows = [_range_tombstone(rt) for rt in p.range_tombstones]
    if p.static_row is not None:
        rows.append(_row(p.static_row, "static_block"))
    rows.extend(_row(r) for r in p.rows())
    return {"partition": head, "rows": rows}


def _open(fs, file_path: str) -> SSTableReader:
    try:
        directory, generation = d.sstable_of_path(file_path)
    except ValueError as e:
        raise CQLError(str(e)) from None
    return SSTableReader.open(fs, directory, generation)


def cmd_dump(fs, args, out) -> int:
    with _open(fs, args.file) as reader:
        if args.key is not None:
            try:
                key = bytes.fromhex(args.key)
            except ValueError:
                raise CQLError(f"--key must be hex, got {args.key!r}") from None
            p = reader.partition(key, token_of(key))
            parts = [] if p is None else [partition_json(p)]
        else:
            parts = [partition_json(p) for p in reader.scan()]
    json.dump(parts, out, indent=2)
    out.write("\n")
    return 0


def cmd_meta(fs, args, out) -> int:
    with _open(fs, args.file) as reader:
        info = reader.compression_info
        meta = {
            "sstable": d.path(reader.directory, reader.generation, d.DATA),
            "generation": reader.generation,
            "format_version": d.FORMAT_VERSION,
            "components": {c: fs.size(d.path(reader.directory, reader.generation, c))
                           for c in d.COMPONENTS + (d.TOC,)},
            "data_size": reader.data_size,
            "compression": {"compressor": info.compressor, "chunk_length": info.chunk_length,
                            "chunks": len(info.offsets)},
            "bloom_filter": {"bits": reader.bloom.nbits, "hashes": reader.bloom.hashes},
            "summary": {"index_interval": reader.summary.interval,
                        "entries": len(reader.summary)},
            "statistics": reader.stats.to_dict(),
        }
    json.dump(meta, out, indent=2)
    out.write("\n")
    return 0


def _walk(fs, directory: str):
    yield directory
    for name in fs.listdir(directory):
        child = f"{directory.rstrip('/')}/{name}"
        if fs.isdir(child):
            yield from _walk(fs, child)


def cmd_verify(fs, args, out) -> int:
    if not fs.isdir(args.dir):
        raise CQLError(f"{args.dir} is not a directory")
    checked = damaged = 0
    for directory in _walk(fs, args.dir):
        names = fs.listdir(directory)
        parsed = [p for p in map(d.parse_file_name, names) if p is not None]
        complete = sorted({g for g, c, tmp in parsed if c == d.TOC and not tmp})
        for generation in complete:
            checked += 1
            problems = verify_sstable(fs, directory, generation)
            if problems:
                damaged += 1
                for problem in problems:
                    out.write(f"DAMAGED {problem}\n")
            else:
                out.write(f"OK {d.path(directory, generation, d.DATA)}\n")
        leftovers = sorted({g for g, c, tmp in parsed} - set(complete))
        for generation in leftovers:
            out.write(f"INCOMPLETE {directory}/{generation}-* (no TOC; removed at next open)\n")
    out.write(f"{checked} SSTable(s) checked, {damaged} damaged\n")
    return 1 if damaged else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Inspect cqlpy SSTables.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("dump", help="partitions, rows, cells and tombstones as JSON")
    p.add_argument("file", help="any component file of the SSTable")
    p.add_argument("--key", help="only this partition key (hex)")
    p.set_defaults(func=cmd_dump)
    p = sub.add_parser("meta", help="the SSTable's Statistics and component facts")
    p.add_argument("file", help="any component file of the SSTable")
    p.set_defaults(func=cmd_meta)
    p = sub.add_parser("verify", help="check every checksum of every SSTable under DIR")
    p.add_argument("dir")
    p.set_defaults(func=cmd_verify)
    return parser


def main(argv: list[str] | None = None, *, fs=None, out=None) -> int:
    """Run the tool; returns the exit status (never raises, except SystemExit from --help)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    fs = fs if fs is not None else RealFileSystem()
    out = out if out is not None else sys.stdout
    try:
        return args.func(fs, args, out)
    except BrokenPipeError:                 # e.g. piped into head: stop quietly
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (CQLError, OSError, ValueError) as e:
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
