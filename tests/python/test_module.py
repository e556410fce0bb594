"""The C++ module through the mailsim package: loading (errors with line and column),
running (verdicts, records, summary, reports), determinism, and the GIL released during
a run while a progress callback still works."""

import json
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import mailsim
from conftest import needs_core, needs_runner, scenario

TINY = scenario("tiny.yaml")


@needs_core
def test_a_load_error_names_file_line_and_column():
    with pytest.raises(mailsim.ScenarioError) as caught:
        mailsim.load(scenario("broken", "unknown-key.yaml"))
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.file == scenario("broken", "unknown-key.yaml")
    assert (error.line, error.column) == (8, 7)
    assert "mailbox" in error.message
    assert str(error).startswith(f"{error.file}:8:7: ")


@needs_core
def test_load_text_reports_the_given_file_name():
    with pytest.raises(mailsim.ScenarioError) as caught:
        mailsim.load_text("name: x\nduration: soon\n", "inline.yaml")
    assert caught.value.file == "inline.yaml"
    assert caught.value.line == 2 and caught.value.column >= 1


@needs_core
def test_overrides_are_checked_like_the_file():
    s = mailsim.load_text(open(TINY).read(), "tiny.yaml", {"seed": 77, "duration": "3h"})
    assert (s.seed, s.duration_s) == (77, 3 * 3600)
    s = mailsim.load_text(open(TINY).read(), "tiny.yaml", ["seed=78", ("duration", "1h")])
    assert (s.seed, s.duration_s) == (78, 3600)
    with pytest.raises(mailsim.ScenarioError):
        mailsim.load_text(open(TINY).read(), "tiny.yaml", {"duration": "whenever"})


@needs_core
def test_a_loaded_scenario_describes_itself():
    s = mailsim.load(TINY)
    assert s.name == "tiny delivery"
    assert s.file == TINY
    assert s.seed == 3
    assert s.expectations == ["sent == 5", "delivered_ratio == 1"]
    assert s.duration_s == 2 * 3600
    assert s.senders == ["s"] and len(s.providers) == 1
    assert s.messages == [""]
    assert "tiny delivery" in repr(s)


@needs_core
def test_the_loader_reads_files_itself_too():
    from mailsim import _core

    s = _core.load_scenario_file(TINY, {"seed": 4})
    assert (s.name, s.seed) == ("tiny delivery", 4)
    with pytest.raises(mailsim.ScenarioError) as caught:
        _core.load_scenario_file(scenario("nowhere.yaml"))
    assert caught.value.file == scenario("nowhere.yaml")
    with pytest.raises(ValueError, match="key=value"):
        mailsim.load_text(open(TINY).read(), "tiny.yaml", ["seed"])


@needs_runner
def test_a_tiny_scenario_runs_and_passes():
    r = mailsim.run(TINY)
    assert r.passed, r.text()
    assert r.error == ""
    assert r.name == "tiny delivery" and r.seed == 3
    assert [v.text for v in r.verdicts] == ["sent == 5", "delivered_ratio == 1"]
    assert all(v.passed for v in r.verdicts)
    assert r.verdicts[0].measured.startswith("5")
    assert r.verdicts[0].where.startswith(TINY + ":")
    assert r.summary["sent"] == 5 and r.summary["delivered"] == 5
    assert r.summary["delivered_ratio"] == 1.0
    assert r.summary["attempts_mean"] == 1.0
    assert 0 < r.summary["p50_delivery_delay"] <= r.summary["max_delivery_delay"]
    assert len(r.records) == 5
    assert r.records is r.records  # built once
    first = r.records[0]
    assert first["outcome"] == "delivered" and first["domain"] == "tiny.sim"
    assert first["delay_s"] == pytest.approx(first["final_s"] - first["queued_s"])
    assert sum(s["accepted"] for s in r.series) == 5
    assert r.summary["accepted"] == 5 and r.summary["listings"] == 0
    assert r.summary["bounced_by_status"] == {}
    breakdown = r.breakdown
    assert breakdown["by_sender"]["s"]["delivered"] == 5
    assert [p["sent"] for p in breakdown["by_provider"].values()] == [5]
    assert sum(d["queued"] for d in breakdown["days"]) == 5
    assert r.reproduce.startswith("mailsim run " + TINY + " --seed 3")


@needs_runner
def test_the_reports_parse():
    r = mailsim.run(TINY)
    assert isinstance(json.loads(r.json()), dict)
    root = ET.fromstring(r.junit())
    assert root.tag == "testsuites"
    assert root.find("testsuite").get("name") == "tiny delivery"
    assert len(root.findall(".//testcase")) == 1 and not root.findall(".//failure")
    assert "tiny delivery" in r.text()
    failed = mailsim.run(scenario("failing", "impossible.yaml"))
    both = ET.fromstring(mailsim._core.junit_xml("suite", [r, failed]))
    assert both.find("testsuite").get("name") == "suite"
    assert len(both.findall(".//testcase")) == 2 and len(both.findall(".//failure")) == 1
    assert r.summary["sent"] == 5  # the results are whole again after the call


