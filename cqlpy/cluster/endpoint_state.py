"""Gossip state: HeartBeatState, VersionedValue, EndpointState, GossipDigest, and the Syn/Ack/Ack2 payloads.

Every value a node gossips about itself is versioned by one per-process counter (Cassandra's
``VersionGenerator``) shared by the heartbeat and all application states, so "the newest thing I
know about X" is one number, ``EndpointState.max_version``.  The generation (seconds since the
epoch at process start, bumped on restart) orders incarnations: a higher generation always wins.

Wire forms (payload values, see messaging.py)::

    endpoint        [address, port, host id]
    GossipDigest    [endpoint, generation, max version]
    EndpointState   {"hb": [generation, version], "s": {state name: [value, version], ...}}
    SYN             {"cluster": name, "partitioner": class, "digests": [digest, ...]}
    ACK             {"digests": [digest, ...], "states": [[endpoint, state], ...]}
    ACK2            {"states": [[endpoint, state], ...]}
"""
from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable

from .endpoints import Endpoint


class ApplicationState(enum.Enum):
    """What a node gossips about itself (names as in Cassandra's ``ApplicationState``)."""

    STATUS = "STATUS"
    LOAD = "LOAD"
    SCHEMA = "SCHEMA"
    DC = "DC"
    RACK = "RACK"
    RELEASE_VERSION = "RELEASE_VERSION"
    REMOVAL_COORDINATOR = "REMOVAL_COORDINATOR"
    SEVERITY = "SEVERITY"
    NET_VERSION = "NET_VERSION"
    HOST_ID = "HOST_ID"
    TOKENS = "TOKENS"
    RPC_READY = "RPC_READY"
    INTERNAL_ADDRESS_AND_PORT = "INTERNAL_ADDRESS_AND_PORT"
    NATIVE_ADDRESS_AND_PORT = "NATIVE_ADDRESS_AND_PORT"


class Status:
    """STATUS values (the first comma-separated field of the STATUS application state)."""

    BOOT = "BOOT"
    BOOT_REPLACE = "BOOT_REPLACE"
    NORMAL = "NORMAL"
    LEAVING = "LEAVING"
    LEFT = "LEFT"
    MOVING = "MOVING"
    REMOVING = "removing"
    REMOVED = "removed"
    HIBERNATE = "hibernate"
    SHUTDOWN = "shutdown"

    DEAD_STATES = frozenset({REMOVING, REMOVED, LEFT, HIBERNATE})


@dataclass(frozen=True, slots=True)
class VersionedValue:
    value: str
    version: int

    @property
    def status(self) -> str:
        """The STATUS kind of a STATUS value ('NORMAL', 'LEFT', ...)."""
        return self.value.split(",", 1)[0]


class VersionedValueFactory:
    """Builds the string forms Cassandra gossips (``VersionedValue.VersionedValueFactory``)."""

    @staticmethod
    def tokens(tokens: Iterable[int]) -> str:
        return ",".join(str(int(t)) for t in tokens)

    @staticmethod
    def parse_tokens(value: str) -> list[int]:
        return [int(t) for t in value.split(",") if t]

    @staticmethod
    def normal(tokens: Iterable[int]) -> str:
        first = next(iter(tokens), None)
        return Status.NORMAL if first is None else f"{Status.NORMAL},{int(first)}"

    @staticmethod
    def bootstrapping(tokens: Iterable[int]) -> str:
        first = next(iter(tokens), None)
        return Status.BOOT if first is None else f"{Status.BOOT},{int(first)}"

    @staticmethod
    def leaving(tokens: Iterable[int]) -> str:
        first = next(iter(tokens), None)
        return Status.LEAVING if first is None else f"{Status.LEAVING},{int(first)}"

    @staticmethod
    def left(tokens: Iterable[int], expire_time_ms: int) -> str:
        first = next(iter(tokens), 0)
        return f"{Status.LEFT},{int(first)},{expire_time_ms}"

    @staticmethod
    def removing_nonlocal(host_id: uuid.UUID) -> str:
        return f"{Status.REMOVING},{host_id}"

    @staticmethod
    def removed_nonlocal(host_id: uuid.UUID, expire_time_ms: int) -> str:
        return f"{Status.REMOVED},{host_id},{expire_time_ms}"

    @staticmethod
    def hibernate() -> str:
        return f"{Status.HIBERNATE},true"

    @staticmethod
    def shutdown() -> str:
        return f"{Status.SHUTDOWN},true"

    @staticmethod
    def load(bytes_on_disk: float) -> str:
        return repr(float(bytes_on_disk))

    @staticmethod
    def schema(version: uuid.UUID) -> str:
        return str(version)

    @staticmethod
    def address_and_port(address: str, port: int) -> str:
        return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


@dataclass(slots=True)
class HeartBeatState:
    generation: int
    version: int = 0


