"""Shared set-up for the Python tests of mailsim (pytest under /usr/bin/python3).

The package is imported from the build tree: PYTHONPATH (set by ctest) or, when run by
hand, $MAILSIM_BUILD_DIR/pyapi or <repo>/build/dev/pyapi. The CLI is run the way users run
it, as a subprocess of the same interpreter (`python -m mailsim`).
"""

import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SCENARIOS = os.path.join(HERE, "scenarios")


def _package_root():
    build = os.environ.get("MAILSIM_BUILD_DIR", os.path.join(REPO, "build", "dev"))
    return os.path.join(build, "pyapi")


try:
    import mailsim  # noqa: F401
except ImportError:
    sys.path.insert(0, _package_root())
    import mailsim  # noqa: F401

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(mailsim.__file__)))


def core():
    """mailsim._core, or None when the module is not built."""
    try:
        from mailsim import _core
    except ImportError:
        return None
    return _core


def runner_missing():
    c = core()
    return c is None or not getattr(c, "has_runner", False)


needs_core = pytest.mark.skipif(core() is None, reason="mailsim._core is not built")
needs_runner = pytest.mark.skipif(runner_missing(),
                                  reason="mailsim._core was built without the scenario runner")


def scenario(*parts):
    return os.path.join(SCENARIOS, *parts)


@pytest.fixture
def cli(tmp_path):
    """Runs `python -m mailsim ARGS...`; returns the CompletedProcess (text mode)."""

    def run(*args, cwd=None):
        env = dict(os.environ)
        env["PYTHONPATH"] = PACKAGE_ROOT + os.pathsep + env.get("PYTHONPATH", "")
        return subprocess.run([sys.executable, "-m", "mailsim", *map(str, args)],
                              capture_output=True, text=True, env=env, cwd=cwd or tmp_path,
                              timeout=300)

    return run
