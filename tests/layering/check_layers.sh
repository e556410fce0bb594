#!/usr/bin/env bash
# The layer rule of ../shared/DESIGN.md: code below the drivers (L0-L2 and the simulator
# outside live/) never includes Asio or socket headers, never reads the OS clock and never
# uses real randomness or the system resolver; and the protocol modules (L0-L1) never
# include a module of a higher layer (the IMAP and POP3 sessions reach the store only
# through their own interfaces). Prints every offending line; exits 1 if any.
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 2
dirs=()
for d in reference-server/core reference-server/smtp reference-server/sasl reference-server/imap \
         reference-server/pop3 reference-server/message reference-server/auth \
         reference-server/policy reference-server/store reference-server/queue \
         reference-server/config simulator/engine simulator/network simulator/dns \
         simulator/world simulator/scenario simulator/metrics; do
  [ -d "$d" ] && dirs+=("$d")
done
pattern='#include *[<"](boost/asio|asio)|#include *<(sys/socket\.h|netinet/|arpa/inet\.h|netdb\.h|thread>|random>)|(system_clock|steady_clock|high_resolution_clock)::now|std::random_device|\bgetaddrinfo *\(|\bgethostbyname *\(|\btime *\( *(NULL|nullptr|0)? *\)|\bgettimeofday *\(|\bclock_gettime *\(|\brand *\( *\)|\bRAND_bytes *\(|\bgetrandom *\('
# Comment lines may name what is forbidden; code may not use it.
hits=$(grep -rnE "$pattern" "${dirs[@]}" --include='*.cpp' --include='*.hpp' --include='*.h' \
       | grep -vE '^[^:]+:[0-9]+: *(//|\*)' || true)
if [ -n "$hits" ]; then
  echo "layer rule broken (I/O, OS clock or real randomness below the drivers):"
  echo "$hits"
  exit 1
fi
low=()
for d in reference-server/core reference-server/smtp reference-server/sasl reference-server/imap \
         reference-server/pop3 reference-server/message; do
  [ -d "$d" ] && low+=("$d")
done
upward='#include *"(reference-server/(store|queue|auth|policy|config|net|server)|simulator)/'
hits=$( ((${#low[@]})) && grep -rnE "$upward" "${low[@]}" --include='*.cpp' --include='*.hpp' || true)
if [ -n "$hits" ]; then
  echo "layer rule broken (an L0/L1 module includes a higher layer):"
  echo "$hits"
  exit 1
fi
echo "layer rule holds in ${#dirs[@]} folders"