@dataclass(slots=True)
class EndpointState:
    """What one node knows about one endpoint; ``alive`` and ``update_time`` are local only."""

    heartbeat: HeartBeatState
    states: dict[ApplicationState, VersionedValue] = field(default_factory=dict)
    alive: bool = True
    update_time: float = 0.0

    @property
    def max_version(self) -> int:
        return max([self.heartbeat.version, *(v.version for v in self.states.values())])

    def get(self, state: ApplicationState) -> str | None:
        value = self.states.get(state)
        return value.value if value is not None else None

    @property
    def status(self) -> str:
        value = self.states.get(ApplicationState.STATUS)
        return value.status if value is not None else ""

    @property
    def is_dead_state(self) -> bool:
        return self.status in Status.DEAD_STATES

    @property
    def is_shutdown(self) -> bool:
        return self.status == Status.SHUTDOWN

    def copy(self) -> "EndpointState":
        return EndpointState(HeartBeatState(self.heartbeat.generation, self.heartbeat.version),
                             dict(self.states), self.alive, self.update_time)

    def newer_than(self, version: int) -> "EndpointState | None":
        """The part of this state newer than ``version`` (Gossiper.getStateForVersionBiggerThan);
        the heartbeat always rides along, since the receiver drops it when redundant."""
        states = {k: v for k, v in self.states.items() if v.version > version}
        if self.heartbeat.version <= version and not states:
            return None
        return EndpointState(HeartBeatState(self.heartbeat.generation, self.heartbeat.version), states)

    # wire
    def to_wire(self) -> dict[str, Any]:
        return {"hb": [self.heartbeat.generation, self.heartbeat.version],
                "s": {k.value: [v.value, v.version] for k, v in self.states.items()}}

    @classmethod
    def from_wire(cls, data: Any) -> "EndpointState":
        try:
            generation, version = data["hb"]
            states = {}
            for name, (value, value_version) in data["s"].items():
                try:
                    key = ApplicationState(name)
                except ValueError:
                    continue                      # a state a newer release gossips: ignore it
                states[key] = VersionedValue(str(value), int(value_version))
            return cls(HeartBeatState(int(generation), int(version)), states)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed endpoint state: {exc}") from None


@dataclass(frozen=True, slots=True)
class GossipDigest:
    endpoint: Endpoint
    generation: int
    max_version: int

    def to_wire(self) -> list[Any]:
        return [endpoint_to_wire(self.endpoint), self.generation, self.max_version]

    @classmethod
    def from_wire(cls, data: Any) -> "GossipDigest":
        try:
            endpoint, generation, max_version = data
            return cls(endpoint_from_wire(endpoint), int(generation), int(max_version))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"malformed gossip digest: {exc}") from None


def endpoint_to_wire(endpoint: Endpoint) -> list[Any]:
    return [endpoint.address, endpoint.port, endpoint.host_id]


def endpoint_from_wire(data: Any) -> Endpoint:
    try:
        address, port, host_id = data
        if not isinstance(host_id, uuid.UUID):
            host_id = uuid.UUID(str(host_id))
        return Endpoint(host_id, str(address), int(port))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"malformed endpoint: {exc}") from None


@dataclass(frozen=True, slots=True)
class GossipDigestSyn:
    cluster_name: str
    partitioner: str
    digests: tuple[GossipDigest, ...]

    def to_wire(self) -> dict[str, Any]:
        return {"cluster": self.cluster_name, "partitioner": self.partitioner,
                "digests": [d.to_wire() for d in self.digests]}

    @classmethod
    def from_wire(cls, data: Any) -> "GossipDigestSyn":
        try:
            return cls(str(data["cluster"]), str(data["partitioner"]),
                       tuple(GossipDigest.from_wire(d) for d in data["digests"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed GossipDigestSyn: {exc}") from None


def _states_to_wire(states: dict[Endpoint, EndpointState]) -> list[Any]:
    return [[endpoint_to_wire(ep), state.to_wire()] for ep, state in states.items()]


def _states_from_wire(data: Any) -> dict[Endpoint, EndpointState]:
    try:
        return {endpoint_from_wire(ep): EndpointState.from_wire(state) for ep, state in data}
    except TypeError as exc:
        raise ValueError(f"malformed endpoint states: {exc}") from None


@dataclass(frozen=True, slots=True)
class GossipDigestAck:
    digests: tuple[GossipDigest, ...]
    states: dict[Endpoint, EndpointState]

    def to_wire(self) -> dict[str, Any]:
        return {"digests": [d.to_wire() for d in self.digests], "states": _states_to_wire(self.states)}

    @classmethod
    def from_wire(cls, data: Any) -> "GossipDigestAck":
        try:
            return cls(tuple(GossipDigest.from_wire(d) for d in data["digests"]),
                       _states_from_wire(data["states"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed GossipDigestAck: {exc}") from None


@dataclass(frozen=True, slots=True)
class GossipDigestAck2:
    states: dict[Endpoint, EndpointState]

    def to_wire(self) -> dict[str, Any]:
        return {"states": _states_to_wire(self.states)}

    @classmethod
    def from_wire(cls, data: Any) -> "GossipDigestAck2":
        try:
            return cls(_states_from_wire(data["states"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed GossipDigestAck2: {exc}") from None
