"""The command line: a bad config is one clear "file:line:column: message" and exit 2."""

from __future__ import annotations

import re
import subprocess

import pytest

from mailsim_harness import REPO_ROOT

TIMEOUT_S = 30

GOOD_HASH = "$pbkdf2-sha256$i=4096$AAAAAAAAAAAAAAAAAAAAAA==$" \
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

# Line numbers below count from 1 at "server:".
BASE = """\
server:
  hostname: mx.example.test
  maildir_root: maildir
listeners:
  - role: smtp
    address: 127.0.0.1
    port: 2525
domains:
  - example.test
users:
  - address: alice@example.test
    password_hash: "{hash}"
aliases:
  postmaster@example.test: alice@example.test
"""


def run(binary, *args, stdin=None):
    return subprocess.run([str(binary), *args], input=stdin, capture_output=True,
                          timeout=TIMEOUT_S)


def check(binary, tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path, run(binary, "--config", str(path), "--check-config")


def one_error(result, path) -> tuple[int, int, str]:
    assert result.returncode == 2, (result.returncode, result.stderr)
    stderr = result.stderr.decode()
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected one error line, got: {stderr!r}"
    m = re.fullmatch(re.escape(str(path)) + r":(\d+):(\d+): (.+)", lines[0])
    assert m, f"not 'file:line:col: message': {lines[0]!r}"
    return int(m.group(1)), int(m.group(2)), m.group(3)


def test_good_config_checks(binary, tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(BASE.format(hash=GOOD_HASH))
    result = run(binary, "--config", str(path), "--check-config")
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""


def test_unknown_key(binary, tmp_path):
    text = BASE.format(hash=GOOD_HASH).replace("  hostname:", "  hostnme:")
    path, result = check(binary, tmp_path, text)
    line, col, message = one_error(result, path)
    assert (line, col) == (2, 3)
    assert "unknown key 'hostnme'" in message
    assert "hostname" in message  # the keys that would have been right


def test_unknown_key_in_a_listener(binary, tmp_path):
    text = BASE.format(hash=GOOD_HASH).replace("    port: 2525", "    port: 2525\n    tls: yes")
    path, result = check(binary, tmp_path, text)
    line, col, message = one_error(result, path)
    assert (line, col) == (8, 5)
    assert "'tls'" in message


def test_plaintext_password_is_refused_and_not_echoed(binary, tmp_path):
    secret = "hunter2-Plaintext"
    path, result = check(binary, tmp_path, BASE.format(hash=secret))
    line, col, message = one_error(result, path)
    assert (line, col) == (12, 20)
    assert "password_hash" in message and "plaintext" in message
    assert "hash-password" in message  # says how to do it right
    assert secret.encode() not in result.stderr + result.stdout


def test_bad_value_type(binary, tmp_path):
    text = BASE.format(hash=GOOD_HASH).replace("port: 2525", "port: twenty-five")
    path, result = check(binary, tmp_path, text)
    line, col, message = one_error(result, path)
    assert (line, col) == (7, 11)
    assert "port" in message


def test_yaml_syntax_error(binary, tmp_path):
    text = BASE.format(hash=GOOD_HASH).replace("domains:\n  - example.test",
                                               "domains: [example.test")
    path, result = check(binary, tmp_path, text)
    line, _col, message = one_error(result, path)
    assert line >= 8
    assert "YAML" in message


def test_missing_required_key(binary, tmp_path):
    text = BASE.format(hash=GOOD_HASH).replace("  maildir_root: maildir\n", "")
    path, result = check(binary, tmp_path, text)
    line, col, message = one_error(result, path)
    assert line == 1
    assert "maildir_root" in message


def test_bad_config_also_fails_without_check_flag(binary, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.format(hash=GOOD_HASH).replace("  hostname:", "  hostnme:"))
    result = run(binary, "--config", str(path))
    line, col, _ = one_error(result, path)
    assert (line, col) == (2, 3)


def test_unreadable_config_is_exit_2(binary, tmp_path):
    path = tmp_path / "missing.yaml"
    result = run(binary, "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.decode().startswith(f"{path}: ")


@pytest.mark.parametrize("args", [[], ["--config"], ["--bogus"]])
def test_bad_command_line_is_exit_2(binary, args):
    result = run(binary, *args)
    assert result.returncode == 2
    assert result.stderr


def test_demo_config_checks(binary):
    demo = REPO_ROOT / "reference-server/config/demo.yaml"
    result = run(binary, "--config", str(demo), "--check-config")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""


def test_demo_config_checks_from_another_folder(binary, tmp_path):
    # Paths in the demo config are relative to the file, not to the current directory.
    demo = REPO_ROOT / "reference-server/config/demo.yaml"
    result = subprocess.run([str(binary), "--config", str(demo), "--check-config"],
                            capture_output=True, timeout=TIMEOUT_S, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
