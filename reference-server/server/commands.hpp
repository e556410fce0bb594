// mailsim-server subcommands, one per file (cmd_<name>.cpp). Each takes the arguments after
// its name and returns the process exit code: 0 success, 1 failure, 2 usage or config error.
#pragma once

#include <string>
#include <vector>

namespace mailsim::server {

using args = std::vector<std::string>;

int cmd_serve(const args& a);          // --config FILE [--check-config]
int cmd_hash_password(const args& a);  // [--scheme pbkdf2-sha256|scrypt], password on stdin
int cmd_dkim(const args& a);           // keygen | sign | verify (see cmd_dkim.cpp)
int cmd_spf(const args& a);            // check (see cmd_spf.cpp)
int cmd_dmarc(const args& a);          // check (see cmd_dmarc.cpp)
int cmd_dnsbl(const args& a);          // check (see cmd_dnsbl.cpp)
int cmd_arc(const args& a);            // seal | verify (see cmd_arc.cpp)

}  // namespace mailsim::server
