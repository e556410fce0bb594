"""A private unbound daemon on loopback, for pytest: the Python twin of
tests/support/unbound_daemon.hpp.

    from unbound_fixture import unbound_daemon, split_endpoint

    with unbound_daemon(['local-zone: "example.test." static',
                         'local-data: "example.test. 300 IN MX 10 mx.example.test."',
                         'local-data: "mx.example.test. 300 IN A 127.0.0.2"']) as endpoint:
        host, port = split_endpoint(endpoint)       # endpoint is "127.0.0.1@<port>"
        ...                                          # e.g. dns.forwarders: [endpoint]

Each of `zone_lines` is either a line for `server:` in the generated unbound.conf
(`local-zone: "example.test." static`, `local-data: "..."`, `local-data-ptr: "..."`, any
`option: value`) or a bare record in zone-file form ("example.test. 300 IN MX 10
mx.example.test."), which becomes local-data. A bare record whose owner is in no declared
local-zone and under no other bare record's owner gets a static zone at its owner, so that
other names below it are NXDOMAIN and other types NODATA ("mx.example.test. A" alone makes
"mx.example.test. AAAA" NODATA, not REFUSED). `extra_sections` is appended verbatim
(forward-zone:, stub-zone:, auth-zone: blocks). The daemon runs /usr/sbin/unbound -d as the current user
(root or not: no chroot, no privilege drop, no remote control, no syslog) on 127.0.0.1 at a
free UDP+TCP port, in a fresh folder under /tmp (`folder=` to choose another parent). The
context manager returns once the daemon answers a query (at most 10 s, else RuntimeError
with the daemon's log), and on exit stops it (SIGTERM, SIGKILL after 5 s) and removes the
folder. If the test process dies, the kernel sends the daemon SIGTERM (PR_SET_PDEATHSIG).

Nothing leaves the machine: the config has `local-zone: "." refuse`, so names outside the
test's zones are REFUSED, never resolved from the root servers. Only the iterator module
runs (no DNSSEC), and records keep their order (rrset-roundrobin: no). Unbound's built-in
zones (test., invalid., localhost., the RFC 6303 reverse zones) stay; a record still goes
into the deepest zone that contains it, so it is served all the same.

When /usr/sbin/unbound is missing, unbound_daemon() calls pytest.skip().
Standard library only, so that any test can use it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator, Sequence

UNBOUND = "/usr/sbin/unbound"
START_LIMIT_S = 10.0
STOP_LIMIT_S = 5.0
PORT_ATTEMPTS = 5


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """"127.0.0.1@5353" -> ("127.0.0.1", 5353)."""
    host, _, port = endpoint.rpartition("@")
    return host, int(port)


def unavailable() -> str | None:
    """Why the fixture cannot run here, or None."""
    if os.access(UNBOUND, os.X_OK):
        return None
    return f"{UNBOUND} is not installed (apt-get install unbound)"


def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as unbound does
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free loopback port")


def _is_config_line(line: str) -> bool:
    """`local-data: "..."` and other `option: value` lines, as opposed to bare records."""
    first = line.split(None, 1)[0] if line.strip() else ""
    return first.endswith(":")


def _owner(text: str) -> str:
    """The first name in a record or a local-zone value, lower case, with the final dot."""
    name = text.split()[0].strip("\"'").lower() if text.strip() else "."
    return name if name.endswith(".") else name + "."


def _under(name: str, zone: str) -> bool:
    return zone == "." or name == zone or name.endswith("." + zone)


def _server_lines(zone_lines: Sequence[str]) -> list[str]:
    """The test's lines for `server:`, bare records turned into local-data and zones."""
    declared = [_owner(line.split(":", 1)[1]) for line in zone_lines
                if _is_config_line(line) and line.split(None, 1)[0] == "local-zone:"]
    owners = [_owner(line) for line in zone_lines if not _is_config_line(line)]
    zones = []
    for owner in owners:
        if owner in zones or any(_under(owner, z) for z in declared):
            continue
        if any(other != owner and _under(owner, other) for other in owners):
            continue
        zones.append(owner)
    lines = [f'local-zone: "{z}" static' for z in zones]
    for line in zone_lines:
        if _is_config_line(line):
            lines.append(line)
        else:
            quote = "'" if '"' in line else '"'
            lines.append(f"local-data: {quote}{line.strip()}{quote}")
    return lines


