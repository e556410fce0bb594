#include "tests/support/scripted_smtp_peer.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <tuple>

namespace mailsim::test {

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool positive(const std::string& reply) { return !reply.empty() && reply[0] == '2'; }

// "FROM:<a@b> SIZE=10" → ("a@b", "SIZE=10"); good enough for well-formed clients.
std::pair<std::string, std::string> split_path(std::string_view argument) {
  const auto colon = argument.find(':');
  std::string_view rest = colon == std::string_view::npos ? argument : argument.substr(colon + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  std::string path;
  if (!rest.empty() && rest.front() == '<') {
    const auto close = rest.find('>');
    path = std::string(rest.substr(1, close == std::string_view::npos ? rest.size() - 1 : close - 1));
    rest = close == std::string_view::npos ? std::string_view{} : rest.substr(close + 1);
  }
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return {path, std::string(rest)};
}

void send(memory_connection& conn, std::string_view reply) {
  conn.write(std::string(reply) + "\r\n");
}

}  // namespace

scripted_smtp_peer::scripted_smtp_peer(std::string host_name)
    : host_(std::move(host_name)),
      extensions_({"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 10485760", "STARTTLS"}) {}

void scripted_smtp_peer::on(smtp_step step, smtp_action action) {
  by_step_[step] = std::move(action);
}

void scripted_smtp_peer::on_connection(std::size_t n, smtp_step step, smtp_action action) {
  by_connection_[{n, step}] = std::move(action);
}

void scripted_smtp_peer::on_transaction(std::size_t n, smtp_step step, smtp_action action) {
  by_transaction_[{n, step}] = std::move(action);
}

void scripted_smtp_peer::on_recipient(const std::string& address, smtp_action action) {
  by_recipient_[lower(address)] = std::move(action);
}

std::vector<smtp_received_message> scripted_smtp_peer::accepted_messages() const {
  std::vector<smtp_received_message> out;
  std::copy_if(messages_.begin(), messages_.end(), std::back_inserter(out),
               [](const smtp_received_message& m) { return m.accepted(); });
  return out;
}

const smtp_action* scripted_smtp_peer::scripted(const session& s, smtp_step step,
                                                const std::string* recipient) const {
  if (recipient != nullptr) {
    if (auto it = by_recipient_.find(lower(*recipient)); it != by_recipient_.end()) {
      return &it->second;
    }
  }
  if (s.in_transaction) {
    if (auto it = by_transaction_.find({s.tx.transaction, step}); it != by_transaction_.end()) {
      return &it->second;
    }
  }
  if (auto it = by_connection_.find({s.number, step}); it != by_connection_.end()) {
    return &it->second;
  }
  if (auto it = by_step_.find(step); it != by_step_.end()) return &it->second;
  return nullptr;
}

std::string scripted_smtp_peer::act(memory_connection& conn, session& s, smtp_step step,
                                    const std::string& default_reply,
                                    const std::string* recipient) {
  const smtp_action* action = scripted(s, step, recipient);
  const smtp_action chosen = action != nullptr ? *action : smtp_action::reply(default_reply);
  switch (chosen.what) {
    case smtp_action::kind::drop:
      s.state = phase::closed;
      conn.close();
      return {};
    case smtp_action::kind::silent:
      s.state = phase::stalled;
      return {};
    case smtp_action::kind::reply:
      break;
  }
  send(conn, chosen.text);
  if (chosen.text.rfind("421", 0) == 0) {  // RFC 5321 §3.8: the server closes after a 421
    s.state = phase::closed;
    conn.close();
  }
  return chosen.text;
}

std::string scripted_smtp_peer::ehlo_reply(const session& s, memory_connection& conn) const {
  std::vector<std::string> lines = {host_ + " greets " + s.helo};
  for (const auto& keyword : extensions_) {
    if (upper(keyword) == "STARTTLS" && conn.tls_active()) continue;
    lines.push_back(keyword);
  }
  std::string reply;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i != 0) reply += "\r\n";
    reply += (i + 1 == lines.size() ? "250 " : "250-") + lines[i];
  }
  return reply;
}

void scripted_smtp_peer::on_open(memory_connection& conn) {
  session& s = sessions_[conn.id()];
  s.number = ++connections_;
  const std::string reply = act(conn, s, smtp_step::greeting, "220 " + host_ + " ESMTP scripted");
  // RFC 5321 §3.1: after a 554 greeting the server answers everything but QUIT with 503.
  s.refused = !reply.empty() && reply.rfind("220", 0) != 0;
}

