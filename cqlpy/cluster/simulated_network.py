"""An in-process network for cluster tests: a fake clock you step, seeded drops, delays and partitions.

Everything runs on one ``Scheduler`` (asyncio's ``time()`` / ``call_later()`` shape, so gossip and
messaging run on it unchanged): events fire in (time, sequence) order, and nothing happens until the
test advances the clock, so a run is a pure function of the seed.

``SimulatedNetwork`` carries frames between ``SimulatedMessagingService`` instances:

    encoding    every message goes through ``encode_frame`` / ``decode_frame``, as on TCP, so a
                payload that would not survive the wire fails here too.
    links       per directed link (or the network default): drop probability and a delay drawn
                uniformly from [low, high]; a link keeps FIFO order, as a TCP connection does.
    partitions  ``partition(side_a, side_b)`` blocks both directions between the sides;
                ``block(a, b)`` one direction; ``heal()`` clears every block.
    filters     ``add_filter(fn)``: fn(sender, to, message) -> False drops the message (and may
                record it), like Cassandra's in-JVM dtest message filters.
    nodes       ``stop(ep)`` crashes a node (its service closes; frames to or from it are lost,
                including those in flight); ``restart(ep)`` returns a fresh service for it.
"""
from __future__ import annotations

import heapq
import itertools
import random
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .endpoints import Endpoint
from .messaging import Message, MessagingService, decode_frame, encode_frame

Filter = Callable[[Endpoint, Endpoint, Message], bool]


