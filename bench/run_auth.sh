#!/usr/bin/env bash
# bench/run_auth.sh — receiving-side authentication rates on one core, mailsim beside the
# independent Python implementations Debian ships (issue 4 §9; goal ≥ 50 × their rates):
#   SPF   check_host() with a warm cache: bench/spf_bench.cpp vs pyspf (python3-spf), the same
#         three policies, pyspf's DNS answered from a dict (so neither side counts DNS time).
#         mailsim's warm state includes what its spf_checker keeps between checks, the
#         parsed-record cache; pyspf keeps nothing between checks (it parses every record
#         on every check), so its side runs as it always would;
#   DKIM  verification, rsa-2048 and ed25519: bench/dkim_bench.cpp vs dkimpy (python3-dkim),
#         the same 1 KiB message, the key answered from memory.
# Prints a table; nothing is written elsewhere.
#
# Run it while holding the build lock, so that no compiler shares the cores:
#   flock /tmp/mailsim-build.lock bash bench/run_auth.sh [--build-dir DIR] [--seconds S]
#                                                        [--repetitions N]
# --build-dir: where bin/mailsim_spf_bench and bin/mailsim_dkim_bench are (default
#   build/release; cmake --build build/release --target mailsim_spf_bench mailsim_dkim_bench).
# --repetitions: N rounds, each measuring every case of every side for S seconds in turn;
#   each case keeps its best round, so that load from elsewhere on a shared machine skews
#   neither side (default 3).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="$repo/build/release"
seconds=3
repetitions=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --repetitions) repetitions=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
for b in mailsim_spf_bench mailsim_dkim_bench; do
  [[ -x "$build_dir/bin/$b" ]] || { echo "missing $build_dir/bin/$b: build the release preset" >&2; exit 1; }
