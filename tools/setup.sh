#!/usr/bin/env bash
# Installs what mailsim needs to build, run and test on Debian 12 / Ubuntu 22.04+, and makes
# the demo TLS certificate. Idempotent: run it again at any time. Uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  g++ make cmake ninja-build pkg-config ca-certificates
  # libraries
  libboost-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev libunbound-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # runtime tools and test peers
  openssl unbound python3 python3-pytest swaks
  libnet-ssleay-perl libio-socket-ssl-perl libauthen-sasl-perl
  # independent DKIM implementations the signer is checked against (and the RSA keys the
  # DMARC interop test makes with python3-cryptography)
  python3-dkim python3-nacl python3-dnspython python3-cryptography opendkim-tools
  # the Public Suffix List (DMARC organizational domains) and independent SPF/DMARC checks
  publicsuffix python3-spf python3-authheaders python3-authres
  # real mail-reading clients the POP3 and IMAP servers are checked against
  fetchmail mailutils
  # the simulator's Python module and CLI: bindings, scenario templates (Jinja2, PyYAML)
  pybind11-dev python3-pybind11 python3-dev python3-jinja2 python3-yaml
  # the allocator the simulator's command line preloads (pyapi/mailsim/allocator.py)
  libmimalloc2.0
  # sanitizers and fuzzing
  clang-14 libclang-rt-14-dev
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# A self-signed certificate for the demo config (loopback only; never for real traffic).
tls_dir=var/tls
if [ ! -s "$tls_dir/demo.crt" ] || [ ! -s "$tls_dir/demo.key" ]; then
  mkdir -p "$tls_dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mail.mailsim.test" \
    -addext "subjectAltName=DNS:mail.mailsim.test,DNS:localhost,IP:127.0.0.1" \
    -keyout "$tls_dir/demo.key" -out "$tls_dir/demo.crt" 2>/dev/null
  chmod 600 "$tls_dir/demo.key"
  echo "setup: made the demo certificate $tls_dir/demo.crt"
fi
echo "setup: ok"