class ScheduledEvent:
    """A handle for a scheduled callback; ``cancel()`` before it fires and it never runs."""

    __slots__ = ("when", "seq", "callback", "args", "cancelled")

    def __init__(self, when: float, seq: int, callback: Callable[..., Any], args: tuple) -> None:
        self.when, self.seq, self.callback, self.args = when, seq, callback, args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: "ScheduledEvent") -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class Scheduler:
    """A fake clock plus an event queue; time moves only when the test runs it."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._queue: list[ScheduledEvent] = []
        self._seq = itertools.count()

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[..., Any], *args: Any) -> ScheduledEvent:
        event = ScheduledEvent(self.now + max(0.0, delay), next(self._seq), callback, args)
        heapq.heappush(self._queue, event)
        return event

    def call_at(self, when: float, callback: Callable[..., Any], *args: Any) -> ScheduledEvent:
        return self.call_later(when - self.now, callback, *args)

    def call_soon(self, callback: Callable[..., Any], *args: Any) -> ScheduledEvent:
        return self.call_later(0.0, callback, *args)

    def pending(self) -> int:
        return sum(1 for e in self._queue if not e.cancelled)

    def step(self) -> bool:
        """Run the next event (moving the clock to it); False when nothing is queued."""
        while self._queue:
            event = heapq.heappop(self._queue)
            if event.cancelled:
                continue
            self.now = max(self.now, event.when)
            event.callback(*event.args)
            return True
        return False

    def run_until(self, when: float) -> None:
        """Run every event due at or before ``when``, then set the clock to ``when``."""
        while self._queue and self._queue[0].when <= when:
            self.step()
        self.now = max(self.now, when)

    def advance(self, seconds: float) -> None:
        self.run_until(self.now + seconds)

    def run_until_true(self, condition: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
        """Advance in ``step`` increments until ``condition()`` holds or ``timeout`` passes."""
        deadline = self.now + timeout
        while not condition():
            if self.now >= deadline:
                return False
            self.run_until(min(deadline, self.now + step))
        return True


@dataclass(slots=True)
class LinkConfig:
    """How one directed link behaves: drop probability and a uniform delay range in seconds."""

    drop: float = 0.0
    delay: tuple[float, float] = (0.001, 0.001)


class SimulatedNetwork:
    """Routes frames between simulated services, deterministically for a given seed."""

    def __init__(self, seed: int = 0, scheduler: Scheduler | None = None,
                 default: LinkConfig | None = None) -> None:
        self.rng = random.Random(seed)
        self.scheduler = scheduler or Scheduler()
        self.default = default or LinkConfig()
        self._links: dict[tuple[str, str], LinkConfig] = {}
        self._blocked: set[tuple[str, str]] = set()
        self._filters: list[Filter] = []
        self._services: dict[str, SimulatedMessagingService] = {}
        self._incarnation: dict[str, int] = {}
        self._last_delivery: dict[tuple[str, str], float] = {}
        self.delivered = 0
        self.dropped = 0

    # nodes ------------------------------------------------------------------------------------------
    def create(self, endpoint: Endpoint) -> "SimulatedMessagingService":
        """A messaging service for a node (a new incarnation if the node was stopped)."""
        key = _key(endpoint)
        old = self._services.get(key)
        if old is not None and not old.closed:
            raise ValueError(f"{endpoint} is already running")
        self._incarnation[key] = self._incarnation.get(key, 0) + 1
        service = SimulatedMessagingService(self, endpoint, self._incarnation[key])
        self._services[key] = service
        return service

    def stop(self, endpoint: Endpoint) -> None:
        """Crash a node: its service closes and frames to or from it are lost."""
        service = self._services.get(_key(endpoint))
        if service is not None and not service.closed:
            MessagingService.close(service)

    def restart(self, endpoint: Endpoint) -> "SimulatedMessagingService":
        self.stop(endpoint)
        return self.create(endpoint)

    def is_up(self, endpoint: Endpoint) -> bool:
        service = self._services.get(_key(endpoint))
        return service is not None and not service.closed

    def service(self, endpoint: Endpoint) -> "SimulatedMessagingService":
        return self._services[_key(endpoint)]

    # links ------------------------------------------------------------------------------------------
    def set_link(self, sender: Endpoint, to: Endpoint, *, drop: float | None = None,
                 delay: tuple[float, float] | None = None, both_ways: bool = False) -> None:
        pairs = [(sender, to), (to, sender)] if both_ways else [(sender, to)]
        for a, b in pairs:
            current = self._links.get((_key(a), _key(b)), self.default)
            self._links[(_key(a), _key(b))] = LinkConfig(
                current.drop if drop is None else drop, current.delay if delay is None else delay)

    def reset_links(self) -> None:
        self._links.clear()

    def block(self, sender: Endpoint, to: Endpoint) -> None:
        self._blocked.add((_key(sender), _key(to)))

    def partition(self, side_a: Iterable[Endpoint], side_b: Iterable[Endpoint]) -> None:
        side_b = list(side_b)
        for a in side_a:
            for b in side_b:
                self.block(a, b)
                self.block(b, a)

    def isolate(self, endpoint: Endpoint) -> None:
        others = [s.local for k, s in self._services.items() if k != _key(endpoint)]
        self.partition([endpoint], others)

    def heal(self) -> None:
        self._blocked.clear()

    def add_filter(self, fn: Filter) -> Filter:
        self._filters.append(fn)
        return fn

    def remove_filter(self, fn: Filter) -> None:
        self._filters.remove(fn)

    # routing ----------------------------------------------------------------------------------------
    def _route(self, service: "SimulatedMessagingService", to: Endpoint, message: Message) -> None:
        src, dst = _key(service.local), _key(to)
        frame = encode_frame(message)
        if src == dst:
            self.scheduler.call_soon(self._deliver, dst, self._incarnation[dst], frame)
            return
        link = self._links.get((src, dst), self.default)
        drop = link.drop > 0 and self.rng.random() < link.drop
        low, high = link.delay
        delay = low if high <= low else self.rng.uniform(low, high)
        if (drop or (src, dst) in self._blocked or not self.is_up(to)
                or any(f(service.local, to, message) is False for f in self._filters)):
            self.dropped += 1
            return
        when = max(self.scheduler.now + delay, self._last_delivery.get((src, dst), 0.0))
        self._last_delivery[(src, dst)] = when
        self.scheduler.call_at(when, self._deliver, dst, self._incarnation[dst], frame,
                               src, self._incarnation[src])

    def _deliver(self, dst: str, incarnation: int, frame: bytes, src: str | None = None,
                 src_incarnation: int = 0) -> None:
        target = self._services.get(dst)
        if (target is None or target.closed or self._incarnation.get(dst) != incarnation
                or (src is not None and (self._incarnation.get(src) != src_incarnation
                                         or self._services[src].closed))):
            self.dropped += 1                     # a crash loses what was in flight
            return
        if src is not None and (src, dst) in self._blocked:
            self.dropped += 1                     # a partition cuts what was in flight too
            return
        message, _ = decode_frame(frame)
        self.delivered += 1
        target._receive(message)


class SimulatedMessagingService(MessagingService):
    """One node's messaging on a SimulatedNetwork; the network's scheduler is its timer."""

    def __init__(self, network: SimulatedNetwork, local: Endpoint, incarnation: int) -> None:
        super().__init__(local, network.scheduler)
        self.network = network
        self.incarnation = incarnation

    def _transmit(self, to: Endpoint, message: Message) -> None:
        if not self.closed:
            self.network._route(self, to, message)

    def close(self) -> None:
        self.network.stop(self.local)


def _key(endpoint: Endpoint) -> str:
    return f"{endpoint.address}:{endpoint.port}"
