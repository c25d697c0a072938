"""A replica's Paxos state per partition (promise, accepted proposal, latest commit), kept durably.

Cassandra keeps this in the node-local table ``system.paxos`` (``PaxosState`` + ``SystemKeyspace``
``savePaxosPromise`` / ``savePaxosProposal`` / ``savePaxosCommit``).  Here every partition's state
lives in memory and in one append-only file, and each transition is written and fsynced before the
acceptor answers, so a restarted acceptor keeps its promises and its accepted proposal.

Ballots are time UUIDs ordered by (timestamp, clock sequence, node): a total order, so two
coordinators never hold equal ballots.  A *commit* is a ballot plus its update (a list of
``cqlpy.engine.serialization.encode_update`` blobs; an empty list is the empty proposal that SERIAL
reads and failed conditions make).  The acceptor's transitions (Cassandra's ``PaxosState``):

    prepare(b)   b after the promise -> promise b (saved), answer (True, accepted, latest commit);
                 else answer (False, the promise, latest commit)
    propose(c)   c's ballot equal to or after the promise -> accept c (saved, the promise raised to
                 it), True; else False
    commit(c)    the latest commit becomes c if c is after it; an accepted proposal not after c
                 is cleared; the caller applies c's update to the engine (always: timestamps order
                 late commits correctly)

File ``<dir>/paxos.log``; integers big-endian::

    header   [u32 magic 0x5041584F "PAXO"][u16 FORMAT_VERSION]                      6 bytes
    record   [u32 length][u32 crc32(length)][payload][u32 crc32(payload)]
    payload  [u32 n][n bytes table id][u32 n][n bytes partition key][16 promised ballot]
             [commit: accepted][commit: latest commit]                  (the whole state of a key)
    commit   [16 ballot] then [u32 count] and count x ([u32 n][n bytes update]); a null ballot
             (16 zero bytes) with count 0 is "none"

Replay keeps the last record of each key.  A torn last record ends the file quietly; a record whose
checksum fails ends it with a warning (the states it held fall back to earlier records).  When the
file holds more than ``compact_factor`` times as many records as keys (and at least
``compact_min`` records) it is rewritten: every key's state to ``paxos.log.tmp``, fsync, rename.
Nothing here is pickled.
"""
from __future__ import annotations

import logging
import os
import struct
import threading
import uuid
import zlib
from dataclasses import dataclass
from typing import Iterator

log = logging.getLogger(__name__)

MAGIC = 0x5041584F                 # "PAXO"; do not change
FORMAT_VERSION = 1                 # written to disk; bump when the layout above changes
FILE_NAME = "paxos.log"
HEADER = struct.Struct(">IH")
U32 = struct.Struct(">I")
NULL_BALLOT = uuid.UUID(int=0)


def ballot_order(ballot: uuid.UUID) -> tuple[int, int, int]:
    """The total order of ballots: timestamp first, then the coordinator-unique bits."""
    if ballot.int == 0:
        return (-1, 0, 0)
    return (ballot.time, ballot.clock_seq, ballot.node)


def ballot_micros(ballot: uuid.UUID) -> int:
    """Microseconds since the Unix epoch of a time UUID (the timestamp its update is written at)."""
    return (ballot.time - 0x01B21DD213814000) // 10


@dataclass(frozen=True)
class Commit:
    """A ballot and the update proposed or committed with it (empty: the empty proposal)."""

    ballot: uuid.UUID
    updates: tuple[bytes, ...] = ()

    def is_after(self, other: "Commit | None") -> bool:
        return other is None or ballot_order(self.ballot) > ballot_order(other.ballot)

    @property
    def is_empty(self) -> bool:
        return not self.updates

    def to_wire(self) -> list:
        return [self.ballot, list(self.updates)]

    @classmethod
    def from_wire(cls, value: object) -> "Commit | None":
        if value is None:
            return None
        if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], uuid.UUID)
                or not isinstance(value[1], list) or not all(isinstance(u, bytes) for u in value[1])):
            raise ValueError("malformed paxos commit")
        return cls(value[0], tuple(value[1]))


@dataclass
class PaxosState:
    """One partition's acceptor state."""

    promised: uuid.UUID = NULL_BALLOT
    accepted: Commit | None = None
    most_recent_commit: Commit | None = None