def _config(folder: Path, port: int, zone_lines: Sequence[str], extra: str) -> str:
    lines = [
        "server:",
        "  verbosity: 1",
        "  interface: 127.0.0.1",
        f"  port: {port}",
        "  do-ip4: yes", "  do-ip6: no", "  do-udp: yes", "  do-tcp: yes",
        "  num-threads: 1",
        '  username: ""', '  chroot: ""',
        f'  directory: "{folder}"',
        '  pidfile: ""', "  use-syslog: no", '  logfile: ""',
        "  access-control: 127.0.0.0/8 allow",
        # A test may forward a zone to another loopback server (extra_sections).
        "  do-not-query-localhost: no",
        '  module-config: "iterator"',
        "  rrset-roundrobin: no",
        '  local-zone: "." refuse',
    ]
    lines += [f"  {line}" for line in _server_lines(zone_lines)]
    lines += ["remote-control:", "  control-enable: no", extra]
    return "\n".join(lines) + "\n"


_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process goes."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _probe(query_id: int) -> bytes:
    """A query for the root SOA (RFC 1035 §4.1); any reply, REFUSED too, shows it serves."""
    return struct.pack("!HHHHHH", query_id, 0, 1, 0, 0, 0) + b"\x00" + struct.pack("!HH", 6, 1)


def _wait_until_answering(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_LIMIT_S
    query_id = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.connect(("127.0.0.1", port))
        udp.settimeout(0.1)
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"unbound exited during start-up (status {proc.returncode});"
                                   f" log:\n{log.read_text(errors='replace')[-2000:]}")
            query_id = (query_id + 1) & 0xFFFF
            try:
                udp.send(_probe(query_id))
                # Any reply shows the daemon serves; under load it may answer an earlier
                # probe (the connected socket only hears from the daemon's port).
                if len(udp.recv(512)) >= 12:
                    return
            except (ConnectionRefusedError, socket.timeout):
                time.sleep(0.02)
    raise RuntimeError(f"unbound did not answer on 127.0.0.1@{port} within {START_LIMIT_S:g} s;"
                       f" log:\n{log.read_text(errors='replace')[-2000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_LIMIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def unbound_daemon(zone_lines: Sequence[str], extra_sections: str = "",
                   folder: str | os.PathLike | None = None) -> Iterator[str]:
    """Runs unbound with `zone_lines` and yields its "127.0.0.1@port"."""
    why = unavailable()
    if why is not None:
        import pytest
        pytest.skip(why)
    work = Path(tempfile.mkdtemp(prefix="mailsim-unbound-", dir=folder))
    conf, log = work / "unbound.conf", work / "unbound.log"
    proc = None
    try:
        for _ in range(PORT_ATTEMPTS):
            port = _free_port()
            conf.write_text(_config(work, port, zone_lines, extra_sections))
            with open(log, "ab") as log_file:
                proc = subprocess.Popen([UNBOUND, "-d", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                        stdout=log_file, stderr=subprocess.STDOUT,
                                        preexec_fn=_die_with_parent)
            try:
                _wait_until_answering(proc, port, log)
                break
            except RuntimeError:
                _stop(proc)
                # Only a port taken between _free_port() and unbound's bind is worth a retry.
                if "Address already in use" not in log.read_text(errors="replace"):
                    raise
        else:
            raise RuntimeError(f"unbound found no free port; log:\n{log.read_text()[-2000:]}")
        yield f"127.0.0.1@{port}"
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(work, ignore_errors=True)
