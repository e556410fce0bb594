"""The shipped quickstart suite, golden transcripts, determinism and closed-form checks.

Golden transcripts: every tests/golden/<name>.yaml has <name>.ref, the whole transcript of
its run. Regenerate them after a deliberate change with
    MAILSIM_REGENERATE=1 /usr/bin/python3 -m pytest tests/python/test_scenarios.py
and review the diff like code.
"""

import glob
import os

import pytest

import mailsim

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
QUICKSTART = sorted(glob.glob(os.path.join(REPO, "scenarios", "quickstart", "*.yaml")))
GOLDEN = sorted(glob.glob(os.path.join(REPO, "tests", "golden", "*.yaml")))


def test_the_quickstart_suite_is_there():
    assert len(QUICKSTART) >= 8


@pytest.mark.parametrize("path", QUICKSTART, ids=os.path.basename)
def test_every_quickstart_scenario_passes(path):
    result = mailsim.run(path)
    failed = [f"{v.text}: measured {v.measured} {v.error}" for v in result.verdicts if not v.passed]
    assert result.error == ""
    assert result.passed, failed


@pytest.mark.parametrize("path", GOLDEN, ids=os.path.basename)
def test_golden_transcript(path):
    result = mailsim.run(path, keep_transcript=True)
    assert result.passed
    ref = path[: -len(".yaml")] + ".ref"
    if os.environ.get("MAILSIM_REGENERATE") == "1":
        with open(ref, "w", encoding="ascii") as f:
            f.write(result.transcript)
    assert os.path.exists(ref), f"{ref} is missing: run with MAILSIM_REGENERATE=1"
    with open(ref, encoding="ascii") as f:
        assert result.transcript == f.read(), f"transcript differs from {ref}"


def test_same_seed_gives_the_same_report_and_transcript():
    path = os.path.join(REPO, "scenarios", "quickstart", "greylisting-vs-retry.yaml")
    first = mailsim.run(path, seed=11, keep_transcript=True)
    second = mailsim.run(path, seed=11, keep_transcript=True)
    assert first.transcript == second.transcript
    assert first.json() == second.json()


def test_another_seed_gives_another_transcript():
    path = os.path.join(REPO, "scenarios", "quickstart", "greylisting-vs-retry.yaml")
    assert mailsim.run(path, seed=1).transcript_digest != mailsim.run(path, seed=2).transcript_digest


CLOSED_FORM = """
name: greylist {delay}s against a fixed {interval}s retry
seed: 1
duration: 1d
world:
  providers:
    - profile: strict-greylist
      domains: [grey.sim]
      greylist: {{ delay: {delay}s, key: ip }}
      mailboxes: {{ valid: 5 }}
senders:
  - {{ name: s, domain: s.example, ips: [203.0.113.5], retry: {{ fixed: {interval}s }} }}
workload:
  - {{ from: a@s.example, volume: {{ total: 5, over: 5m }}, recipients: {{ from_world: all }} }}
"""


@pytest.mark.parametrize("delay,interval", [(300, 120), (1500, 600), (3660, 1800), (60, 61)])
def test_a_greylist_delivers_at_the_first_retry_past_its_delay(delay, interval):
    """A greylist of D seconds against a fixed retry interval R delivers at the first
    attempt at or after D: after ceil(D / R) retries, to the second (plus the network's
    sub-second round trips)."""
    scenario = mailsim.load_text(CLOSED_FORM.format(delay=delay, interval=interval))
    result = mailsim.run(scenario)
    retries = -(-delay // interval)
    for record in result.records:
        assert record["outcome"] == "delivered"
        assert record["attempts"] == retries + 1
        assert retries * interval <= record["delay_s"] < retries * interval + 1


def test_the_shipped_sweep_template_runs_every_combination():
    path = os.path.join(REPO, "scenarios", "sweeps", "greylist.yaml.j2")
    rows = list(mailsim.sweep(path, delay=[60, 1500], retry=["postfix", "exim"]))
    assert len(rows) == 4
    by = {(row["delay"], row["retry"]): row for row in rows}
    assert all(row["passed"] for row in rows)
    # Exim retries every 15 minutes for the first two hours, so a 25-minute greylist costs
    # it two retries (30 min); Postfix's doubling backoff needs four (40 min).
    assert by[(1500, "exim")]["attempts_mean"] == 3
    assert by[(1500, "postfix")]["attempts_mean"] == 5
