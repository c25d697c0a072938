"""cqlpy-nodetool: Cassandra's nodetool over a node's admin channel (cqlpy/node_admin.py).

    cqlpy-nodetool [-h HOST] [-p PORT] COMMAND [ARGS]

    status [KS]                  the ring by datacenter: UN/DN/UJ/UL lines, load, owns
    ring [KS]                    every token and its node
    info                         this node: host id, gossip, load, generation, uptime, caches
    describering KS              token ranges and their replicas
    getendpoints KS TABLE KEY    the replicas of a partition key (text; ``a:b`` if composite)
    gossipinfo                   gossip state of every endpoint
    flush [KS [TABLES...]]       write memtables to SSTables
    compact [KS [TABLES...]]     major compaction
    drain                        stop serving clients and gossip, flush everything
    decommission                 stream this node's data away and leave the ring
    removenode HOST_ID | status  remove a DOWN node, streaming its ranges from the other replicas

Errors print one line on stderr and exit non-zero (1 for a failed connection or command, 2 for
bad usage); never a traceback.  Console script (pyproject): ``cqlpy-nodetool = "cqlpy.nodetool:main"``.
"""
from __future__ import annotations

import argparse
import socket
import struct
import sys
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7199
MAX_RESPONSE = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")

# command -> (min args, max args or None)
COMMANDS: dict[str, tuple[int, int | None]] = {
    "status": (0, 1), "ring": (0, 1), "info": (0, 0), "describering": (1, 1),
    "getendpoints": (3, 3), "gossipinfo": (0, 0), "flush": (0, None), "compact": (0, None),
    "drain": (0, 0), "decommission": (0, 0), "removenode": (1, 1),
}


class NodetoolError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def call(host: str, port: int, cmd: str, args: list[str], timeout: float = 600.0) -> Any:
    """One request on the admin channel; the result, or NodetoolError."""
    import json
    try:
        sock = socket.create_connection((host, port), timeout=10.0)
    except OSError as exc:
        raise NodetoolError(f"nodetool: Failed to connect to '{host}:{port}' - "
                            f"{type(exc).__name__}: '{exc.strerror or exc}'.") from None
    try:
        sock.settimeout(timeout)
        body = json.dumps({"cmd": cmd, "args": args}).encode("utf-8")
        sock.sendall(_HEADER.pack(len(body)) + body)
        (length,) = _HEADER.unpack(_recv_exactly(sock, _HEADER.size))
        if length > MAX_RESPONSE:
            raise NodetoolError(f"nodetool: response of {length} bytes is too large")
        response = json.loads(_recv_exactly(sock, length).decode("utf-8"))
    except socket.timeout:
        raise NodetoolError(f"nodetool: {host}:{port} did not answer in time") from None
    except (OSError, ValueError, EOFError) as exc:
        raise NodetoolError(f"nodetool: connection to {host}:{port} failed: {exc}") from None
    finally:
        sock.close()
    if not isinstance(response, dict):
        raise NodetoolError("nodetool: malformed response")
    if not response.get("ok"):
        raise NodetoolError(f"nodetool: {response.get('error', 'failed')}")
    return response.get("result")


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the node closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# --- formatting ---------------------------------------------------------------------------------------

def file_size(value: float | None) -> str:
    """Cassandra's FileUtils.stringifyFileSize."""
    if value is None:
        return "?"
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value:.0f} bytes" if value != 1 else "1 byte"


def percent(value: float | None, digits: int = 1) -> str:
    return "?" if value is None else f"{value * 100:.{digits}f}%"


