"""Finding scenario files and loading them: the step between a path and a Scenario.

A path is a scenario file (*.yaml, *.yaml.j2) or a folder, which is a suite: every *.yaml and
*.yaml.j2 directly in it, sorted by name.
"""

import os

from mailsim import render
from mailsim.errors import scenario_error

SCENARIO_SUFFIXES = (".yaml", ".yaml.j2")


def discover(paths):
    """The scenario files named by `paths` (files and folders), in order, without duplicates.

    Raises ScenarioError for a path that does not exist or a folder without scenarios.
    """
    found = []
    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if n.endswith(SCENARIO_SUFFIXES))
            files = [os.path.join(path, n) for n in names]
            files = [f for f in files if os.path.isfile(f)]
            if not files:
                raise scenario_error(path, 0, 0, "no *.yaml or *.yaml.j2 scenario in this folder")
            found.extend(files)
        elif os.path.isfile(path):
            found.append(path)
        else:
            raise scenario_error(path, 0, 0, "no such file or folder")
    unique = []
    for f in found:
        if f not in unique:
            unique.append(f)
    return unique


def _core():
    from mailsim import _core

    return _core


def load(path, params=None):
    """Loads one scenario file with parameters {key: value}.

    A parameter that the scenario (a .j2 template) or one of its message templates uses is a
    template variable; every other parameter is a loader override (a dotted path such as
    world.providers.0.greylist.delay). Raises ScenarioError (file:line:column) for template
    and scenario errors alike.
    """
    path = os.fspath(path)
    try:
        text, templates, overrides = render.render_all(path, dict(params or {}))
    except OSError as e:
        raise scenario_error(e.filename or path, 0, 0, e.strerror or str(e)) from None
    return _core().load_scenario(text, path, overrides, templates)