done
python=/usr/bin/python3
"$python" -c 'import spf, dkim, nacl.signing' 2>/dev/null ||
  { echo "pyspf, dkimpy and PyNaCl are needed (apt-get install python3-spf python3-dkim python3-nacl)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# The Python peers: pyspf with the zone of bench/spf_bench.cpp, dkimpy on the message of
# bench/dkim_bench.cpp; each prints {case: checks per second} for one round.
cat >"$work/pyspf.py" <<'PY'
import json, sys, time
import spf

seconds = float(sys.argv[1])
# The zone of bench/spf_bench.cpp, in pyspf's DNSLookup answer shape.
zone = {
    ("simple.example.test", "TXT"): [[b"v=spf1 ip4:192.0.2.0/24 -all"]],
    ("example.test", "TXT"): [[b"v=spf1 mx a include:_spf.example.test -all"]],
    ("example.test", "MX"): [(10, "mx1.example.test"), (20, "mx2.example.test")],
    ("mx1.example.test", "A"): ["198.51.100.1"],
    ("mx2.example.test", "A"): ["198.51.100.2"],
    ("example.test", "A"): ["198.51.100.3"],
    ("_spf.example.test", "TXT"):
        [[b"v=spf1 ip4:203.0.113.0/26 ip4:203.0.113.64/26 ip4:203.0.113.128/25 ~all"]],
    ("macro.example.test", "TXT"): [[b"v=spf1 exists:%{ir}.%{l}._spf.%{d} -all"]],
    ("10.113.0.203.news._spf.macro.example.test", "A"): ["127.0.0.2"],
}

def lookup(name, qtype, *args, **kwargs):
    return [((name, qtype), v) for v in zone.get((name.lower().rstrip("."), qtype), [])]

spf.DNSLookup = lookup
cases = {
    "spf/simple": ("192.0.2.10", "news@simple.example.test"),
    "spf/provider": ("203.0.113.10", "news@example.test"),
    "spf/macro": ("203.0.113.10", "news@macro.example.test"),
}
def rate(f):
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        f()
        n += 1
    return n / (time.perf_counter() - start)


out = {}
for name, (ip, sender) in cases.items():
    check = lambda: spf.check2(i=ip, s=sender, h="mail.example.test")
    assert check()[0] == "pass", (name, check())
    out[name] = rate(check)
json.dump(out, sys.stdout)
PY
cat >"$work/dkimpy.py" <<'PY'
import base64, json, subprocess, sys, time
import dkim, nacl.signing

seconds = float(sys.argv[2])
msg = (b"From: Newsletter <news@example.com>\r\nTo: Alice Example <alice@example.org>\r\n"
       b"Subject: Your weekly digest of things worth reading\r\n"
       b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
       b"Message-ID: <digest-2024-01-01.42@example.com>\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: text/plain; charset=utf-8\r\n\r\n")
line = b"Lorem ipsum dolor sit amet,  consectetur adipiscing elit, sed do eiusmod\r\n"
while len(msg) + len(line) <= 1024:
    msg += line
der = subprocess.run(["openssl", "rsa", "-in", sys.argv[1], "-pubout", "-outform", "DER"],
                     capture_output=True, check=True).stdout
ed = nacl.signing.SigningKey.generate()
keys = {
    "verify/rsa2048": (open(sys.argv[1], "rb").read(), b"rsa-sha256",
                       b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)),
    "verify/ed25519": (base64.b64encode(bytes(ed)), b"ed25519-sha256",
                       b"v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(ed.verify_key))),
}
out = {}
for name, (key, alg, record) in keys.items():
    signed = dkim.sign(msg, b"bench", b"example.com", key, signature_algorithm=alg,
                       canonicalize=(b"relaxed", b"relaxed")) + msg
    verify = lambda: dkim.verify(signed, dnsfunc=lambda n, timeout=5: record)
    assert verify()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        verify()
        n += 1
    out[name] = n / (time.perf_counter() - start)
json.dump(out, sys.stdout)
PY
openssl genrsa -out "$work/rsa.pem" 2048 2>/dev/null

# Rounds that measure every side in turn, so that a stretch of load from elsewhere (the machine
# is shared) falls on both sides alike; each case keeps its best round.
for ((round = 1; round <= repetitions; round++)); do
  echo "round $round of $repetitions (${seconds}s per case): mailsim SPF, mailsim DKIM verify," \
    "pyspf, dkimpy verify..." >&2
  "$build_dir/bin/mailsim_spf_bench" --benchmark_min_time="$seconds" --benchmark_format=json \
    >"$work/spf.$round.json"
  "$build_dir/bin/mailsim_dkim_bench" --benchmark_min_time="$seconds" --benchmark_format=json \
    --benchmark_filter='^verify/' >"$work/dkim.$round.json"
  "$python" "$work/pyspf.py" "$seconds" >"$work/pyspf.$round.json"
  "$python" "$work/dkimpy.py" "$work/rsa.pem" "$seconds" >"$work/dkimpy.$round.json"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$python" - "$work" "$repetitions" <<'PY'
import json, sys
work, rounds = sys.argv[1], range(1, int(sys.argv[2]) + 1)
ours, theirs = {}, {}  # each case's best round
for r in rounds:
    for f in ("spf", "dkim"):
        for b in json.load(open(f"{work}/{f}.{r}.json"))["benchmarks"]:
            ours[b["name"]] = max(ours.get(b["name"], 0.0), b["items_per_second"])
    for f in ("pyspf", "dkimpy"):
        for name, rate in json.load(open(f"{work}/{f}.{r}.json")).items():
            theirs[name] = max(theirs.get(name, 0.0), rate)
rows = [("SPF simple (ip4, pass)", "spf/simple", "pyspf"),
        ("SPF provider (mx, a, include)", "spf/provider", "pyspf"),
        ("SPF macro (exists:%{ir}.%{l}...)", "spf/macro", "pyspf"),
        ("DKIM verify rsa-2048 (key cached)", "verify/rsa2048", "dkimpy"),
        ("DKIM verify rsa-2048 (cold key)", "verify/rsa2048_cold_key", "dkimpy"),
        ("DKIM verify ed25519 (key cached)", "verify/ed25519", "dkimpy"),
        ("DKIM verify ed25519 (cold key)", "verify/ed25519_cold_key", "dkimpy")]
print("| operation | mailsim /s | peer | peer /s | mailsim / peer |")
print("|---|---:|---|---:|---:|")
for label, key, peer in rows:
    m = ours.get(key)
    p = theirs.get(key.replace("_cold_key", ""))
    ratio = f"{m / p:.1f}" if m and p else "n/a"
    print(f"| {label} | {m:,.0f} | {peer} | {p:,.0f} | {ratio} |")
PY
