"""SSTable naming, on-disk constants and the TOC: the one module that owns every SSTable file name.

Table directory (under the data folder)::

    <data>/data/<keyspace>/<table>-<table id hex>/

SSTable files inside it, one set per generation (a positive int, chosen by the table store)::

    <generation>-Data.db  <generation>-Index.db  <generation>-Summary.db  <generation>-Filter.db
    <generation>-CompressionInfo.db  <generation>-Statistics.db  <generation>-TOC.txt

While an SSTable is being written every file carries the prefix ``tmp-`` (``tmp-7-Data.db``).
The writer fsyncs each file, renames the components into place, syncs the directory, then writes,
fsyncs and renames the TOC last, and syncs the directory again.  **An SSTable without its TOC does
not exist**: ``cleanup_temporary`` (called when a table is opened) deletes ``tmp-`` files and any
component whose generation has no TOC.

TOC.txt: the component names present, one per line, UTF-8, ``\\n``-terminated, e.g. ``Data``.

Every binary component except Data starts with a 6-byte header ``[4-byte magic][u16 version]``
and every one (Data included) is protected by CRC32s; the layouts are documented in the modules
that write them: Data + CompressionInfo in ``compression``, Index + Summary in
``partition_index``, Filter in ``bloom``, Statistics in ``statistics``; the partition layout
inside Data in ``sstable_writer``.  All integers are big-endian.  Changing any layout breaks
existing files: bump ``FORMAT_VERSION``.
"""
from __future__ import annotations

import re
import struct

FORMAT_VERSION = 1                  # written to disk in every component header; do not change

# Component names (written into TOC.txt; do not change).
DATA = "Data"
INDEX = "Index"
SUMMARY = "Summary"
FILTER = "Filter"
COMPRESSION_INFO = "CompressionInfo"
STATISTICS = "Statistics"
TOC = "TOC"
COMPONENTS = (DATA, INDEX, SUMMARY, FILTER, COMPRESSION_INFO, STATISTICS)

TEMP_PREFIX = "tmp-"

# Magic numbers at the start of each binary component (do not change).
MAGIC = {
    INDEX: b"CQIX",
    SUMMARY: b"CQSM",
    FILTER: b"CQBF",
    COMPRESSION_INFO: b"CQCI",
    STATISTICS: b"CQST",
}
HEADER = struct.Struct(">4sH")     # magic, format version
CRC = struct.Struct(">I")          # every CRC32 (zlib.crc32) on disk

# Defaults (Cassandra's).
DEFAULT_CHUNK_LENGTH = 16 * 1024
DEFAULT_INDEX_INTERVAL = 128
DEFAULT_COLUMN_INDEX_SIZE = 64 * 1024
DEFAULT_BLOOM_FP_CHANCE = 0.01

_NAME = re.compile(r"^(tmp-)?(\d+)-(Data|Index|Summary|Filter|CompressionInfo|Statistics)\.db$"
                   r"|^(tmp-)?(\d+)-TOC\.txt$")
_TABLE_DIR = re.compile(r"^(.+)-([0-9a-f]{32})$")


def file_name(generation: int, component: str, *, temporary: bool = False) -> str:
    """``7-Data.db``, ``7-TOC.txt``; with ``temporary`` the ``tmp-`` prefix."""
    if component not in COMPONENTS and component != TOC:
        raise ValueError(f"unknown SSTable component {component!r}")
    name = f"{generation}-TOC.txt" if component == TOC else f"{generation}-{component}.db"
    return TEMP_PREFIX + name if temporary else name


def path(directory: str, generation: int, component: str, *, temporary: bool = False) -> str:
    return f"{directory}/{file_name(generation, component, temporary=temporary)}"


def parse_file_name(name: str) -> tuple[int, str, bool] | None:
    """``(generation, component, temporary)`` for an SSTable file name (a path is fine), or None."""
    base = name.rsplit("/", 1)[-1]
    m = _NAME.match(base)
    if m is None:
        return None
    if m.group(2) is not None:
        return int(m.group(2)), m.group(3), m.group(1) is not None
    return int(m.group(5)), TOC, m.group(4) is not None


def table_dir_name(table: str, table_id: bytes) -> str:
    """``<table>-<32 hex digits>``: the directory name of one table."""
    return f"{table}-{table_id.hex()}"


def table_directory(data_folder: str, keyspace: str, table: str, table_id: bytes) -> str:
    return f"{data_folder}/data/{keyspace}/{table_dir_name(table, table_id)}"


def parse_table_dir_name(name: str) -> tuple[str, bytes] | None:
    """``(table, table_id)`` from ``<table>-<id hex>``, or None."""
    m = _TABLE_DIR.match(name.rsplit("/", 1)[-1])
    return None if m is None else (m.group(1), bytes.fromhex(m.group(2)))


def encode_toc(components) -> bytes:
    return "".join(c + "\n" for c in components).encode()


def decode_toc(data: bytes) -> list[str]:
    return [line for line in data.decode("utf-8", "replace").split("\n") if line]


def generations(fs, directory: str) -> list[int]:
    """Generations of the complete SSTables (TOC present, not temporary) in ``directory``."""
    out = []
    for name in fs.listdir(directory):
        parsed = parse_file_name(name)
        if parsed is not None and parsed[1] == TOC and not parsed[2]:
            out.append(parsed[0])
    return sorted(out)


def highest_generation(fs, directory: str) -> int:
    """The highest generation any SSTable file (complete, partial or temporary) uses; 0 if none."""
    best = 0
    for name in fs.listdir(directory):
        parsed = parse_file_name(name)
        if parsed is not None:
            best = max(best, parsed[0])
    return best


def cleanup_temporary(fs, directory: str) -> list[str]:
    """Delete the leftovers of unfinished writes: ``tmp-`` files and components without a TOC.

    Returns the names removed.  Call it when a table directory is opened, before any writer runs.
    """
    names = fs.listdir(directory)
    complete = {p[0] for p in map(parse_file_name, names)
                if p is not None and p[1] == TOC and not p[2]}
    removed = []
    for name in names:
        parsed = parse_file_name(name)
        if parsed is None:
            continue
        generation, _component, temporary = parsed
        if temporary or generation not in complete:
            fs.remove(f"{directory}/{name}")
            removed.append(name)
    if removed:
        fs.sync_dir(directory)
    return removed


def sstable_of_path(file_path: str) -> tuple[str, int]:
    """``(directory, generation)`` of any component path; ValueError if it is not one."""
    directory, _, base = file_path.rstrip("/").rpartition("/")
    parsed = parse_file_name(base)
    if parsed is None:
        raise ValueError(f"{file_path} is not an SSTable component file")
    return directory or ".", parsed[0]


def delete_sstable(fs, directory: str, generation: int) -> None:
    """Remove one SSTable: its TOC first (so a crash midway leaves only TOC-less leftovers, which
    ``cleanup_temporary`` removes), then every other component."""
    toc = path(directory, generation, TOC)
    if fs.exists(toc):
        fs.remove(toc)
        fs.sync_dir(directory)
    for component in COMPONENTS:
        for temporary in (False, True):
            p = path(directory, generation, component, temporary=temporary)
            if fs.exists(p):
                fs.remove(p)
    fs.sync_dir(directory)
