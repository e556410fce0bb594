"""mailsim: run simulated-internet email scenarios from Python.

    import mailsim
    s = mailsim.load("scenarios/quickstart/greylisting.yaml.j2", delay=300, retry="exim")
    r = mailsim.run(s, seed=7)
    r.passed, r.summary["delivered_ratio"], r.verdicts
    rows = mailsim.sweep("greylisting.yaml.j2", delay=[60, 300, 1500], retry=["postfix", "exim"])
    rows.table()[["delay", "retry", "p50_delivery_delay", "attempts_mean"]]

The simulator itself is the C++ module mailsim._core; this package adds Jinja2 rendering,
suites, sweeps and the command line (python -m mailsim run ...). pyapi/README.md has the rest.
"""

import os

from mailsim.errors import ScenarioError
from mailsim.sweep import SweepResult, sweep
from mailsim.table import Table

try:
    from mailsim import _core
except ImportError as _error:  # pragma: no cover - only without the C++ module
    _core = None
    _core_error = _error

__all__ = ["ScenarioError", "SweepResult", "Table", "load", "load_text", "run", "sweep"]


def _require_core():
    if _core is None:
        raise ImportError(f"mailsim._core is not built ({_core_error}); build the dev preset "
                          "and put build/dev/pyapi on PYTHONPATH")
    return _core


def load(path, **params):
    """Loads a scenario file; params are template variables (.j2) or loader overrides."""
    _require_core()
    from mailsim import suite

    return suite.load(path, params)


def load_text(text, file_name="<string>", overrides=None, rendered_templates=None):
    """Loads a scenario from YAML text (no templates rendered); file_name is for errors."""
    return _require_core().load_scenario(text, file_name, overrides, rendered_templates)


def run(scenario, seed=None, keep_transcript=False, progress=None, transcript_path=None,
        **params):
    """Runs a Scenario, or loads a path (with params) and runs it. Returns a RunResult.

    The run holds no GIL; progress(fraction) is called about every virtual hour.
    """
    core = _require_core()
    if not core.has_runner:
        raise RuntimeError("this mailsim._core was built without the scenario runner")
    if isinstance(scenario, (str, os.PathLike)):
        scenario = load(scenario, **params)
    elif params:
        raise TypeError("parameters apply only when run() is given a path")
    return core.run(scenario, seed=seed, keep_transcript=keep_transcript, progress=progress,
                    transcript_path=os.fspath(transcript_path or ""), command="mailsim run")