def _by_dc(nodes: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for n in nodes:
        out.setdefault(n["dc"], []).append(n)
    return dict(sorted(out.items()))


def format_status(result: dict) -> str:
    lines: list[str] = []
    for dc, nodes in _by_dc(result["nodes"]).items():
        width = max([len("Address")] + [len(n["address"]) for n in nodes])
        fmt = f"%-2s  %-{width}s  %-9s  %-6s  %-16s  %-36s  %s"
        title = f"Datacenter: {dc}"
        lines += [title, "=" * len(title), "Status=Up/Down",
                  "|/ State=Normal/Leaving/Joining/Moving",
                  (fmt % ("--", "Address", "Load", "Tokens", "Owns (effective)", "Host ID",
                          "Rack")).rstrip()]
        for n in nodes:
            code = ("U" if n["up"] else "D") + n["state"][0]
            lines.append(fmt % (code, n["address"], file_size(n["load"]), n["tokens"],
                                percent(n["owns"]), n["host_id"], n["rack"]))
        lines.append("")
    if result.get("note"):
        lines.append(f"Note: {result['note']}")
    return "\n".join(lines).rstrip("\n") + "\n"


def format_ring(result: dict) -> str:
    nodes = {(n["address"], n["port"]): n for n in result["nodes"]}
    lines: list[str] = []
    by_dc: dict[str, list[dict]] = {}
    for t in result["tokens"]:
        node = nodes.get((t["address"], t["port"]))
        by_dc.setdefault(node["dc"] if node else "?", []).append(t)
    for dc, tokens in sorted(by_dc.items()):
        width = max([len("Address")] + [len(t["address"]) for t in tokens]) + 2
        fmt = f"%-{width}s%-12s%-7s%-8s%-16s%-20s%-44s"
        lines += ["", f"Datacenter: {dc}", "==========",
                  (fmt % ("Address", "Rack", "Status", "State", "Load", "Owns", "Token")).rstrip()]
        if tokens:
            lines.append((fmt % ("", "", "", "", "", "", tokens[-1]["token"])).rstrip())
        for t in tokens:
            n = nodes.get((t["address"], t["port"])) or {}
            lines.append((fmt % (t["address"], n.get("rack", "?"),
                                 "Up" if n.get("up") else "Down", n.get("state", "?"),
                                 file_size(n.get("load")), percent(n.get("owns"), 2),
                                 t["token"])).rstrip())
        lines.append("")
    if result.get("note"):
        lines += ["", f"  Warning: {result['note']}"]
    return "\n".join(lines) + "\n"


def format_info(r: dict) -> str:
    kc = r["key_cache"]
    rate = kc.get("hit_rate")
    rate_text = "NaN" if rate is None or not kc.get("requests") else f"{rate:.3f}"
    rows = [("ID", r["id"]), ("Gossip active", str(r["gossip_active"]).lower()),
            ("Native Transport active", str(r["native_active"]).lower()),
            ("Load", file_size(r["load"])), ("Generation No", r["generation"]),
            ("Uptime (seconds)", r["uptime"]),
            ("Heap Memory (MB)", f"{r['rss_mb']:.2f} (max RSS of the process)"),
            ("Data Center", r["dc"]), ("Rack", r["rack"]), ("Exceptions", 0),
            ("Key Cache", f"entries {kc['entries']}, capacity {kc['capacity']}, {kc['hits']} hits, "
                          f"{kc['requests']} requests, {rate_text} recent hit rate, "
                          "0 save period in seconds"),
            ("Chunk Cache", _chunk_cache(r.get("chunk_cache") or {})),
            ("Mode", r.get("mode", "NORMAL")),
            ("Percent Repaired", "0.0%"),
            ("Token", f"(invoke with -T/--tokens to see all {len(r['tokens'])} tokens)")]
    return "".join(f"{name:<23}: {value}\n" for name, value in rows)


def _chunk_cache(cc: dict) -> str:
    hits, misses = cc.get("hits", 0), cc.get("misses", 0)
    rate = f"{hits / (hits + misses):.3f}" if hits + misses else "NaN"
    return (f"entries ?, size {file_size(cc.get('bytes', 0))}, capacity "
            f"{file_size(cc.get('capacity', 0))}, {hits + misses} requests, {rate} recent hit rate")


def format_describering(r: dict) -> str:
    lines = [f"Schema Version:{r['schema_version']}", "TokenRange: "]
    for rng in r["ranges"]:
        details = ", ".join(f"EndpointDetails(host:{h}, datacenter:{dc}, rack:{rack})"
                            for h, dc, rack in rng["details"])
        lines.append(f"\tTokenRange(start_token:{rng['start']}, end_token:{rng['end']}, "
                     f"endpoints:[{', '.join(rng['endpoints'])}], "
                     f"rpc_endpoints:[{', '.join(rng['rpc_endpoints'])}], "
                     f"endpoint_details:[{details}])")
    return "\n".join(lines) + "\n"


def run(host: str, port: int, cmd: str, args: list[str]) -> str:
    result = call(host, port, cmd, args)
    if cmd == "status":
        return format_status(result)
    if cmd == "ring":
        return format_ring(result)
    if cmd == "info":
        return format_info(result)
    if cmd == "describering":
        return format_describering(result)
    if cmd == "getendpoints":
        return "".join(f"{a}\n" for a in result)
    if cmd == "gossipinfo":
        return result
    if isinstance(result, str):
        return result + "\n"
    return ""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cqlpy-nodetool", add_help=False,
                                description="Manage a cqlpy node over its admin channel.")
    p.add_argument("-h", "--host", default=DEFAULT_HOST, help="node address (default 127.0.0.1)")
    p.add_argument("-p", "--port", type=int, default=DEFAULT_PORT,
                   help="admin port (default 7199)")
    p.add_argument("--help", action="help", help="show this help and exit")
    p.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND",
                   help=", ".join(sorted(COMMANDS)))
    p.add_argument("args", nargs="*")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    lo, hi = COMMANDS[ns.command]
    if len(ns.args) < lo or (hi is not None and len(ns.args) > hi):
        want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi is not None else f"at least {lo}"
        print(f"nodetool: {ns.command} takes {want} argument(s), got {len(ns.args)}",
              file=sys.stderr)
        return 2
    try:
        out = run(ns.host, ns.port, ns.command, list(ns.args))
    except NodetoolError as exc:
        print(str(exc), file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"nodetool: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
