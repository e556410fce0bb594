"""The unbound fixture serves what a test gives it, answers nothing else, and cleans up.

Queries go through dnspython (python3-dnspython), an independent DNS client. Run with
Debian's /usr/bin/python3 -m pytest; skipped when unbound is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from unbound_fixture import split_endpoint, unbound_daemon, unavailable  # noqa: E402

dns_resolver = pytest.importorskip("dns.resolver")

ZONE = [
    'local-zone: "example.test." static',
    'local-data: "example.test. 300 IN MX 10 mx1.example.test."',
    'local-data: "example.test. 300 IN MX 20 mx2.example.test."',
    'local-data: "mx1.example.test. 300 IN A 127.0.0.2"',
]


def resolver_for(endpoint: str):
    host, port = split_endpoint(endpoint)
    r = dns_resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = port
    r.lifetime = 5.0
    return r


def test_serves_mx_and_a_records():
    with unbound_daemon(ZONE) as endpoint:
        r = resolver_for(endpoint)
        mx = r.resolve("example.test", "MX")
        assert [(rr.preference, str(rr.exchange)) for rr in mx] == [
            (10, "mx1.example.test."), (20, "mx2.example.test.")]
        assert mx.rrset.ttl == 300
        assert [rr.address for rr in r.resolve("mx1.example.test", "A")] == ["127.0.0.2"]
        # Over TCP as well.
        assert [rr.address for rr in r.resolve("mx1.example.test", "A", tcp=True)] == [
            "127.0.0.2"]


def test_bare_records_get_their_zone():
    lines = ["dest.test. 60 IN MX 10 mx1.dest.test.", "mx1.dest.test. 60 IN A 127.0.0.2",
             'dest.test. 60 IN TXT "v=spf1 " "-all"', "mx.elsewhere.example. 60 IN A 127.0.0.3"]
    with unbound_daemon(lines) as endpoint:
        r = resolver_for(endpoint)
        assert [str(rr.exchange) for rr in r.resolve("dest.test", "MX")] == ["mx1.dest.test."]
        assert [rr.strings for rr in r.resolve("dest.test", "TXT")] == [(b"v=spf1 ", b"-all")]
        assert [rr.address for rr in r.resolve("mx.elsewhere.example", "A")] == ["127.0.0.3"]
        with pytest.raises(dns_resolver.NoAnswer):
            r.resolve("mx1.dest.test", "AAAA")
        with pytest.raises(dns_resolver.NoAnswer):
            r.resolve("mx.elsewhere.example", "AAAA")
        with pytest.raises(dns_resolver.NXDOMAIN):
            r.resolve("_dmarc.dest.test", "TXT")
        with pytest.raises(dns_resolver.NoNameservers):  # REFUSED: outside the test's world
            r.resolve("other.example", "A")


def test_other_names_do_not_exist_or_are_refused():
    with unbound_daemon(ZONE) as endpoint:
        r = resolver_for(endpoint)
        with pytest.raises(dns_resolver.NXDOMAIN):
            r.resolve("nope.example.test", "A")
        with pytest.raises(dns_resolver.NoAnswer):
            r.resolve("mx1.example.test", "MX")
        # Outside the test's zones nothing is resolved: REFUSED, which dnspython reports as
        # no server answering.
        with pytest.raises(dns_resolver.NoNameservers):
            r.resolve("gmail.com", "MX")


def test_the_daemon_and_its_folder_are_gone_after_the_block(tmp_path):
    with unbound_daemon(ZONE, folder=tmp_path) as endpoint:
        assert len(list(tmp_path.glob("mailsim-unbound-*/unbound.conf"))) == 1
    assert list(tmp_path.iterdir()) == []
    r = resolver_for(endpoint)
    r.lifetime = 1.0
    with pytest.raises(dns_resolver.LifetimeTimeout):
        r.resolve("example.test", "MX")


def test_a_bad_config_fails_with_the_log():
    with pytest.raises(RuntimeError, match="local-zone type"):
        with unbound_daemon(['local-zone: "x.test." no_such_type']):
            pass


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to run as another user")
def test_runs_as_an_unprivileged_user():
    """The same fixture, in a child process that is user nobody."""
    if unavailable():
        pytest.skip(unavailable())
    # The checkout may sit where nobody cannot read (a clone in /root): the child imports a
    # copy of the fixture from a folder of its own.
    here = Path(tempfile.mkdtemp(prefix="unbound-fixture-"))
    shutil.copy(Path(__file__).resolve().parent / "unbound_fixture.py", here)
    here.chmod(0o755)
    (here / "unbound_fixture.py").chmod(0o644)
    script = (
        "import os, sys, dns.resolver\n"
        f"sys.path.insert(0, {str(here)!r})\n"
        "from unbound_fixture import unbound_daemon, split_endpoint\n"
        f"with unbound_daemon({ZONE!r}) as endpoint:\n"
        "    r = dns.resolver.Resolver(configure=False)\n"
        "    host, r.port = split_endpoint(endpoint)\n"
        "    r.nameservers = [host]\n"
        "    print(os.geteuid(), r.resolve('mx1.example.test', 'A')[0].address)\n"
    )
    try:
        result = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
             "-c", script],
            capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": "/tmp"})
    finally:
        shutil.rmtree(here)
    assert result.returncode == 0, result.stderr
    uid, address = result.stdout.split()
    assert uid != "0"
    assert address == "127.0.0.2"
