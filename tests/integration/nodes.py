"""Real ``cqlpy-server`` processes for integration tests: free ports on 127.0.0.x, start, wait, stop."""
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from cqlpy import nodetool


def loopback_binds(address: str) -> bool:
    """Whether this machine lets a socket bind ``address`` (127.0.0.2 and up need loopback /8)."""
    try:
        with socket.socket() as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


def free_ports(addresses, count: int = 3) -> tuple[int, ...]:
    """``count`` consecutive ports free on every address (native, storage, admin)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
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


class NodeProcess:
    """One ``cqlpy-server`` process; with ``seeds`` it joins a ring on the storage port; with
    ``admin`` it opens the nodetool channel there (else none).  Its stderr goes to a log file."""

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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(re.findall(pattern, self.text())) >= count:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.address} exited:\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"{self.address}: no {pattern!r} within {timeout} s:\n{self.text()}")

    def nodetool(self, *args: str) -> str:
        return nodetool.run(self.address, self.admin, args[0], list(args[1:]))

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)


def driver_cluster(contact: str, port: int, cl: int, *, only: str | None = None):
    """A cassandra-driver Cluster at consistency ``cl``; ``only`` pins every request to one node."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy

    options = {"load_balancing_policy": WhiteListRoundRobinPolicy([only])} if only else {}
    profile = ExecutionProfile(consistency_level=cl, request_timeout=20, **options)
    return Cluster([contact], port=port, protocol_version=4,
                   execution_profiles={EXEC_PROFILE_DEFAULT: profile})


def until(check, timeout: float, what: str):
    """Poll ``check`` until it returns something true (returned), or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
