"""SPF interop: `mailsim-server spf check` against pyspf (python3-spf) on the same DNS.

A seeded generator (MAILSIM_SPF_SEED, default 7208, printed; MAILSIM_SPF_CASES cases,
default 240) builds one world of SPF policies: every mechanism (all, include, a, mx, ptr,
ip4, ip6, exists) with random qualifiers and CIDR lengths, domain-specs with macros (also
upper-case, URL-escaped ones), include chains, redirects, exp= explanations with macros,
unknown modifiers, void lookups, DNS errors (REFUSED zones), a share of broken records, and
clients (IPv4 and IPv6) that match or miss. A real unbound daemon (unbound_fixture.py)
serves the whole world; pyspf asks it through dnspython's default resolver, mailsim-server
through `--dns 127.0.0.1@PORT`. Every case must give the same result, and on fail the same
explanation (pyspf's default explanation is set to mailsim's default text).

Where pyspf departs from RFC 7208 the generator keeps clear of it in the random cases (PTR
data and MX hosts never fail or lack an address family, %{p} only at the top level, at
most 9 DNS-querying terms per case), and each departure has named cases of its own that
pin both answers (DEVIATIONS below).

Reproduce: MAILSIM_SPF_SEED=<seed> MAILSIM_SERVER=build/dev/bin/mailsim-server \\
    /usr/bin/python3 -m pytest -q tests/integration/spf_interop_test.py
"""

from __future__ import annotations

import collections
import concurrent.futures
import ipaddress
import os
import random
import subprocess
import sys
import urllib.parse
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from unbound_fixture import split_endpoint, unbound_daemon  # noqa: E402

spf = pytest.importorskip("spf")
dns_resolver = pytest.importorskip("dns.resolver")

SEED = int(os.environ.get("MAILSIM_SPF_SEED", "7208"))
CASE_COUNT = int(os.environ.get("MAILSIM_SPF_CASES", "240"))
ZONE = "spf.test"
ERROR_ZONE = "err." + ZONE  # REFUSED: a DNS error for both implementations
DEFAULT_EXP = "{o} does not designate {c} as a permitted sender"  # mailsim's default, expanded
TERMS_MAX = 9  # DNS-querying terms per random case: the 10-lookup limit has its own cases


def server() -> str:
    path = os.environ.get("MAILSIM_SERVER")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("MAILSIM_SERVER is not set to the mailsim-server binary")
    return path


# ---- the world: records served by unbound ----

class World:
    def __init__(self) -> None:
        self.records: list[str] = []
        self.refused: list[str] = []

    def add(self, name: str, rtype: str, data: str) -> None:
        self.records.append(f"{name}. 300 IN {rtype} {data}")

    def txt(self, name: str, text: str) -> None:
        chunks = [text[i:i + 200] for i in range(0, len(text), 200)] or [""]
        self.add(name, "TXT", " ".join(f'"{c}"' for c in chunks))

    def addresses(self, name: str, v4: str, v6: str) -> None:
        self.add(name, "A", v4)
        self.add(name, "AAAA", v6)

    def refuse(self, name: str) -> None:
        self.refused.append(name)

    def zone_lines(self) -> list[str]:
        lines = [f'local-zone: "{ZONE}." static', f'local-zone: "{ERROR_ZONE}." refuse']
        lines += [f'local-zone: "{n}." refuse' for n in self.refused]
        return lines + self.records


def reverse_name(ip: str) -> str:
    return ipaddress.ip_address(ip).reverse_pointer


# ---- one case ----

@dataclass
class Case:
    index: int
    kind: str
    ip: str
    mail_from: str
    helo: str
    notes: list[str] = field(default_factory=list)
    # Documented deviations pin both answers instead of comparing them.
    deviation: str | None = None
    want_mailsim: str | None = None
    want_pyspf: str | None = None

    @property
    def domain(self) -> str:
        return self.mail_from.rpartition("@")[2] if self.mail_from else self.helo

    def label(self) -> str:
        return f"case {self.index} ({self.kind}): ip={self.ip} mail_from={self.mail_from!r} " \
               f"helo={self.helo}"


