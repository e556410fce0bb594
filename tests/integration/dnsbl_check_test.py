"""`mailsim-server dnsbl check` against a real unbound daemon serving test DNSBL zones.

The daemon (unbound_fixture.py) serves block lists and an allow list on loopback: an
IPv4 and an IPv6 address listed with TXT reasons, an address not listed, one answered with
Spamhaus's error code 127.255.255.254 and one with an address outside 127.0.0.0/8, profile
codes served from test zones (`--profile spamhaus-zen=zen.test`), a domain list and a
DNSWL. The command is checked for its first word, its per-list explanation and its exit
code (0 not listed, 1 listed, 3 error, 2 usage). Run with Debian's /usr/bin/python3 -m
pytest; MAILSIM_SERVER names the binary (ctest sets it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from unbound_fixture import unbound_daemon  # noqa: E402

TIMEOUT_S = 30

# 2001:db8::5 as RFC 5782 §2.4 nibbles, lowest first.
V6_NAME = ".".join(reversed("20010db8" + "0" * 23 + "5"))

ZONE = [
    'local-zone: "bl.test." static',
    "2.0.0.127.bl.test. 60 IN A 127.0.0.2",
    '2.0.0.127.bl.test. 60 IN TXT "Listed: see http://bl.test/lookup?127.0.0.2"',
    f"{V6_NAME}.bl.test. 60 IN A 127.0.0.4",
    f'{V6_NAME}.bl.test. 60 IN TXT "v6 sender listed"',
    "10.2.0.192.bl.test. 60 IN A 127.255.255.254",
    "11.2.0.192.bl.test. 60 IN A 192.0.2.99",
    'local-zone: "zen.test." static',
    "2.0.0.127.zen.test. 60 IN A 127.0.0.2",
    "2.0.0.127.zen.test. 60 IN A 127.0.0.4",
    '2.0.0.127.zen.test. 60 IN TXT "https://zen.test/query/ip/127.0.0.2"',
    "10.2.0.192.zen.test. 60 IN A 127.0.0.11",
    'local-zone: "dbl.test." static',
    "spam.example.dbl.test. 60 IN A 127.0.1.2",
    'local-zone: "wl.test." static',
    "1.2.0.192.wl.test. 60 IN A 127.0.15.3",
]


def server_binary() -> str:
    path = os.environ.get("MAILSIM_SERVER")
    if not path:
        pytest.skip("MAILSIM_SERVER is not set (run through ctest)")
    return path


@pytest.fixture(scope="module")
def dns():
    with unbound_daemon(ZONE) as endpoint:
        yield endpoint


def check(*args: str) -> tuple[int, list[str], str]:
    done = subprocess.run([server_binary(), "dnsbl", "check", *args], capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    return done.returncode, done.stdout.splitlines(), done.stderr


def test_listed_ipv4_with_txt_reason(dns):
    rc, out, _ = check("127.0.0.2", "--zone", "bl.test", "--dns", dns)
    assert rc == 1
    assert out[0] == "listed"
    assert out[1] == ('bl.test: listed query=2.0.0.127.bl.test answers=127.0.0.2 '
                      'txt="Listed: see http://bl.test/lookup?127.0.0.2"')


def test_listed_ipv6_uses_nibble_names(dns):
    rc, out, _ = check("2001:db8::5", "--zone", "bl.test", "--dns", dns)
    assert rc == 1
    assert out[0] == "listed"
    assert f"query={V6_NAME}.bl.test " in out[1]
    assert 'txt="v6 sender listed"' in out[1]


def test_not_listed(dns):
    rc, out, _ = check("192.0.2.1", "--zone", "bl.test", "--dns", dns)
    assert rc == 0
    assert out == ["not-listed", "bl.test: not-listed query=1.2.0.192.bl.test"]


def test_error_code_is_never_a_listing(dns):
    rc, out, _ = check("192.0.2.10", "--zone", "bl.test", "--dns", dns)
    assert rc == 3
    assert out[0] == "error"
    assert out[1] == ('bl.test: error query=10.2.0.192.bl.test answers=127.255.255.254 '
                      'error="error code 127.255.255.254"')


def test_profile_names_spamhaus_error_code(dns):
    rc, out, _ = check("192.0.2.10", "--profile", "spamhaus-zen=bl.test", "--dns", dns)
    assert rc == 3
    assert 'error="error code 127.255.255.254 (query via public/open resolver)"' in out[1]


def test_answer_outside_127_is_an_error(dns):
    rc, out, _ = check("192.0.2.11", "--zone", "bl.test", "--dns", dns)
    assert rc == 3
    assert out[0] == "error"
    assert "outside 127.0.0.0/8" in out[1]


def test_profile_codes_and_meanings(dns):
    rc, out, _ = check("127.0.0.2", "--profile", "spamhaus-zen=zen.test", "--dns", dns)
    assert rc == 1
    assert out[1] == ('zen.test: listed query=2.0.0.127.zen.test answers=127.0.0.2,127.0.0.4 '
                      'meanings="SBL; XBL" txt="https://zen.test/query/ip/127.0.0.2"')


def test_several_lists_in_the_order_given(dns):
    rc, out, _ = check("192.0.2.10", "--zone", "bl.test,wl.test", "--profile",
                       "spamhaus-zen=zen.test", "--zone", "dbl.test", "--dns", dns)
    assert rc == 1  # the PBL listing on zen.test beats the error on bl.test
    assert out[0] == "listed"
    assert [line.split(":")[0] for line in out[1:]] == ["bl.test", "wl.test", "zen.test",
                                                        "dbl.test"]
    assert out[3].startswith('zen.test: listed query=10.2.0.192.zen.test answers=127.0.0.11 '
                             'meanings="PBL (Spamhaus)"')


def test_domain_list(dns):
    rc, out, _ = check("Spam.Example", "--profile", "spamhaus-dbl=dbl.test", "--dns", dns)
    assert rc == 1
    assert out[1] == ('dbl.test: listed query=spam.example.dbl.test answers=127.0.1.2 '
                      'meanings="spam domain"')
    rc, out, _ = check("ham.example", "--profile", "spamhaus-dbl=dbl.test", "--dns", dns)
    assert (rc, out[0]) == (0, "not-listed")


def test_allow_list(dns):
    rc, out, _ = check("192.0.2.1", "--profile", "dnswl=wl.test", "--dns", dns)
    assert rc == 1
    assert out[1] == ('wl.test (allow list): listed query=1.2.0.192.wl.test answers=127.0.15.3 '
                      'meanings="trust high"')


def test_refused_zone_is_an_error(dns):
    rc, out, _ = check("127.0.0.2", "--zone", "nowhere.example", "--dns", dns)
    assert rc == 3
    assert out == ["error", "nowhere.example: error query=2.0.0.127.nowhere.example "
                            'error="lookup failed (SERVFAIL)"']


def test_zone_file_without_a_daemon(tmp_path):
    zone = tmp_path / "bl.zone"
    zone.write_text("$ORIGIN bl.test.\n$TTL 60\n"
                    "@ IN SOA ns.bl.test. hostmaster.bl.test. 1 3600 600 86400 60\n"
                    "2.0.0.127 IN A 127.0.0.2\n")
    rc, out, _ = check("127.0.0.2", "--zone", "bl.test", "--zone-file", str(zone))
    assert (rc, out[0]) == (1, "listed")
    rc, out, _ = check("127.0.0.3", "--zone", "bl.test", "--zone-file", str(zone))
    assert (rc, out[0]) == (0, "not-listed")


def test_dns_from_the_config_file(dns, tmp_path):
    config = tmp_path / "mailsim.yaml"
    config.write_text("server:\n"
                      "  hostname: mx.example.test\n"
                      f"  state_dir: {tmp_path / 'state'}\n"
                      f"  maildir_root: {tmp_path / 'maildir'}\n"
                      "listeners:\n"
                      "  - {name: mx, role: smtp, address: 127.0.0.1, port: 2525}\n"
                      "domains: [example.test]\n"
                      f"dns:\n  forwarders: [\"{dns}\"]\n")
    rc, out, _ = check("127.0.0.2", "--zone", "bl.test", "--config", str(config))
    assert (rc, out[0]) == (1, "listed")


@pytest.mark.parametrize("args, message", [
    (["127.0.0.2"], "at least one --zone or --profile"),
    (["127.0.0.2", "--profile", "spamhaus-dbl"], "lists domains, not addresses"),
    (["a.example", "--profile", "spamhaus-zen"], "lists addresses, not domains"),
    (["127.0.0.2", "--profile", "nope"], "unknown profile 'nope'"),
    (["not a name", "--zone", "bl.test"], "neither an IP address nor a domain"),
    (["127.0.0.2", "--zone"], "--zone needs a value"),
    (["127.0.0.2", "--zone", "bl.test", "--dns", "x", "--dns", "y"], "--dns given twice"),
    (["127.0.0.2", "--zone", "bl.test", "--bogus", "1"], "unknown argument '--bogus'"),
])
def test_usage_errors(args, message):
    rc, out, err = check(*args)
    assert rc == 2
    assert out == []
    assert message in err
