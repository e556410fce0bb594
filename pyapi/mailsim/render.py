"""Jinja2 rendering of scenario templates (*.yaml.j2) and message templates (*.eml.j2).

Rules (pyapi/README.md):
- Templates render with StrictUndefined: a variable the template uses and nobody gave is an
  error naming the template line, never an empty string.
- Values from the command line are typed: "300" is an int, "0.5" a float, anything else a
  string, so that arithmetic and comparisons in templates work.
- `--set key=value` on a .j2 scenario is a template variable when the template uses `key`,
  and a loader override (a dotted path into the YAML) otherwise.
- A message template is rendered once per scenario with the scenario's variables, not once
  per message: rendering must not dominate a million-message run.
"""

import os
import re
import traceback

import jinja2
import jinja2.meta
import yaml

from mailsim.errors import scenario_error

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


def typed_value(text):
    """"300" -> 300, "0.5" -> 0.5, other text unchanged (also "inf" and "nan")."""
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def parse_assignment(text):
    """"key=value" -> (key, typed value); raises ValueError for anything else."""
    key, equals, value = text.partition("=")
    key = key.strip()
    if not equals or not key:
        raise ValueError(f"--set wants key=value, not {text!r}")
    return key, typed_value(value)


def is_template(path):
    return str(path).endswith(".j2")


def _environment(folder):
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder or "."),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _template_line(error, filename):
    """The template line an error at render time happened on (0: unknown)."""
    line = 0
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return line


def _render_file(path, variables):
    """Renders the template at `path`; Jinja2 errors become ScenarioErrors at `path`."""
    folder, name = os.path.split(path)
    env = _environment(folder)
    try:
        template = env.get_template(name)
        return template.render(**variables)
    except jinja2.TemplateSyntaxError as e:
        raise scenario_error(path, e.lineno or 0, 0, f"template syntax: {e.message}") from None
    except jinja2.UndefinedError as e:
        line = _template_line(e, os.path.abspath(path)) or _template_line(e, path)
        raise scenario_error(path, line, 0, f"template: {e.message}") from None
    except jinja2.TemplateError as e:
        raise scenario_error(path, 0, 0, f"template: {e}") from None


def template_variables(path):
    """The variables a template uses and does not define itself."""
    folder, name = os.path.split(path)
    env = _environment(folder)
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        return jinja2.meta.find_undeclared_variables(env.parse(source, name, path))
    except jinja2.TemplateSyntaxError as e:
        raise scenario_error(path, e.lineno or 0, 0, f"template syntax: {e.message}") from None


def render_scenario(path, variables):
    """The scenario's YAML text: the file itself, or its rendering when it is a template."""
    if is_template(path):
        return _render_file(path, variables)
    with open(path, encoding="utf-8") as f:
        return f.read()


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def message_template_paths(yaml_text, scenario_path):
    """{path as written: file path} for every .eml / .eml.j2 file the scenario names.

    Paths are relative to the scenario's folder. A file that does not exist is left out, so
    that the loader reports it at its place in the scenario; YAML that does not parse is
    left to the loader as well, whose error names the line and column.
    """
    try:
        tree = yaml.safe_load(yaml_text)
    except yaml.YAMLError:
        return {}
    folder = os.path.dirname(scenario_path)
    found = {}
    for value in _strings(tree):
        if value.endswith((".eml", ".eml.j2")) and value not in found:
            path = os.path.join(folder, value)
            if os.path.isfile(path):
                found[value] = path
    return found


def render_messages(paths, variables):
    """{path as written: message text}: .j2 files rendered once, plain files as they are."""
    rendered = {}
    for written, path in paths.items():
        if is_template(path):
            rendered[written] = _render_file(path, variables)
        else:
            with open(path, encoding="utf-8") as f:
                rendered[written] = f.read()
    return rendered


def render_all(path, params):
    """Renders a scenario file and its message templates with parameters {key: value}.

    A parameter that the scenario template or a message template uses is a template
    variable; every other parameter is a loader override (a dotted path into the YAML).
    Returns (yaml text, {path as written: message text}, overrides).
    """
    used = template_variables(path) if is_template(path) else set()
    text = render_scenario(path, {k: v for k, v in params.items() if k in used})
    messages = message_template_paths(text, path)
    for message_path in messages.values():
        if is_template(message_path):
            used |= template_variables(message_path)
    templates = render_messages(messages, params)
    overrides = {k: v for k, v in params.items() if k not in used}
    return text, templates, overrides
