"""The command line's allocator (mailsim.allocator): when it re-executes with mimalloc, that
the re-executed command has it and its children do not, and that results do not change."""

import ctypes.util
import os
import subprocess
import sys

import pytest

from conftest import PACKAGE_ROOT, needs_runner, scenario
from mailsim.allocator import preload_plan

installed = ctypes.util.find_library("mimalloc")
needs_mimalloc = pytest.mark.skipif(not installed, reason="mimalloc is not installed")


def fake_find(name):
    return "libmimalloc.so.2" if name == "mimalloc" else None


def test_the_plan_preloads_mimalloc_only_when_wanted_and_free_to():
    plan = preload_plan({"PATH": "/bin"}, fake_find)
    assert plan["LD_PRELOAD"] == "libmimalloc.so.2" and plan["PATH"] == "/bin"
    assert plan["MAILSIM_ALLOCATOR_PRELOADED"] == "libmimalloc.so.2"
    assert preload_plan({"MAILSIM_MALLOC": "mimalloc"}, fake_find) is not None
    # Opted out, already re-executed, another preload (a sanitizer), or not installed.
    assert preload_plan({"MAILSIM_MALLOC": "system"}, fake_find) is None
    assert preload_plan({"MAILSIM_ALLOCATOR_PRELOADED": "x"}, fake_find) is None
    assert preload_plan({"LD_PRELOAD": "libasan.so.8"}, fake_find) is None
    assert preload_plan({}, lambda name: None) is None


PROBE = """
import os, subprocess, sys
from mailsim.allocator import use_preferred_allocator
use_preferred_allocator()
mapped = any("mimalloc" in line for line in open("/proc/self/maps"))
child = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('LD_PRELOAD'))"],
                       capture_output=True, text=True).stdout.strip()
print(mapped, os.environ.get("LD_PRELOAD"), child, sys.argv[1:])
"""


def probe(**env):
    full = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, **env)
    full.pop("LD_PRELOAD", None)
    full.pop("MAILSIM_ALLOCATOR_PRELOADED", None)
    return subprocess.run([sys.executable, "-c", PROBE, "--flag", "x y"], capture_output=True,
                          text=True, env=full, timeout=60, check=True).stdout.split(" ", 3)


@needs_mimalloc
def test_the_command_runs_again_with_mimalloc_and_keeps_its_arguments():
    mapped, own, child, args = probe()
    assert mapped == "True"
    assert own == "None" and child == "None"  # programs it starts get glibc's allocator
    assert args.strip() == "['--flag', 'x y']"
    mapped, _, _, _ = probe(MAILSIM_MALLOC="system")
    assert mapped == "False"


@needs_mimalloc
@needs_runner
def test_the_allocator_changes_no_result(cli, tmp_path, monkeypatch):
    outputs = {}
    for choice in ("mimalloc", "system"):
        monkeypatch.setenv("MAILSIM_MALLOC", choice)
        p = cli("run", scenario("tiny.yaml"), "--seed", "5", "--transcript", f"{choice}.log",
                "--json", f"{choice}.json")
        assert p.returncode == 0, p.stderr
        outputs[choice] = ((tmp_path / f"{choice}.log").read_bytes(),
                           (tmp_path / f"{choice}.json").read_bytes())
    assert outputs["mimalloc"] == outputs["system"]
