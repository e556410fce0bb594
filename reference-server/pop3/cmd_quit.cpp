// QUIT (RFC 1939 §6): in TRANSACTION it enters the UPDATE state and commits the deletions.
#include <string>
#include <vector>

#include "reference-server/pop3/session_impl.hpp"

namespace mailsim::pop3 {

void session::impl::cmd_quit(impl& s, const command_line& cmd) {
  if (!cmd.args.empty()) {
    s.client_error(syntax_text);
    return;
  }
  std::string bye = s.opts.hostname + " POP3 server signing off";
  if (s.st != state::transaction) {
    s.ok(bye);
    s.finish();
    return;
  }
  std::vector<std::size_t> marked;
  for (std::size_t i = 0; i < s.deleted.size(); ++i) {
    if (s.deleted[i]) marked.push_back(i);
  }
  // Nothing marked: no UPDATE work, so the store is not touched.
  if (!marked.empty() && !s.drop->commit(marked)) {
    s.close_with("[SYS/TEMP] some deleted messages not removed");
    return;
  }
  s.self.stats_.messages_deleted += marked.size();
  s.ok(bye + " (" + std::to_string(marked.size()) + " messages deleted)");
  s.finish();
}

}  // namespace mailsim::pop3
