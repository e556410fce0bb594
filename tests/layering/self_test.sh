#!/usr/bin/env bash
# The layering check must fail on a tree that breaks the rule (a test that can fail).
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check="$(dirname "$0")/check_layers.sh"
mkdir -p "$tmp/reference-server/smtp" "$tmp/reference-server/store"
echo 'int f() { return 1; }' > "$tmp/reference-server/smtp/ok.cpp"
bash "$check" "$tmp" >/dev/null || { echo "clean tree refused"; exit 1; }
for bad in '#include <boost/asio.hpp>' '#include <sys/socket.h>' \
           'auto t = std::chrono::system_clock::now();' 'std::random_device rd;' \
           'getaddrinfo(h, p, &hints, &res);'; do
  echo "$bad" > "$tmp/reference-server/store/bad.cpp"
  if bash "$check" "$tmp" >/dev/null; then echo "not caught: $bad"; exit 1; fi
done
rm -f "$tmp/reference-server/store/bad.cpp"
mkdir -p "$tmp/reference-server/imap"
echo '#include "reference-server/store/mailbox.hpp"' > "$tmp/reference-server/imap/up.cpp"
if bash "$check" "$tmp" >/dev/null; then echo "not caught: imap including the store"; exit 1; fi
echo "layering check catches every forbidden pattern"