class PaxosStateStore:
    """Every partition's PaxosState, in memory and in ``<directory>/paxos.log`` (see above)."""

    def __init__(self, directory: str, *, sync: bool = True, compact_factor: int = 4,
                 compact_min: int = 4096) -> None:
        self.directory = directory
        self.path = os.path.join(directory, FILE_NAME)
        self.sync = sync
        self.compact_factor, self.compact_min = compact_factor, compact_min
        self._lock = threading.Lock()
        self._states: dict[tuple[bytes, bytes], PaxosState] = {}
        self._records = 0
        os.makedirs(directory, exist_ok=True)
        self._load()
        self._file = open(self.path, "ab")
        if self._file.tell() == 0:
            self._file.write(HEADER.pack(MAGIC, FORMAT_VERSION))
            self._flush()

    # --- the acceptor's transitions ---------------------------------------------------------------

    def prepare(self, table_id: bytes, key: bytes, ballot: uuid.UUID) -> tuple[bool, PaxosState]:
        with self._lock:
            state = self._get(table_id, key)
            if ballot_order(ballot) > ballot_order(state.promised):
                state.promised = ballot
                self._save(table_id, key, state)
                return True, _copy(state)
            return False, _copy(state)

    def propose(self, table_id: bytes, key: bytes, proposal: Commit) -> bool:
        with self._lock:
            state = self._get(table_id, key)
            if ballot_order(proposal.ballot) >= ballot_order(state.promised):
                state.promised = proposal.ballot
                state.accepted = proposal
                self._save(table_id, key, state)
                return True
            return False

    def commit(self, table_id: bytes, key: bytes, commit: Commit) -> None:
        with self._lock:
            state = self._get(table_id, key)
            changed = False
            if commit.is_after(state.most_recent_commit):
                state.most_recent_commit = commit
                changed = True
            if state.accepted is not None and not state.accepted.is_after(commit):
                state.accepted = None
                changed = True
            if changed:
                self._save(table_id, key, state)

    def get(self, table_id: bytes, key: bytes) -> PaxosState:
        with self._lock:
            return _copy(self._get(table_id, key))

    def __len__(self) -> int:
        return len(self._states)

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._flush()
                self._file.close()

    # --- the file -----------------------------------------------------------------------------------

    def _get(self, table_id: bytes, key: bytes) -> PaxosState:
        state = self._states.get((table_id, key))
        if state is None:
            state = self._states[(table_id, key)] = PaxosState()
        return state

    def _save(self, table_id: bytes, key: bytes, state: PaxosState) -> None:
        self._file.write(_record(table_id, key, state))
        self._flush()
        self._records += 1
        if self._records >= max(self.compact_min, self.compact_factor * len(self._states)):
            self._compact()

    def _flush(self) -> None:
        self._file.flush()
        if self.sync:
            os.fsync(self._file.fileno())

    def _compact(self) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(HEADER.pack(MAGIC, FORMAT_VERSION))
            for (table_id, key), state in self._states.items():
                f.write(_record(table_id, key, state))
            f.flush()
            os.fsync(f.fileno())
        self._file.close()
        os.replace(tmp, self.path)
        _fsync_dir(self.directory)
        self._file = open(self.path, "ab")
        self._records = len(self._states)

    def _load(self) -> None:
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return
        if not data:
            return
        if len(data) < HEADER.size:
            raise ValueError(f"{self.path}: truncated header")
        magic, version = HEADER.unpack_from(data)
        if magic != MAGIC or version != FORMAT_VERSION:
            raise ValueError(f"{self.path}: not a paxos state file (magic 0x{magic:08x}, "
                             f"version {version})")
        for table_id, key, state in _records(data, HEADER.size, self.path):
            self._states[(table_id, key)] = state
            self._records += 1


def _copy(state: PaxosState) -> PaxosState:
    return PaxosState(state.promised, state.accepted, state.most_recent_commit)


def _encode_commit(out: bytearray, commit: Commit | None) -> None:
    if commit is None:
        out += NULL_BALLOT.bytes + U32.pack(0)
        return
    out += commit.ballot.bytes + U32.pack(len(commit.updates))
    for u in commit.updates:
        out += U32.pack(len(u)) + u


def _record(table_id: bytes, key: bytes, state: PaxosState) -> bytes:
    payload = bytearray(U32.pack(len(table_id)) + table_id)
    payload += U32.pack(len(key)) + key + state.promised.bytes
    _encode_commit(payload, state.accepted)
    _encode_commit(payload, state.most_recent_commit)
    length = U32.pack(len(payload))
    return length + U32.pack(zlib.crc32(length)) + bytes(payload) + U32.pack(zlib.crc32(payload))


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated payload")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return U32.unpack(self.take(4))[0]

    def commit(self) -> Commit | None:
        ballot = uuid.UUID(bytes=self.take(16))
        updates = tuple(self.take(self.u32()) for _ in range(self.u32()))
        if ballot.int == 0 and not updates:
            return None
        return Commit(ballot, updates)


def _records(data: bytes, pos: int, path: str) -> Iterator[tuple[bytes, bytes, PaxosState]]:
    while pos < len(data):
        if pos + 8 > len(data):
            return                                           # torn last record
        length, length_crc = struct.unpack_from(">II", data, pos)
        if zlib.crc32(data[pos:pos + 4]) != length_crc:
            log.warning("%s: corrupt record length at offset %d; ignoring the rest", path, pos)
            return
        end = pos + 8 + length + 4
        if end > len(data):
            return                                           # torn last record
        payload = data[pos + 8:pos + 8 + length]
        if zlib.crc32(payload) != U32.unpack_from(data, end - 4)[0]:
            log.warning("%s: corrupt record at offset %d; ignoring the rest", path, pos)
            return
        try:
            r = _Reader(payload)
            table_id = r.take(r.u32())
            key = r.take(r.u32())
            promised = uuid.UUID(bytes=r.take(16))
            state = PaxosState(promised, r.commit(), r.commit())
            if r.pos != len(payload):
                raise ValueError("trailing bytes")
        except ValueError as exc:
            log.warning("%s: bad record at offset %d (%s); ignoring the rest", path, pos, exc)
            return
        yield table_id, key, state
        pos = end


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["Commit", "PaxosState", "PaxosStateStore", "ballot_micros", "ballot_order"]
