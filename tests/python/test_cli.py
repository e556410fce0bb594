"""The mailsim command line, run as users run it: exit codes, reports, --set, suites and the
reproduce line of a failure."""

import json
import os
import shlex
import xml.etree.ElementTree as ET

from conftest import needs_core, needs_runner, scenario


def test_usage_errors_exit_2(cli):
    assert cli().returncode == 2
    assert cli("run").returncode == 2
    bad_set = cli("run", scenario("tiny.yaml"), "--set", "novalue")
    assert bad_set.returncode == 2 and "key=value" in bad_set.stderr
    missing = cli("run", scenario("nowhere.yaml"))
    assert missing.returncode == 2 and "nowhere.yaml" in missing.stderr


@needs_core
def test_a_load_error_exits_2_with_file_line_column(cli):
    path = scenario("broken", "unknown-key.yaml")
    p = cli("run", path, scenario("tiny.yaml"))
    assert p.returncode == 2
    assert f"{path}:8:7: " in p.stderr
    assert "tiny delivery" not in p.stdout  # nothing runs when one scenario does not load


@needs_core
def test_a_missing_template_variable_is_a_load_error(cli):
    path = scenario("missing-var.yaml.j2")
    p = cli("run", path)
    assert p.returncode == 2
    assert f"{path}:3:" in p.stderr and "'hours' is undefined" in p.stderr


@needs_runner
def test_a_passing_scenario_exits_0_and_writes_reports(cli, tmp_path):
    p = cli("run", scenario("tiny.yaml"), "--junit", "out.xml", "--json", "out.json")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "tiny delivery" in p.stdout
    assert "suite PASSED: 1 scenario, 1 passed, 0 failed" in p.stdout
    root = ET.parse(tmp_path / "out.xml").getroot()
    assert root.tag == "testsuites" and root.find("testsuite").get("name") == "tiny.yaml"
    assert len(root.findall(".//testcase")) == 1 and not root.findall(".//failure")
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["passed"] is True and len(report["scenarios"]) == 1


@needs_runner
def test_set_overrides_a_plain_yaml_file(cli):
    path = scenario("tiny.yaml")
    assert cli("run", path, "--quiet").returncode == 0
    p = cli("run", path, "--set", "workload.0.volume.total=3")
    assert p.returncode == 1, p.stdout + p.stderr


@needs_runner
def test_set_gives_template_variables_typed(cli):
    path = scenario("count.yaml.j2")
    ok = cli("run", path, "--set", "half=2", "--set", "greeting=salut")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "count 4 salut" in ok.stdout
    assert cli("run", path, "--set", "half=3").returncode == 1


@needs_runner
def test_a_failure_prints_seed_and_a_command_that_reproduces_it(cli, tmp_path):
    path = scenario("failing", "impossible.yaml")
    p = cli("run", path, "--seed", "21", "--set", "world.latency=30ms", "--transcript", "t.log",
            "--junit", "j.xml")
    assert p.returncode == 1
    assert "21" in p.stdout
    line = next(l for l in p.stdout.splitlines() if "mailsim run" in l and "--seed 21" in l)
    command = shlex.split(line[line.index("mailsim run"):])
    assert command == ["mailsim", "run", "--set", "world.latency=30ms", path, "--seed", "21"]
    first = (tmp_path / "t.log").read_text()
    again = cli(*command[1:], "--transcript", "t2.log")
    assert again.returncode == 1
    assert (tmp_path / "t2.log").read_text() == first
    root = ET.parse(tmp_path / "j.xml").getroot()
    assert len(root.findall(".//testcase")) == 1 and root.findall(".//failure")


@needs_runner
def test_a_suite_folder_runs_every_scenario_in_order(cli, tmp_path):
    p = cli("run", scenario("suite"), "--json", "s.json", "--transcript", "t.log")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.index("suite member a") < p.stdout.index("suite member b, 2 messages")
    assert "suite PASSED: 2 scenarios, 2 passed, 0 failed" in p.stdout
    assert len(json.loads((tmp_path / "s.json").read_text())["scenarios"]) == 2
    assert sorted(os.listdir(tmp_path)) == ["s.json", "t-a-tiny.log", "t-b-template.log"]


@needs_runner
def test_progress_goes_to_stderr_once_a_run_is_long(cli, monkeypatch):
    monkeypatch.setenv("MAILSIM_PROGRESS_AFTER", "0")
    p = cli("run", scenario("long.yaml"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert "two quiet days: 100.0% of virtual time" in p.stderr
    assert "%" not in p.stdout
    quiet = cli("run", scenario("long.yaml"), "--quiet")
    assert quiet.stderr == "" and quiet.stdout.startswith("suite PASSED")


@needs_runner
def test_a_suite_with_one_failure_exits_1(cli):
    p = cli("run", scenario("suite"), scenario("failing"), "--quiet")
    assert p.returncode == 1
    assert "suite FAILED: 3 scenarios, 2 passed, 1 failed" in p.stdout
    assert "suite member a" not in p.stdout  # --quiet prints only failures


@needs_runner
def test_the_wrapper_script_runs_the_cli(tmp_path):
    import subprocess

    from conftest import PACKAGE_ROOT, REPO

    env = dict(os.environ, MAILSIM_BUILD_DIR=os.path.dirname(PACKAGE_ROOT))
    p = subprocess.run(["bash", os.path.join(REPO, "tools", "mailsim"), "run",
                        scenario("tiny.yaml"), "--quiet"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr


@needs_runner
def test_message_templates_take_set_values(cli):
    path = scenario("greeting.yaml")
    missing = cli("run", path)
    assert missing.returncode == 2
    assert scenario("templates", "hello.eml.j2") + ":2: " in missing.stderr
    ok = cli("run", path, "--set", "who=Ada")
    assert ok.returncode == 0, ok.stdout + ok.stderr
