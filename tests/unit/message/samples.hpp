// Hand-written messages shared by the message module's tests. Written with "\n" and turned
// into CRLF by crlf() so that the same text serves the LF-only tests.
#pragma once

#include <string>
#include <string_view>

namespace mailsim::message::test {

inline std::string crlf(std::string_view lf_text) {
  std::string out;
  for (char c : lf_text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

inline constexpr std::string_view simple_lf =
    "From: \"Joe Q. Public\" <john.q.public@example.com>\n"
    "To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>\n"
    "Cc: <boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>\n"
    "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
    "Subject: Hello\n"
    "Message-ID: <5678.21-Nov-1997@example.com>\n"
    "\n"
    "Hi.\n";

inline constexpr std::string_view mixed_lf =
    "From: a@b.test\n"
    "Subject: multi\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "preamble\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "\n"
    "plain text\n"
    "--inner\n"
    "Content-Type: text/html; charset=UTF-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "<p>hi=3D</p>\n"
    "--inner--\n"
    "--outer\n"
    "Content-Type: application/pdf; name=\"a.pdf\"\n"
    "Content-Disposition: attachment; filename=\"a.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0=\n"
    "--outer--\n"
    "epilogue\n";

inline constexpr std::string_view forward_lf =
    "From: outer@x.test\n"
    "Subject: fwd\n"
    "Content-Type: multipart/mixed; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain\n"
    "\n"
    "see attached\n"
    "--b\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: inner@y.test\n"
    "Subject: inner\n"
    "Date: Mon, 2 Jan 2006 15:04:05 -0700\n"
    "\n"
    "inner body\n"
    "--b--\n";

inline constexpr std::string_view digest_lf =
    "Content-Type: multipart/digest; boundary=d\n"
    "\n"
    "--d\n"
    "\n"
    "From: a@x.test\n"
    "Subject: one\n"
    "\n"
    "body one\n"
    "--d\n"
    "Content-Type: text/plain\n"
    "\n"
    "not a message\n"
    "--d--\n";

}  // namespace mailsim::message::test