class Generator:
    """Builds random policies for one case at a time into a shared World."""

    def __init__(self, rnd: random.Random, world: World) -> None:
        self.rnd = rnd
        self.world = world

    # -- addresses --

    def near4(self, ip: ipaddress.IPv4Address) -> str:
        r = self.rnd.random()
        if r < 0.3:
            return str(ip)
        base = int(ip)
        if r < 0.6:
            return str(ipaddress.IPv4Address((base & ~0xFF) | self.rnd.randrange(1, 255)))
        if r < 0.8:
            return str(ipaddress.IPv4Address((base & ~0xFFFF) | self.rnd.randrange(1, 0xFFFF)))
        r = self.rnd
        return f"172.{r.randrange(16, 32)}.{r.randrange(256)}.{r.randrange(1, 255)}"

    def near6(self, ip: ipaddress.IPv6Address) -> str:
        r = self.rnd.random()
        if r < 0.3:
            return str(ip)
        base = int(ip)
        if r < 0.6:
            return str(ipaddress.IPv6Address((base & ~0xFFFF) | self.rnd.randrange(1, 0xFFFF)))
        if r < 0.8:
            return str(ipaddress.IPv6Address((base & ~((1 << 64) - 1)) | self.rnd.getrandbits(64)))
        return f"2001:db8:ffff:{self.rnd.randrange(0x10000):x}::{self.rnd.randrange(1, 0xFFFF):x}"

    def host_addresses(self, name: str) -> None:
        """A and AAAA for a host, each near the client (both families: no void lookups)."""
        self.world.addresses(name, self.near4(self.c4), self.near6(self.c6))

    def qualifier(self) -> str:
        return self.rnd.choice(["", "", "+", "-", "~", "?"])

    def cidr4(self) -> str:
        return self.rnd.choice(["", "", "/32", "/30", "/24", "/16", "/8", "/0"])

    def cidr6(self) -> str:
        return self.rnd.choice(["", "", "//128", "//120", "//64", "//48", "//0"])

    # -- macro values, for names the generator must create --

    def expand(self, spec: str, domain: str) -> str:
        ip = ipaddress.ip_address(self.case.ip)
        sender = self.case.mail_from or "postmaster@" + self.case.helo
        local, _, sender_domain = sender.rpartition("@")
        if ip.version == 4:
            i = str(ip)
        else:
            i = ".".join(ip.exploded.replace(":", "").upper())
        values = {"d": domain, "o": sender_domain, "l": local, "h": self.case.helo, "i": i,
                  "v": "in-addr" if ip.version == 4 else "ip6"}
        out = spec
        for macro, value in [("%{ir}", ".".join(reversed(i.split(".")))),
                             ("%{d2}", ".".join(domain.split(".")[-2:])),
                             ("%{l-}", local.replace("-", ".")),
                             ("%{L}", urllib.parse.quote(local, safe="~"))]:
            out = out.replace(macro, value)
        for letter, value in values.items():
            out = out.replace("%{" + letter + "}", value)
        return out

    # -- mechanisms --

    def budget(self, cost: int = 1) -> bool:
        if self.terms + cost > TERMS_MAX:
            return False
        self.terms += cost
        return True

    def mech_ip(self) -> str:
        if self.rnd.random() < 0.5:
            net, cidr = self.near4(self.c4), self.cidr4()
            return f"{self.qualifier()}ip4:{net}{cidr}"
        cidr = self.rnd.choice(["", "/128", "/120", "/64", "/48", "/0"])
        return f"{self.qualifier()}ip6:{self.near6(self.c6)}{cidr}"

    def mech_a(self, domain: str) -> str:
        form = self.rnd.randrange(5)
        if form == 0:
            if self.rnd.random() < 0.7:
                self.host_addresses(domain)
            return f"{self.qualifier()}a{self.cidr4()}{self.cidr6()}"
        if form == 1:
            host = f"h{self.rnd.randrange(4)}.{domain}"
            if self.rnd.random() < 0.8:
                self.host_addresses(host)
            return f"{self.qualifier()}a:{host}{self.cidr4()}{self.cidr6()}"
        if form == 2:  # a name that does not exist, or has one family only: void
            name = f"nx{self.rnd.randrange(1000)}.{domain}"
            if self.rnd.random() < 0.3:
                self.world.add(name, "A", self.near4(self.c4))
            return f"{self.qualifier()}a:{name}"
        if form == 3:  # macros
            spec = self.rnd.choice(["%{l}.users.%{d}", "h1.%{d}", "%{l}.users.%{o}"])
            name = self.expand(spec, domain)
            if self.rnd.random() < 0.7:
                self.host_addresses(name)
            return f"{self.qualifier()}a:{spec}{self.cidr4()}"
        self.case.notes.append("DNS error reachable")
        return f"{self.qualifier()}a:h{self.case.index}.{ERROR_ZONE}"

    def mech_mx(self, domain: str) -> str:
        target = domain if self.rnd.random() < 0.5 else f"mail.{domain}"
        count = self.rnd.choice([0, 1, 2, 3])
        for n in range(count):
            host = f"mx{n}.{domain}"
            self.world.add(target, "MX", f"{10 * (n + 1)} {host}.")
            self.host_addresses(host)
        spec = "" if target == domain else ":" + target
        return f"{self.qualifier()}mx{spec}{self.cidr4()}{self.cidr6()}"

    def ensure_ptr(self) -> None:
        """PTR names for the client, each with both address families (no void lookups)."""
        if self.ptr_names:
            return
        names = [f"host{n}.{self.case.domain}" for n in range(self.rnd.randrange(1, 3))]
        names += [f"gw.c{self.case.index}.elsewhere.{ZONE}"] if self.rnd.random() < 0.5 else []
        self.rnd.shuffle(names)
        self.ptr_names = names
        for name in names:
            self.world.add(reverse_name(self.case.ip), "PTR", name + ".")
            validates = self.rnd.random() < 0.7
            v4 = str(self.c4) if validates else self.near4(self.c4)
            v6 = str(self.c6) if validates else self.near6(self.c6)
            self.world.addresses(name, v4, v6)

    def mech_ptr(self, domain: str) -> str:
        self.ensure_ptr()
        spec = self.rnd.choice(["", "", f":{self.case.domain}", f":elsewhere.{ZONE}",
                                f":other.{ZONE}"])
        return f"{self.qualifier()}ptr{spec}"

    def mech_exists(self, domain: str, depth: int) -> str:
        specs = ["%{ir}.%{v}.bl.%{d}", "%{l}.ok.%{d}", "%{i}.%{l-}.in.%{d}", "%{h}.helo.%{d2}",
                 "%{ir}.%{v}.BL.%{d}", "%{L}.esc.%{d}"]
        if depth == 0:  # pyspf computes %{p} once, for the first <domain> that asks
            specs.append("%{p}.pv.%{d}")
        spec = self.rnd.choice(specs)
        if "%{p}" in spec:
            self.ensure_ptr()
            for name in self.ptr_names + ["unknown"]:
                if self.rnd.random() < 0.5:
                    self.world.add(f"{name}.pv.{domain}", "A", "127.0.0.2")
        elif self.rnd.random() < 0.5:
            self.world.add(self.expand(spec, domain), "A", "127.0.0.2")
        return f"{self.qualifier()}exists:{spec}"

    def mech_include(self, domain: str, depth: int) -> str:
        target = f"inc{self.rnd.randrange(100)}.{domain}"
        r = self.rnd.random()
        if r < 0.8 and depth < 2:
            self.record(target, depth + 1, terms_max=3)
        elif r < 0.9:
            self.world.txt(target, "not an spf record")
        self.case.notes.append("include")
        return f"{self.qualifier()}include:{target}"

    def mech_all(self) -> str:
        return self.qualifier() + "all"

    def mechanism(self, domain: str, depth: int) -> str | None:
        kind = self.rnd.choice(["ip", "ip", "a", "a", "mx", "ptr", "exists", "include"])
        if kind == "ptr" and depth > 0:
            kind = "exists"
        if kind == "ip":
            return self.mech_ip()
        if not self.budget():
            return None
        if kind == "a":
            return self.mech_a(domain)
        if kind == "mx":
            return self.mech_mx(domain)
        if kind == "ptr":
            return self.mech_ptr(domain)
        if kind == "exists":
            return self.mech_exists(domain, depth)
        return self.mech_include(domain, depth)

    # -- modifiers --

    def exp(self, domain: str) -> str:
        target = f"exp{self.rnd.randrange(100)}.{domain}"
        r = self.rnd.random()
        texts = ["%{c} is not one of the senders of %{d}",
                 "Mail from %{l}@%{o} via %{h} (%{i}, %{ir}.%{v}) refused by %{r}",
                 "See http://www.%{d2}/why.html?s=%{S}&ip=%{C}",
                 "Plain text with %% percent and %_ space and %-",
                 "%{c} resolves to %{p}, not good enough"]
        if r < 0.7:
            text = self.rnd.choice(texts)
            if "%{p}" in text:
                self.ensure_ptr()
            self.world.txt(target, text)
        elif r < 0.8:
            self.world.txt(target, "The %{x}-files.")  # bad macro: default explanation
        elif r < 0.9:
            self.world.txt(target, "one")
            self.world.txt(target, "two")  # two records: default explanation
        return f"exp={target}"

    def redirect(self, domain: str, depth: int) -> str | None:
        if not self.budget():
            return None
        target = f"red{self.rnd.randrange(100)}.{domain}"
        if self.rnd.random() < 0.85 and depth < 2:
            self.record(target, depth + 1, terms_max=3)
        return f"redirect={target}"

    BROKEN = ["moo", "a:museum", "ip4:1.2.3", "a/33", "ip6:2001:db8::1//64", "exists",
              "include:", "ptr/24", "-all:x", "%{x}=1", "exp=", "a:foo.%{q}.org", "1up=foo",
              "a:example.com:8080", "ip4:192.0.2.1/032"]

    def record(self, domain: str, depth: int, terms_max: int = 6) -> None:
        terms = [t for t in (self.mechanism(domain, depth)
                             for _ in range(self.rnd.randrange(0, terms_max + 1))) if t]
        if self.rnd.random() < 0.6:
            terms.append(self.mech_all())
        elif self.rnd.random() < 0.5:
            redirect = self.redirect(domain, depth)
            if redirect:
                terms.append(redirect)
        if depth == 0 and self.rnd.random() < 0.6:
            terms.append(self.exp(domain))
        if self.rnd.random() < 0.15:
            terms.insert(self.rnd.randrange(len(terms) + 1),
                         self.rnd.choice(["x-note=%{d}", "moo.cow=man:dog/cat", "default=pass"]))
        if self.rnd.random() < 0.04:
            terms.insert(self.rnd.randrange(len(terms) + 1), self.rnd.choice(self.BROKEN))
            self.case.notes.append("broken record")
        if self.rnd.random() < 0.05:
            terms = [t.upper() if t[:1] in "ai" and ":" not in t else t for t in terms]
        self.world.txt(domain, " ".join(["v=spf1"] + terms))

    # -- cases --

    def new_case(self, index: int) -> Case:
        v6 = self.rnd.random() < 0.4
        host = self.rnd.randrange(2, 250)
        self.c4 = ipaddress.IPv4Address(f"10.{index // 250}.{index % 250}.{host}")
        self.c6 = ipaddress.IPv6Address(f"2001:db8:{index:x}::{self.rnd.randrange(2, 0xFFF):x}")
        ip = str(self.c6 if v6 else self.c4)
        domain = f"c{index}.{ZONE}"
        local = self.rnd.choice(["user", "first.last", "a-b-c", "x+tag", "Bob", "postmaster"])
        null_sender = self.rnd.random() < 0.1
        mail_from = "" if null_sender else f"{local}@{domain}"
        helo = domain if null_sender else f"mail.{domain}"
        return Case(index, "null-sender" if null_sender else "mailfrom", ip, mail_from, helo)

    def random_case(self, index: int) -> Case:
        self.case = self.new_case(index)
        self.terms = 0
        self.ptr_names = []
        r = self.rnd.random()
        if r < 0.04:
            self.case.kind += "/no-record"
        elif r < 0.07:
            self.case.kind += "/two-records"
            self.world.txt(self.case.domain, "v=spf1 -all")
            self.world.txt(self.case.domain, "v=spf1 +all")
        elif r < 0.09:
            self.case.kind += "/refused"
            self.world.refuse(self.case.domain)
        else:
            self.record(self.case.domain, 0)
        return self.case

    def limit_case(self, index: int, terms: int, voids: int) -> Case:
        """Exactly `terms` DNS-querying terms (over includes) and `voids` void lookups."""
        self.case = self.new_case(index)
        self.case.kind += f"/limit-{terms}-terms-{voids}-voids"
        domain = self.case.domain
        parts, spent = [], 0
        for v in range(voids):
            parts.append(f"a:void{v}.{domain}")
            spent += 1
        while spent < terms:
            if terms - spent >= 3 and self.rnd.random() < 0.5:
                inc = f"inc{spent}.{domain}"
                self.world.txt(inc, "v=spf1 a:far.{0} mx:far.{0} ?all".format(domain))
                parts.append(f"include:{inc}")
                spent += 3
            else:
                parts.append(f"a:far.{domain}")
                spent += 1
        self.world.addresses(f"far.{domain}", "192.0.2.250", "2001:db8:ffff::250")
        self.world.add(f"far.{domain}", "MX", f"10 far.{domain}.")
        parts += [f"ip4:{self.c4}", f"ip6:{self.c6}", "-all"]
        self.world.txt(domain, " ".join(["v=spf1"] + parts))
        return self.case