@needs_runner
def test_a_failing_expectation_is_a_failed_result_not_an_exception():
    r = mailsim.run(scenario("failing", "impossible.yaml"))
    assert not r.passed
    assert [v.passed for v in r.verdicts] == [True, False]
    assert r.verdicts[1].measured.startswith("2")
    assert "--seed 11" in r.reproduce


@needs_runner
def test_same_seed_same_digest_and_another_seed_another():
    s = mailsim.load(scenario("long.yaml"), **{"workload.0.volume.total": 40})
    a = mailsim.run(s, keep_transcript=True)
    b = mailsim.run(s, keep_transcript=True)
    c = mailsim.run(s, seed=10)
    assert a.transcript_digest == b.transcript_digest
    assert a.transcript == b.transcript and a.transcript.count("\n") > 10
    assert a.json() == b.json()
    assert c.seed == 10 and c.transcript_digest != a.transcript_digest
    assert mailsim.run(s).transcript is None


@needs_runner
def test_a_template_scenario_runs_with_its_variables():
    r = mailsim.run(scenario("count.yaml.j2"), half=2, greeting="hi")
    assert r.name == "count 4 hi" and r.passed
    assert not mailsim.run(scenario("count.yaml.j2"), half=3).passed


@needs_runner
def test_the_transcript_goes_to_a_file(tmp_path):
    path = tmp_path / "t.log"
    r = mailsim.run(TINY, transcript_path=path, keep_transcript=True)
    assert path.read_text() == r.transcript


@needs_runner
def test_progress_is_reported_with_the_gil():
    seen = []
    r = mailsim.run(scenario("long.yaml"), progress=seen.append)
    assert r.passed
    assert len(seen) >= 48
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


@needs_runner
def test_an_exception_in_the_progress_callback_stops_the_run():
    def stop(fraction):
        if fraction > 0.1:
            raise KeyError("enough")

    with pytest.raises(KeyError, match="enough"):
        mailsim.run(scenario("long.yaml"), progress=stop)


@needs_runner
def test_the_gil_is_released_while_the_simulation_runs():
    # With a huge switch interval, a thread that holds the GIL keeps it until it blocks or
    # releases it. The main thread can see `in_simulation` set only if it runs while the
    # worker is inside C++ between two progress calls: that is, only if run() released it.
    state = {"in_simulation": False, "seen": 0, "done": False}

    def progress(fraction):
        state["in_simulation"] = True

    def worker():
        mailsim.run(scenario("long.yaml"), progress=progress)
        state["in_simulation"] = False
        state["done"] = True

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        thread = threading.Thread(target=worker)
        thread.start()
        while not state["done"]:
            if state["in_simulation"]:
                state["seen"] += 1
            time.sleep(0.0005)
        thread.join()
    finally:
        sys.setswitchinterval(old)
    assert state["seen"] > 0


@needs_runner
def test_a_sweep_is_a_table_of_parameters_and_metrics():
    rows = mailsim.sweep(scenario("count.yaml.j2"), half=[1, 2], greeting=["a", "b"], seed=[1, 2])
    assert len(rows) == 8
    assert [(r["half"], r["greeting"], r["seed"]) for r in rows[:3]] == \
        [(1, "a", 1), (1, "a", 2), (1, "b", 1)]
    assert [r["sent"] for r in rows] == [2] * 4 + [4] * 4
    assert [r["passed"] for r in rows] == [False] * 4 + [True] * 4
    table = rows.table()[["half", "greeting", "p50_delivery_delay", "attempts_mean"]]
    assert table.columns == ["half", "greeting", "p50_delivery_delay", "attempts_mean"]
    assert table["attempts_mean"] == [1.0] * 8
    # Same inputs, same table.
    again = mailsim.sweep(scenario("count.yaml.j2"), half=[1, 2], greeting=["a", "b"], seed=[1, 2])
    assert [r["transcript_digest"] for r in again] == [r["transcript_digest"] for r in rows]


@needs_core
def test_message_templates_are_rendered_with_the_parameters():
    s = mailsim.load(scenario("greeting.yaml"), who="Ada", seed=8)
    assert s.seed == 8
    assert s.messages == [open(scenario("templates", "hello.eml.j2")).read()
                          .replace("{{ who }}", "Ada")]
    with pytest.raises(mailsim.ScenarioError) as caught:
        mailsim.load(scenario("greeting.yaml"))
    assert caught.value.file == scenario("templates", "hello.eml.j2")
    assert caught.value.line == 2 and "'who' is undefined" in caught.value.message


@needs_runner
def test_ctrl_c_stops_a_long_run_within_a_virtual_hour():
    import os
    import signal

    # About 4 s of real time in a debug build; the interrupt comes after 0.2 s.
    s = mailsim.load(scenario("long.yaml"), **{"duration": "20d", "workload.0.volume.total": 4000,
                                               "workload.0.volume.over": "19d"})
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            mailsim.run(s)
    finally:
        timer.join()
    assert time.monotonic() - started < 2.0
