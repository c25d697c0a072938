"""Real ``cqlpy-server`` processes for tests: free ports on 127.0.0.x, start, wait on the log, stop.

``ServerProcess`` is one node on a free native port (``--port 0``, the port read from its log);
``NodeProcess`` is a node on given ports that may join a ring (``start_ring`` brings a list of them
up, ``shut_down`` stops drivers and nodes in a ``finally``); ``driver_cluster`` and ``until`` are
the cassandra-driver side.  tests/conftest.py puts this folder on ``sys.path``.
"""
from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from cqlpy import nodetool

LISTENING = r"listening for CQL clients on 127\.0\.0\.1:(\d+)"


def loopback_binds(address: str) -> bool:
    """Whether this machine lets a socket bind ``address`` (127.0.0.2 and up need loopback /8)."""
    try:
        with socket.socket() as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


def free_port() -> int:
    """A port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_ports(addresses: Iterable[str], count: int = 3) -> tuple[int, ...]:
    """``count`` consecutive ports free on every address (native, storage, admin)."""
    addresses = list(addresses)
    for _ in range(50):
        base = free_port()
        if base + count > 65535:
            continue
        ok = True
        for address in addresses:
            for port in range(base, base + count):
                try:
                    with socket.socket() as s:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        s.bind((address, port))
                except OSError:
                    ok = False
        if ok:
            return tuple(range(base, base + count))
    raise RuntimeError("no free ports")


def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something true (returned), or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def wait_for_log(proc: subprocess.Popen | None, text: Callable[[], str], pattern: str,
                 timeout: float, who: str, count: int = 1) -> list:
    """Until ``text()`` (a process's log) matches ``pattern`` ``count`` times: the matches.
    Fails if the process exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(pattern, text())
        if len(found) >= count:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{who} exited:\n{text()}")
        time.sleep(0.05)
    raise AssertionError(f"{who}: no {pattern!r} within {timeout} s:\n{text()}")


def stop_process(proc: subprocess.Popen | None, timeout: float) -> int | None:
    """SIGTERM (a clean stop: the node flushes), SIGKILL after ``timeout`` s; the exit code."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
    return None if proc is None else proc.returncode


def kill_process(proc: subprocess.Popen | None, timeout: float = 30) -> None:
    """SIGKILL (kill -9: nothing flushed)."""
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait(timeout)


class ServerProcess:
    """``cqlpy-server --data DATA --listen 127.0.0.1 --port 0 --admin-port -1 EXTRA...`` (the same
    program as the console script, run by this Python), started and waited for: ``port`` is the
    native port it logged.  ``ring=True`` makes it a one-node ring (it seeds itself), where
    consistency levels are enforced.  Its stderr is appended to ``log_path`` (default DATA.log);
    ``text()`` is this run's part of it."""

    def __init__(self, data: Path, *extra: str, log_path: Path | None = None, ring: bool = False,
                 timeout: float = 60.0) -> None:
        self.data = data
        self.host = "127.0.0.1"
        self.log_path = log_path if log_path is not None else data.with_suffix(".log")
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [sys.executable, "-m", "cqlpy.node", "--data", str(data), "--listen", self.host,
                   "--port", "0", "--admin-port", "-1", *extra]
        if ring:
            command += ["--seeds", self.host, "--storage-port", str(free_port())]
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        try:
            self.port = int(wait_for_log(self.proc, self.text, LISTENING, timeout, "cqlpy-server")[-1])
        except AssertionError:
            self.kill()
            raise

    def text(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._offset)
            return f.read().decode("utf-8", "replace")

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit code (0: a clean stop)."""
        return stop_process(self.proc, 30)

    def kill(self) -> None:
        kill_process(self.proc)


class NodeProcess:
    """One ``cqlpy-server`` process on given ports; with ``seeds`` it joins a ring on the storage
    port; with ``admin`` it opens the nodetool channel there (else none).  Its stderr goes to a log
    file; ``start`` may be called again after ``stop``/``kill9`` (a restart, same data)."""

    def __init__(self, tmp: Path, address: str, native: int, storage: int = 0,
                 admin: int | None = None, seeds: str | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        self.address, self.native, self.storage, self.admin = address, native, storage, admin
        self.seeds, self.extra = seeds, extra
        self.data = tmp / f"node-{address}"
        self.log_path = tmp / f"node-{address}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "cqlpy.node", "--data", str(self.data), "--listen",
               self.address, "--port", str(self.native),
               "--admin-port", str(self.admin if self.admin is not None else -1), "--workers", "4"]
        if self.seeds:
            cmd += ["--storage-port", str(self.storage), "--seeds", self.seeds,
                    "--phi-convict-threshold", "4", *self.extra]
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)

    def text(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def wait_for(self, pattern: str, timeout: float = 30.0, count: int = 1) -> None:
        """Until the log shows ``pattern`` ``count`` times; fails if the process exits first."""
        wait_for_log(self.proc, self.text, pattern, timeout, self.address, count)

    def nodetool(self, *args: str) -> str:
        return nodetool.run(self.address, self.admin, args[0], list(args[1:]))

    def kill9(self) -> None:
        kill_process(self.proc)

    def stop(self) -> None:
        stop_process(self.proc, 15)


def start_ring(nodes: Sequence[NodeProcess]) -> None:
    """Start the nodes one by one (the seed first), each after the last joined, then wait until
    every node sees all the others UP."""
    for node in nodes:
        node.start()
        node.wait_for(r"Joined the ring")
    for node in nodes:
        node.wait_for(r"is now UP", count=len(nodes) - 1)


def shut_down(clusters: Iterable[Any], nodes: Iterable[Any]) -> None:
    """The end of a test: every driver cluster shut down (errors ignored), every node stopped."""
    for cluster in clusters:
        try:
            cluster.shutdown()
        except Exception:  # noqa: BLE001
            pass
    for node in nodes:
        node.stop()


def driver_cluster(contact: str, port: int, cl: int, *, only: str | None = None) -> Any:
    """A cassandra-driver Cluster at consistency ``cl``; ``only`` pins every request to one node."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy

    options = {"load_balancing_policy": WhiteListRoundRobinPolicy([only])} if only else {}
    profile = ExecutionProfile(consistency_level=cl, request_timeout=20, **options)
    return Cluster([contact], port=port, protocol_version=4,
                   execution_profiles={EXEC_PROFILE_DEFAULT: profile})


def drop_user_keyspaces(host: str, port: int) -> None:
    """A fresh keyspace state: every keyspace but the system ones dropped."""
    import cqlpy
    with cqlpy.connect(host=host, port=port) as session:
        names = [row[0] for row in session.execute("SELECT keyspace_name FROM system_schema.keyspaces")]
        for name in names:
            if not name.startswith("system"):
                session.execute(f'DROP KEYSPACE "{name}"')
