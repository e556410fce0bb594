"""Memory bounds for the robustness suite: what the server may grow to under an attack.

Offers `allowance_kib` (the growth a test allows over the warm baseline, from the limits
it configures), `memory_bound` / `MemoryBound` (peak RSS, VmHWM, must stay under baseline
plus allowance; `check()` asserts it) and `proc_status_kib` (one value of
/proc/<pid>/status, which conftest.py uses to record the baseline). The per-session sizes
below say where each allowance comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mailsim_harness import ServerProcess

# What one live SMTP session may hold, by the limits (reference-server/smtp/limits.hpp and
# reference-server/server/connection.cpp): the line reader keeps at most one line of
# max(command_line_max, auth_line_max) = 12 KiB plus one 4 KiB read; the read buffer lives
# in the coroutine frame (4 KiB); the session object, its envelope and pending replies are
# a few KiB; OpenSSL adds about 40 KiB per TLS connection (two 16 KiB record buffers and
# the SSL object). 128 KiB rounds that up with room to spare.
PER_CONNECTION_KIB = 128

# Allocator and run-time slack that no test can pin down exactly: glibc malloc keeps freed
# memory in its arenas (one per thread that allocates: the I/O thread, the delivery worker,
# the auth pool), log lines are formatted in memory, and the Maildir writer buffers one
# message. 4 MiB is well under what any of the attacks would cost if a limit were missing
# (each test says what that would be), so the bound still tells a leak from noise.
SLACK_KIB = 4 * 1024


# What one live IMAP session may hold, by the limits the server gives it
# (reference-server/imap/command_reader.hpp, session.hpp; server/access_connection.cpp):
# the command reader keeps at most one line of line_bytes_max = 64 KiB (fixed; an
# over-long line is skipped, only its last 32 bytes kept) plus one 4 KiB read, and the
# parsed command copies that line once more; answers to one read's worth of pipelined
# small commands (a FETCH stops filling the output at output_pending_max = 256 KiB, plus
# one message: tests that fetch large messages add that); the session, its parser and
# mailbox view a few KiB; TLS about 40 KiB. Literals come on top (`allowance_kib`'s
# literal_bytes): each is bounded by limits.message_size_max, which the tests set to its
# minimum, 64 KiB.
IMAP_SESSION_KIB = 256

# A POP3 session: a line of at most line_bytes_max = 1 KiB (fixed) and one 4 KiB read,
# the answers to that read's pipelined commands, the maildrop's listing, TLS: an SMTP
# session's 128 KiB covers it.
POP3_SESSION_KIB = PER_CONNECTION_KIB


def allowance_kib(connections: int = 0, message_bytes: int = 0, *, imap: int = 0,
                  pop3: int = 0, literal_bytes: int = 0) -> int:
    """The growth a test allows over the warm baseline: slack, live sessions (SMTP,
    IMAP, POP3), and for a test that stores messages, the copies of one message the server
    may hold at once (the session's buffer, growing by doubling, and the store's copy: 3x).
    `literal_bytes` is the sum of the IMAP literals held at once, counted the same way."""
    return (SLACK_KIB + connections * PER_CONNECTION_KIB + imap * IMAP_SESSION_KIB
            + pop3 * POP3_SESSION_KIB + 3 * (message_bytes + literal_bytes) // 1024)


def proc_status_kib(pid: int, key: str) -> int:
    """A "kB" value from /proc/<pid>/status, e.g. VmRSS (now) or VmHWM (peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{key} not in /proc/{pid}/status")


@dataclass
class MemoryBound:
    """The server's peak RSS must stay under baseline + allowance (both in KiB)."""
    pid: int
    baseline_kib: int
    allowance_kib: int
    why: str

    @property
    def limit_kib(self) -> int:
        return self.baseline_kib + self.allowance_kib

    def peak_kib(self) -> int:
        return proc_status_kib(self.pid, "VmHWM")

    def check(self) -> int:
        peak = self.peak_kib()
        assert peak <= self.limit_kib, (
            f"server peak RSS {peak} KiB exceeds {self.limit_kib} KiB (baseline "
            f"{self.baseline_kib} + allowance {self.allowance_kib}: {self.why})")
        # Shown by pytest -rP: what the bound left unused.
        print(f"memory: peak RSS {peak} KiB = baseline {self.baseline_kib} + "
              f"{peak - self.baseline_kib} KiB; bound {self.limit_kib} KiB ({self.why})")
        return peak


def memory_bound(server: ServerProcess, allowance: int, why: str) -> MemoryBound:
    """The bound for `server`, whose baseline conftest measured after a warm-up mail."""
    assert server.proc is not None
    return MemoryBound(server.proc.pid, server.baseline_kib, allowance, why)