# ---- the documented deviations: pyspf against RFC 7208 ----

def deviation_ptr_dns_error(gen: Generator, index: int) -> Case:
    """RFC 7208 §5.5: "If a DNS error occurs while doing the PTR RR lookup, then this
    mechanism fails to match" — pyspf turns the error into temperror instead (the same
    behaviour makes it answer temperror on the suite's ptr-cname-loop)."""
    case = gen.new_case(index)
    gen.world.refuse(reverse_name(case.ip))
    gen.world.txt(case.domain, f"v=spf1 ptr ip4:{gen.c4} ip6:{gen.c6} -all")
    case.deviation, case.want_mailsim, case.want_pyspf = "ptr_dns_error", "pass", "temperror"
    return case


def deviation_unused_redirect(gen: Generator, index: int) -> Case:
    """RFC 7208 §4.6.4 counts the terms that query DNS "during SPF evaluation", and §6.1 says
    redirect applies only when no mechanism matched; pyspf counts redirect= when it parses
    the record, so a record whose tenth lookup is followed by a match reaches 11."""
    case = gen.new_case(index)
    gen.world.addresses(f"far.{case.domain}", "192.0.2.250", "2001:db8:ffff::250")
    terms = " ".join([f"a:far.{case.domain}"] * 10)
    gen.world.txt(case.domain, f"v=spf1 {terms} ip4:{gen.c4} ip6:{gen.c6} "
                               f"redirect=other.{case.domain}")
    case.deviation, case.want_mailsim, case.want_pyspf = "unused_redirect", "pass", "permerror"
    return case


