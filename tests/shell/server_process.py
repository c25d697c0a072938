"""A real ``cqlpy-server`` process for shell tests over the wire: any free port, wait, stop."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

_LISTENING = re.compile(r"listening for CQL clients on 127\.0\.0\.1:(\d+)")


class ServerProcess:
    """``cqlpy-server --data DIR --port 0`` (the same program as the console script, run by this
    Python); ``ring=True`` makes it a one-node ring (it seeds itself), where consistency levels are
    enforced.  Its log goes to DIR.log."""

    def __init__(self, data: Path, *, ring: bool = False) -> None:
        self.data = data
        self.log_path = data.with_suffix(".log")
        command = [sys.executable, "-m", "cqlpy.node", "--data", str(data), "--listen", "127.0.0.1",
                   "--port", "0", "--admin-port", "-1"]
        if ring:
            command += ["--seeds", "127.0.0.1", "--storage-port", str(_free_port())]
        with open(self.log_path, "a") as log:
            self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        self.port = self._wait_for_port(timeout=60.0)
        self.host = "127.0.0.1"

    def _wait_for_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = _LISTENING.search(self.log_path.read_text())
            if match:
                return int(match.group(1))
            if self.proc.poll() is not None:
                raise AssertionError(f"cqlpy-server exited:\n{self.log_path.read_text()}")
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"cqlpy-server did not listen within {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(20)


def _free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def drop_user_keyspaces(host: str, port: int) -> None:
    """A fresh keyspace state: every keyspace but the system ones dropped."""
    import cqlpy
    with cqlpy.connect(host=host, port=port) as session:
        names = [row[0] for row in session.execute("SELECT keyspace_name FROM system_schema.keyspaces")]
        for name in names:
            if not name.startswith("system"):
                session.execute(f'DROP KEYSPACE "{name}"')