void scripted_smtp_peer::on_bytes(memory_connection& conn, std::string_view bytes) {
  session& s = sessions_[conn.id()];
  if (s.state != phase::command && s.state != phase::data) return;
  s.buffer.append(bytes);
  std::size_t start = 0;
  while (s.state == phase::command || s.state == phase::data) {
    const auto end = s.buffer.find("\r\n", start);
    if (end == std::string::npos) break;
    const std::string_view line(s.buffer.data() + start, end - start);
    start = end + 2;
    if (s.state == phase::data) {
      on_data_line(conn, s, line);
    } else {
      on_command(conn, s, line);
    }
  }
  // RFC 3207 §4.2: nothing pipelined after STARTTLS counts; a stalled or closed session
  // reads nothing more either.
  if (s.state == phase::command || s.state == phase::data) {
    s.buffer.erase(0, start);
  } else {
    s.buffer.clear();
  }
}

void scripted_smtp_peer::on_command(memory_connection& conn, session& s, std::string_view line) {
  commands_.emplace_back(line);
  const auto space = line.find(' ');
  const std::string verb = upper(line.substr(0, space));
  const std::string_view argument =
      space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  if (verb == "QUIT") {
    ++quits_;
    const std::string reply = act(conn, s, smtp_step::quit, "221 2.0.0 Bye");
    if (!reply.empty() && s.state != phase::closed) {
      s.state = phase::closed;
      conn.close();
    }
    return;
  }
  if (s.refused) {
    send(conn, "503 5.5.1 No service, only QUIT");
    return;
  }
  if (verb == "EHLO" || verb == "HELO") {
    s.helo = std::string(argument);
    s.in_transaction = false;
    if (verb == "EHLO") {
      act(conn, s, smtp_step::ehlo, ehlo_reply(s, conn));
    } else {
      act(conn, s, smtp_step::helo, "250 " + host_);
    }
    return;
  }
  if (verb == "STARTTLS") {
    const std::string reply = act(conn, s, smtp_step::starttls,
                                  conn.tls_active() ? "503 5.5.1 TLS already active"
                                                    : "220 2.0.0 Ready to start TLS");
    if (reply.rfind("220", 0) == 0) s.state = phase::tls_wait;
    return;
  }
  if (verb == "RSET") {
    s.in_transaction = false;
    act(conn, s, smtp_step::rset, "250 2.0.0 Ok");
    return;
  }
  if (verb == "NOOP") {
    act(conn, s, smtp_step::noop, "250 2.0.0 Ok");
    return;
  }
  if (verb == "MAIL") {
    if (s.helo.empty() || s.in_transaction) {
      send(conn, "503 5.5.1 Bad sequence of commands");
      return;
    }
    s.tx = {};
    s.tx.connection = conn.id();
    s.tx.transaction = ++transactions_;
    s.tx.client_address = conn.client().address;
    s.tx.helo = s.helo;
    s.tx.tls = conn.tls_active();
    std::tie(s.tx.mail_from, s.tx.mail_parameters) = split_path(argument);
    s.in_transaction = true;
    const std::string reply = act(conn, s, smtp_step::mail, "250 2.1.0 Ok");
    if (!positive(reply)) s.in_transaction = false;
    return;
  }
  if (verb == "RCPT") {
    if (!s.in_transaction) {
      send(conn, "503 5.5.1 Need MAIL first");
      return;
    }
    const std::string address = split_path(argument).first;
    const std::string reply = act(conn, s, smtp_step::rcpt, "250 2.1.5 Ok", &address);
    if (positive(reply)) s.tx.recipients.push_back(address);
    return;
  }
  if (verb == "DATA") {
    if (!s.in_transaction) {
      send(conn, "503 5.5.1 Need MAIL first");
    } else if (s.tx.recipients.empty()) {
      send(conn, "554 5.5.1 No valid recipients");
    } else if (act(conn, s, smtp_step::data, "354 End data with <CR><LF>.<CR><LF>")
                   .rfind("354", 0) == 0) {
      s.state = phase::data;
    }
    return;
  }
  send(conn, "500 5.5.2 Command unrecognized");
}

void scripted_smtp_peer::on_data_line(memory_connection& conn, session& s, std::string_view line) {
  if (line != ".") {
    // RFC 5321 §4.5.2: a leading dot was doubled by the client.
    if (!line.empty() && line.front() == '.') line.remove_prefix(1);
    s.tx.content.append(line).append("\r\n");
    return;
  }
  s.state = phase::command;
  const std::string reply =
      act(conn, s, smtp_step::data_end,
          "250 2.0.0 Ok: queued as " + std::to_string(s.tx.transaction));
  s.tx.reply = reply;
  messages_.push_back(s.tx);
  s.in_transaction = false;
}

void scripted_smtp_peer::on_tls(memory_connection& conn) {
  session& s = sessions_[conn.id()];
  // RFC 3207 §4.2: everything learned before TLS is forgotten; the client says EHLO again.
  s.state = phase::command;
  s.buffer.clear();
  s.helo.clear();
  s.in_transaction = false;
}

void scripted_smtp_peer::on_close(memory_connection& conn) {
  session& s = sessions_[conn.id()];
  if (s.state != phase::closed) ++client_closes_;
  s.state = phase::closed;
}

}  // namespace mailsim::test