def deviation_mx_host_voids(gen: Generator, index: int) -> Case:
    """RFC 7208 §4.6.4 limits void lookups of terms; pyspf also counts each MX host without
    an address of the client's family, so an IPv6 client checking "mx" against three
    IPv4-only MX hosts gets permerror. mailsim counts the MX query itself only."""
    case = gen.new_case(index)
    while ":" not in case.ip:
        case = gen.new_case(index)
    for n in range(3):
        gen.world.add(case.domain, "MX", f"10 mx{n}.{case.domain}.")
        gen.world.add(f"mx{n}.{case.domain}", "A", "192.0.2.1")
    gen.world.txt(case.domain, "v=spf1 mx -all")
    case.deviation, case.want_mailsim, case.want_pyspf = "mx_host_voids", "fail", "permerror"
    return case


DEVIATIONS = [deviation_ptr_dns_error, deviation_unused_redirect, deviation_mx_host_voids]


def build(seed: int, count: int) -> tuple[World, list[Case]]:
    rnd = random.Random(seed)
    world = World()
    gen = Generator(rnd, world)
    cases = []
    limit_shapes = [(9, 0), (10, 0), (11, 0), (10, 2), (4, 2), (4, 3), (2, 3)]
    for index in range(count):
        if index < len(limit_shapes):
            cases.append(gen.limit_case(index, *limit_shapes[index]))
        else:
            cases.append(gen.random_case(index))
    for n, make in enumerate(DEVIATIONS):
        cases.append(make(gen, count + n))
    add_cli_records(world)
    return world, cases


