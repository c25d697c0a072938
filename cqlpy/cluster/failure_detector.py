"""Phi-accrual failure detection over gossip heartbeat arrivals, as Cassandra's FailureDetector does it.

Cassandra assumes exponentially distributed inter-arrival times, so for an endpoint whose last
heartbeat arrived ``t`` seconds ago and whose mean inter-arrival time is ``mean``::

    phi = t / mean                      (ArrivalWindow.phi)
    convict when phi * PHI_FACTOR > phi_convict_threshold,   PHI_FACTOR = 1 / ln 10

i.e. when ``t > threshold * ln 10 * mean``: about 18.4 s for a 1 s mean and the default threshold 8.

    window      the last 1000 inter-arrival times per endpoint (SAMPLE_SIZE); the first arrival
                records INITIAL_INTERVAL (2 x the gossip interval) instead, erring towards slow
                convictions; intervals longer than ``max_interval`` (same 2 s) are not recorded,
                so a long partition does not stretch the mean.
    pauses      ``interpret`` remembers when it last ran (for any endpoint); a gap longer than
                ``max_local_pause`` (5 s) means this process was paused (GC, suspend), and no
                endpoint is convicted until another ``max_local_pause`` has passed.  (The gossip
                status check interprets every known endpoint each second, so gaps are real pauses;
                the first interpret starts the clock.)
"""
from __future__ import annotations

import collections
import logging
import math
from typing import Callable, Generic, Hashable, TypeVar

log = logging.getLogger(__name__)

SAMPLE_SIZE = 1000
GOSSIP_INTERVAL = 1.0
INITIAL_INTERVAL = 2 * GOSSIP_INTERVAL        # Cassandra's INITIAL_VALUE_NANOS
DEFAULT_PHI_CONVICT_THRESHOLD = 8.0
DEFAULT_MAX_LOCAL_PAUSE = 5.0                 # cassandra.max_local_pause_in_ms
PHI_FACTOR = 1.0 / math.log(10.0)

E = TypeVar("E", bound=Hashable)
ConvictListener = Callable[[E, float], None]


class ArrivalWindow:
    """Inter-arrival times of one endpoint's heartbeats (a bounded window with a running sum)."""

    __slots__ = ("intervals", "total", "last", "max_interval", "initial_interval")

    def __init__(self, size: int = SAMPLE_SIZE, max_interval: float = INITIAL_INTERVAL,
                 initial_interval: float = INITIAL_INTERVAL) -> None:
        self.intervals: collections.deque[float] = collections.deque(maxlen=size)
        self.total = 0.0
        self.last: float | None = None
        self.max_interval = max_interval
        self.initial_interval = initial_interval

    def _record(self, interval: float) -> None:
        if len(self.intervals) == self.intervals.maxlen:
            self.total -= self.intervals[0]
        self.intervals.append(interval)
        self.total += interval

    def add(self, now: float) -> None:
        if self.last is None:
            self._record(self.initial_interval)
        else:
            interval = now - self.last
            if interval <= self.max_interval:
                self._record(interval)
        self.last = now

    def mean(self) -> float:
        return self.total / len(self.intervals) if self.intervals else 0.0

    def phi(self, now: float) -> float:
        """Time since the last arrival in units of the mean interval (before PHI_FACTOR)."""
        if self.last is None or not self.intervals:
            return 0.0
        mean = self.mean()
        return (now - self.last) / mean if mean > 0 else math.inf


class FailureDetector(Generic[E]):
    """Per-endpoint arrival windows; ``interpret`` convicts endpoints whose phi passes the threshold."""

    def __init__(self, clock: Callable[[], float], *,
                 phi_convict_threshold: float = DEFAULT_PHI_CONVICT_THRESHOLD,
                 max_local_pause: float = DEFAULT_MAX_LOCAL_PAUSE,
                 initial_interval: float = INITIAL_INTERVAL, max_interval: float | None = None,
                 sample_size: int = SAMPLE_SIZE) -> None:
        self.clock = clock
        self.phi_convict_threshold = phi_convict_threshold
        self.max_local_pause = max_local_pause
        self.initial_interval = initial_interval
        self.max_interval = initial_interval if max_interval is None else max_interval
        self.sample_size = sample_size
        self._windows: dict[E, ArrivalWindow] = {}
        self._listeners: list[ConvictListener] = []
        self._last_interpret: float | None = None      # Cassandra starts it at construction; we
        self._last_pause: float | None = None          # start at the first interpret (no false pause)

    def register(self, listener: ConvictListener) -> None:
        """``listener(endpoint, phi)`` is called on every conviction."""
        self._listeners.append(listener)

    def unregister(self, listener: ConvictListener) -> None:
        self._listeners.remove(listener)

    def report(self, endpoint: E) -> None:
        """A heartbeat from ``endpoint`` arrived now."""
        window = self._windows.get(endpoint)
        if window is None:
            window = self._windows[endpoint] = ArrivalWindow(
                self.sample_size, self.max_interval, self.initial_interval)
        window.add(self.clock())

    def interpret(self, endpoint: E) -> bool:
        """Decide about one endpoint now; True (and the listeners called) when it is convicted."""
        window = self._windows.get(endpoint)
        if window is None:
            return False
        now = self.clock()
        gap = 0.0 if self._last_interpret is None else now - self._last_interpret
        self._last_interpret = now
        if gap > self.max_local_pause:
            log.warning("not marking nodes down due to a local pause of %.1f s > %.1f s",
                        gap, self.max_local_pause)
            self._last_pause = now
            return False
        if self._last_pause is not None and now - self._last_pause < self.max_local_pause:
            return False                          # still settling after a pause
        phi = window.phi(now)
        if PHI_FACTOR * phi <= self.phi_convict_threshold:
            return False
        for listener in list(self._listeners):
            listener(endpoint, phi)
        return True

    def phi(self, endpoint: E) -> float:
        """The current phi as Cassandra reports it (phi * PHI_FACTOR, comparable to the threshold)."""
        window = self._windows.get(endpoint)
        return PHI_FACTOR * window.phi(self.clock()) if window is not None else 0.0

    def is_alive(self, endpoint: E) -> bool:
        """This detector's own view: known, and phi not past the threshold (no pause handling).

        The gossiper keeps the authoritative UP/DOWN state (it also waits for an echo)."""
        window = self._windows.get(endpoint)
        return window is not None and PHI_FACTOR * window.phi(self.clock()) <= self.phi_convict_threshold

    def mean_interval(self, endpoint: E) -> float:
        window = self._windows.get(endpoint)
        return window.mean() if window is not None else 0.0

    def force_conviction(self, endpoint: E) -> None:
        for listener in list(self._listeners):
            listener(endpoint, math.inf)

    def remove(self, endpoint: E) -> None:
        """Forget an endpoint's history (it left, or restarted while down: relearn its intervals)."""
        self._windows.pop(endpoint, None)

    def endpoints(self) -> list[E]:
        return list(self._windows)

    def dump(self) -> dict[E, float]:
        """phi per endpoint, for nodetool failuredetector."""
        return {endpoint: self.phi(endpoint) for endpoint in self._windows}
