#!/usr/bin/env bash
# bench/run_dkim.sh — DKIM signing and verification rates on one core: mailsim (Google
# Benchmark, bench/dkim_bench.cpp) beside dkimpy (Debian's python3-dkim, a timing loop) and
# OpenSSL's raw signature rates for the same key types (`openssl speed rsa2048 ed25519`).
# All three use a 1 KiB message with relaxed/relaxed canonicalization where a message is
# involved; `openssl speed` signs and verifies a bare digest. Issue goal: mailsim's rate within
# 2x of OpenSSL's raw rate for the same key. Prints a table; nothing is written elsewhere.
# mailsim and `openssl speed` run in alternation, R rounds of one each, so that both meet the
# machine in the same state: the table gives each side's median and the median of the
# rounds' ratios (a shared machine's speed drifts by a fifth within the hour).
#
# Run it while holding the build lock, so that no compiler shares the cores:
#   flock /tmp/mailsim-build.lock bash bench/run_dkim.sh [--build-dir DIR] [--seconds S] [--rounds R]
# --build-dir: where bin/mailsim_dkim_bench is (default build/release; build it with
#   cmake --build build/release --target mailsim_dkim_bench). --seconds: time per measurement
#   (default 3). --rounds: alternations of mailsim and openssl (default 3).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
build_dir="$repo/build/release"
seconds=3
rounds=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir=$(cd "$2" && pwd); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
bench_bin="$build_dir/bin/mailsim_dkim_bench"
[[ -x "$bench_bin" ]] || { echo "missing $bench_bin: build the release preset first" >&2; exit 1; }
python=/usr/bin/python3
"$python" -c 'import dkim, nacl.signing' 2>/dev/null ||
  { echo "dkimpy and PyNaCl are needed (apt-get install python3-dkim python3-nacl)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds: mailsim (Google Benchmark, ${seconds}s per case)..." >&2
  "$bench_bin" --benchmark_min_time="$seconds" --benchmark_format=json >"$work/mailsim.$round.json"
  echo "round $round/$rounds: openssl speed -seconds $seconds rsa2048 ed25519..." >&2
  openssl speed -seconds "$seconds" rsa2048 ed25519 2>/dev/null >"$work/openssl.$round.txt"
done

echo "dkimpy (timing loop, ${seconds}s per case)..." >&2
openssl genrsa -out "$work/rsa.pem" 2048 2>/dev/null
"$python" - "$work/rsa.pem" "$seconds" >"$work/dkimpy.json" <<'PY'
import base64, json, subprocess, sys, time
import dkim, nacl.signing

rsa_pem = open(sys.argv[1], "rb").read()
seconds = float(sys.argv[2])
# The same message as bench/dkim_bench.cpp's message_1k().
msg = (b"From: Newsletter <news@example.com>\r\n"
       b"To: Alice Example <alice@example.org>\r\n"
       b"Subject: Your weekly digest of things worth reading\r\n"
       b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
       b"Message-ID: <digest-2024-01-01.42@example.com>\r\n"
       b"MIME-Version: 1.0\r\n"
       b"Content-Type: text/plain; charset=utf-8\r\n"
       b"\r\n")
line = b"Lorem ipsum dolor sit amet,  consectetur adipiscing elit, sed do eiusmod\r\n"
while len(msg) + len(line) <= 1024:
    msg += line

der = subprocess.run(["openssl", "rsa", "-in", sys.argv[1], "-pubout", "-outform", "DER"],
                     capture_output=True, check=True).stdout
ed = nacl.signing.SigningKey.generate()
keys = {
    "rsa2048": (rsa_pem, b"rsa-sha256", b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)),
    "ed25519": (base64.b64encode(bytes(ed)), b"ed25519-sha256",
                b"v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(ed.verify_key))),
}

def rate(fn):
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)

out = {}
for name, (key, alg, record) in keys.items():
    sign = lambda: dkim.sign(msg, b"bench", b"example.com", key, signature_algorithm=alg,
                             canonicalize=(b"relaxed", b"relaxed"))
    signed = sign() + msg
    assert dkim.verify(signed, dnsfunc=lambda n, timeout=5: record)
    out[name + " sign"] = rate(sign)
    out[name + " verify"] = rate(lambda: dkim.verify(signed, dnsfunc=lambda n, timeout=5: record))
json.dump(out, sys.stdout)
PY

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$python" - "$work" "$rounds" <<'PY'
import json, re, statistics, sys

work, rounds = sys.argv[1], int(sys.argv[2])

def openssl_rates(text):
    raw = {}
    m = re.search(r"^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", text, re.M)
    if m:
        raw["rsa2048 sign"], raw["rsa2048 verify"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"EdDSA \(Ed25519\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", text)
    if m:
        raw["ed25519 sign"], raw["ed25519 verify"] = float(m.group(1)), float(m.group(2))
    return raw

benches = [{b["name"]: b["items_per_second"]
            for b in json.load(open(f"{work}/mailsim.{r}.json"))["benchmarks"]}
           for r in range(1, rounds + 1)]
raws = [openssl_rates(open(f"{work}/openssl.{r}.txt").read()) for r in range(1, rounds + 1)]
py = json.load(open(f"{work}/dkimpy.json"))
median = lambda values: statistics.median(values) if values else None
bench = {name: median([b[name] for b in benches if name in b]) for name in benches[0]}
raw = {name: median([r[name] for r in raws if name in r]) for name in raws[0]}

def ratio_of(ours, key):
    """The median of the rounds' ratios: each round's mailsim beside its own openssl run."""
    values = [b[ours] / r[key] for b, r in zip(benches, raws) if ours in b and r.get(key)]
    return median(values), values

rows = [
    ("rsa2048 sign", "sign/rsa2048", "rsa2048 sign"),
    ("rsa2048 verify (key cached)", "verify/rsa2048", "rsa2048 verify"),
    ("rsa2048 verify (cold key)", "verify/rsa2048_cold_key", "rsa2048 verify"),
    ("ed25519 sign", "sign/ed25519", "ed25519 sign"),
    ("ed25519 verify (key cached)", "verify/ed25519", "ed25519 verify"),
    ("ed25519 verify (cold key)", "verify/ed25519_cold_key", "ed25519 verify"),
]
print(f"| operation (1 KiB, relaxed/relaxed) | mailsim /s | dkimpy /s | openssl raw /s "
      f"| mailsim / openssl (median of {rounds} rounds) | per round |")
print("|---|---:|---:|---:|---:|---|")
for label, ours, key in rows:
    m, p, o = bench.get(ours), py.get(key), raw.get(key)
    ratio, each = ratio_of(ours, key)
    fmt = lambda v: f"{v:,.0f}" if v else "n/a"
    shown = f"{ratio:.2f}" if ratio else "n/a"
    print(f"| {label} | {fmt(m)} | {fmt(p)} | {fmt(o)} | {shown} | "
          f"{', '.join(f'{v:.2f}' for v in each)} |")
print("\nmailsim's own raw primitive (private_key::sign_digest / verify_digest, key decoded "
      "each time for verify):")
for name in ("raw_sign/rsa2048", "raw_verify/rsa2048", "raw_sign/ed25519", "raw_verify/ed25519"):
    print(f"  {name}: {bench.get(name, 0):,.0f}/s")
PY
