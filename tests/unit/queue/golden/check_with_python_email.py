#!/usr/bin/python3
"""Reads every golden delivery report (*.eml) in a folder with Python's own `email` package,
an implementation independent of mailsim, and checks that it sees an RFC 6522
multipart/report with the RFC 3464 (or RFC 6533) parts in order and no defects.

Usage: /usr/bin/python3 check_with_python_email.py <folder>   (exit status 1 on a failure)
The C++ test dsn_golden.* proves the builder's output equal to these files byte for byte.
"""
import email.policy
import pathlib
import sys
from email.parser import BytesParser, HeaderParser

REQUIRED_PER_RECIPIENT = ("Final-Recipient", "Action", "Status")


def status_blocks(part):
    """The field groups of a delivery-status part as a list of messages (header only)."""
    payload = part.get_payload()
    if not isinstance(payload, list):  # not read as a message type at all
        return []
    if len(payload) > 1:  # message/delivery-status: Python splits the groups itself
        return payload
    # message/global-delivery-status is read as one message: the per-message fields are its
    # header and the per-recipient groups its body.
    first = payload[0]
    body = first.get_payload()
    blocks = [first]
    for group in body.replace("\r\n", "\n").split("\n\n"):
        if group.strip():
            blocks.append(HeaderParser(policy=email.policy.default).parsestr(group + "\n"))
    return blocks


def check(path):
    problems = []
    message = BytesParser(policy=email.policy.default).parse(path.open("rb"))
    if message.get_content_type() != "multipart/report":
        return [f"top-level type is {message.get_content_type()}"]
    parts = list(message.iter_parts())
    if len(parts) not in (2, 3):
        return [f"{len(parts)} parts"]
    report_type = message.get_param("report-type")
    if parts[0].get_content_type() != "text/plain":
        problems.append(f"first part is {parts[0].get_content_type()}")
    if parts[1].get_content_type() != "message/" + report_type:
        problems.append(f"second part {parts[1].get_content_type()} vs report-type {report_type}")
    if len(parts) == 3:
        expected = {"delivery-status": ("message/rfc822", "text/rfc822-headers"),
                    "global-delivery-status": ("message/global", "message/global-headers")}
        if parts[2].get_content_type() not in expected.get(report_type, ()):
            problems.append(f"third part is {parts[2].get_content_type()}")
    blocks = status_blocks(parts[1])
    if not blocks or "Reporting-MTA" not in blocks[0]:
        problems.append("no Reporting-MTA")
    if len(blocks) < 2:
        problems.append("no per-recipient group")
    for block in blocks[1:]:
        missing = [name for name in REQUIRED_PER_RECIPIENT if name not in block]
        if missing:
            problems.append(f"a recipient lacks {missing}")
    for part in [message, *parts]:
        if part.defects:
            problems.append(f"defects: {part.defects}")
    if message["Auto-Submitted"] != "auto-replied":
        problems.append("no Auto-Submitted: auto-replied")
    return problems


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
    files = sorted(folder.glob("*.eml"))
    if not files:
        print(f"no .eml files in {folder}")
        return 1
    failed = False
    for path in files:
        problems = check(path)
        print(("FAIL " if problems else "ok   ") + path.name + "".join("\n  " + p for p in problems))
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