# ---- the command line itself ----

CLI_DOMAIN = "cli." + ZONE


def add_cli_records(world: World) -> None:
    world.txt(CLI_DOMAIN, "v=spf1 ip4:192.0.2.0/28 a:nx1.cli.spf.test -ip4:192.0.2.66 "
                          "exp=why.cli.spf.test ~all")
    world.txt("why." + CLI_DOMAIN, "%{i} may not send for %{d}")
    world.txt("helo." + CLI_DOMAIN, "v=spf1 a -all")
    world.addresses("helo." + CLI_DOMAIN, "192.0.2.77", "2001:db8::77")


def cli(endpoint: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([server(), "spf", "check", "--dns", endpoint, *arguments],
                          capture_output=True, text=True, timeout=60)


def test_cli_report_on_fail(world):
    endpoint, _ = world
    proc = cli(endpoint, "--ip", "192.0.2.66", "--mail-from", f"<joe@{CLI_DOMAIN}>",
               "--helo", "helo." + CLI_DOMAIN, "--receiver", "mx.receiver.test")
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1 and lines[0] == "fail", proc.stdout + proc.stderr
    assert "identity: mailfrom" in lines
    assert f"domain: {CLI_DOMAIN}" in lines
    assert "mechanism: -ip4:192.0.2.66" in lines
    assert "dns-lookups: 1 of 10" in lines and "void-lookups: 1 of 2" in lines
    assert f"explanation: 192.0.2.66 may not send for {CLI_DOMAIN}" in lines
    received = next(line for line in lines if line.startswith("Received-SPF: "))
    assert received.startswith("Received-SPF: fail (mx.receiver.test: domain of "
                               f"joe@{CLI_DOMAIN} does not designate 192.0.2.66")
    assert 'mechanism="-ip4:192.0.2.66"' in received and "identity=mailfrom" in received
    assert f"authres: spf=fail smtp.mailfrom={CLI_DOMAIN}" in lines


def test_cli_pass_exits_zero(world):
    endpoint, _ = world
    proc = cli(endpoint, "--ip", "192.0.2.3", "--mail-from", f"joe@{CLI_DOMAIN}",
               "--helo", "x.test")
    assert proc.returncode == 0 and proc.stdout.startswith("pass\n"), proc.stdout
    assert "mechanism: ip4:192.0.2.0/28" in proc.stdout


def test_cli_null_sender_checks_the_helo_name(world):
    endpoint, _ = world
    for null in ("", "<>"):
        proc = cli(endpoint, "--ip", "192.0.2.77", "--mail-from", null,
                   "--helo", "helo." + CLI_DOMAIN)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "identity: helo" in proc.stdout
        assert f"sender: postmaster@helo.{CLI_DOMAIN}" in proc.stdout
        assert f"authres: spf=pass smtp.helo=helo.{CLI_DOMAIN}" in proc.stdout


def test_cli_helo_only(world):
    endpoint, _ = world
    proc = cli(endpoint, "--ip", "192.0.2.78", "--helo", "helo." + CLI_DOMAIN, "--helo-only")
    assert proc.returncode == 1 and proc.stdout.startswith("fail\n"), proc.stdout
    assert "identity: helo" in proc.stdout


@pytest.mark.parametrize("arguments", [
    ["--mail-from", "a@b.test", "--helo", "h.test"],               # no --ip
    ["--ip", "192.0.2.300", "--mail-from", "a@b.test", "--helo", "h.test"],
    ["--ip", "192.0.2.1", "--helo", "h.test"],                     # no --mail-from
    ["--ip", "192.0.2.1", "--mail-from", "a@b.test"],              # no --helo
    ["--ip", "192.0.2.1", "--mail-from", "a@b.test", "--helo", "h.test", "--bogus", "1"],
])
def test_cli_usage_errors_exit_two(world, arguments):
    endpoint, _ = world
    proc = cli(endpoint, *arguments)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "usage:" in proc.stderr and proc.stdout == ""


# ---- running both ----

def run_pyspf(case: Case) -> tuple[str, str]:
    q = spf.query(i=case.ip, s=case.mail_from, h=case.helo, timeout=5)
    ip = str(ipaddress.ip_address(case.ip))
    domain = case.domain
    q.set_default_explanation(DEFAULT_EXP.format(o=domain, c=ip))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        result, _code, explanation = q.check()
    return result, explanation if result == "fail" else ""


def run_mailsim(binary: str, endpoint: str, case: Case) -> tuple[str, str, str]:
    proc = subprocess.run([binary, "spf", "check", "--dns", endpoint, "--ip", case.ip,
                           "--mail-from", case.mail_from, "--helo", case.helo],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    assert lines, f"{case.label()}: no output; stderr: {proc.stderr}"
    result = lines[0]
    expected_rc = 0 if result == "pass" else 1
    assert proc.returncode == expected_rc, f"{case.label()}: exit {proc.returncode} for {result}"
    explanation = next((line[len("explanation: "):] for line in lines
                        if line.startswith("explanation: ")), "")
    return result, explanation, proc.stdout


@pytest.fixture(scope="module")
def world():
    print(f"\nSPF interop seed {SEED}, {CASE_COUNT} generated cases "
          f"(MAILSIM_SPF_SEED={SEED} to reproduce)")
    world, cases = build(SEED, CASE_COUNT)
    with unbound_daemon(world.zone_lines()) as endpoint:
        host, port = split_endpoint(endpoint)
        resolver = dns_resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = port
        resolver.timeout = 2.0
        resolver.lifetime = 5.0
        saved = dns_resolver.default_resolver
        dns_resolver.default_resolver = resolver
        try:
            yield endpoint, cases
        finally:
            dns_resolver.default_resolver = saved


def run_all(endpoint: str, cases: list[Case]) -> dict[int, tuple]:
    binary = server()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        mailsim = dict(zip([c.index for c in cases],
                           pool.map(lambda c: run_mailsim(binary, endpoint, c), cases)))
    return {c.index: (mailsim[c.index], run_pyspf(c)) for c in cases}


@pytest.fixture(scope="module")
def outcomes(world):
    endpoint, cases = world
    return run_all(endpoint, cases)


def test_generated_policies_agree_with_pyspf(world, outcomes):
    _, cases = world
    random_cases = [c for c in cases if c.deviation is None]
    assert len(random_cases) >= 200
    mismatches = []
    results = collections.Counter()
    for case in random_cases:
        (ours, our_exp, output), (theirs, their_exp) = outcomes[case.index]
        results[ours] += 1
        if ours != theirs or our_exp != their_exp:
            mismatches.append(f"{case.label()} notes={case.notes}\n"
                              f"  mailsim: {ours} {our_exp!r}\n  pyspf:   {theirs} {their_exp!r}\n"
                              + "\n".join("    " + line for line in output.splitlines()))
    print(f"results: {dict(sorted(results.items()))}")
    assert not mismatches, f"{len(mismatches)} of {len(random_cases)} cases differ " \
                           f"(seed {SEED}):\n" + "\n".join(mismatches[:10])
    # The generator reaches every result.
    assert set(results) == {"pass", "fail", "softfail", "neutral", "none", "temperror",
                            "permerror"}, results


@pytest.mark.parametrize("name", ["ptr_dns_error", "unused_redirect", "mx_host_voids"])
def test_documented_deviation(world, outcomes, name):
    _, cases = world
    case = next(c for c in cases if c.deviation == name)
    (ours, _, output), (theirs, _) = outcomes[case.index]
    assert ours == case.want_mailsim, f"{case.label()}\n{output}"
    assert theirs == case.want_pyspf, f"{case.label()}: pyspf now says {theirs}"
