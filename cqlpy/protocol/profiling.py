"""Opt-in cProfile of a running server: ``CQLPY_PROFILE=FILE`` profiles every thread that serves.

With the environment variable set when a ``ProtocolServer`` starts, the event loop thread and each
request worker thread run under their own ``cProfile.Profile``; when the server closes (SIGTERM on
``cqlpy-server``) the profiles are merged and written to FILE in ``pstats`` format, readable with
``python -m pstats FILE`` or ``pstats.Stats(FILE)``.  Without the variable nothing is profiled and
the cost is one environment lookup at start.  ``benchmarks/server.py --profile`` uses it.
"""
from __future__ import annotations

import cProfile
import logging
import os
import pstats
import threading

log = logging.getLogger("cqlpy.protocol")

PROFILE_ENV = "CQLPY_PROFILE"


class ServerProfile:
    """The profiles of the threads of one server, written to ``path`` by ``dump()``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._profiles: list[cProfile.Profile] = []
        self._loop_profile: cProfile.Profile | None = None

    @classmethod
    def from_env(cls) -> "ServerProfile | None":
        path = os.environ.get(PROFILE_ENV)
        return cls(path) if path else None

    def _new(self) -> cProfile.Profile:
        profile = cProfile.Profile()
        with self._lock:
            self._profiles.append(profile)
        profile.enable()
        return profile

    def start_loop(self) -> None:
        """Profile the calling thread (the event loop's) until ``dump()``."""
        if self._loop_profile is None:
            self._loop_profile = self._new()

    def start_worker(self) -> None:
        """Executor initializer: profile this worker thread for as long as it lives."""
        self._new()

    def dump(self) -> None:
        """Stop the loop thread's profile and write every profile, merged, to ``path``.

        Called on the loop thread after the worker threads have exited (their profiles hold the
        calls made until then)."""
        if self._loop_profile is not None:
            self._loop_profile.disable()
        with self._lock:
            profiles, self._profiles = self._profiles, []
        if not profiles:
            return
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(self.path)
        log.info("Wrote the server profile (%d threads) to %s", len(profiles), self.path)
