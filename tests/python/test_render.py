"""The pure-Python parts of mailsim: typed --set values, Jinja2 rendering with
StrictUndefined, message templates, suite discovery and the Table."""

import os
import pytest

from conftest import SCENARIOS, scenario
from mailsim import render, suite
from mailsim.errors import ScenarioError
from mailsim.table import Table


@pytest.mark.parametrize("text, value", [
    ("300", 300), ("-4", -4), ("0.5", 0.5), ("1e3", 1000.0), (".25", 0.25),
    ("exim", "exim"), ("5m", "5m"), ("inf", "inf"), ("nan", "nan"), ("", ""), ("1.2.3", "1.2.3"),
])
def test_set_values_are_typed_when_they_parse(text, value):
    assert render.typed_value(text) == value
    assert type(render.typed_value(text)) is type(value)


def test_assignment_splits_at_the_first_equals_sign():
    assert render.parse_assignment("a.b=x=y") == ("a.b", "x=y")
    assert render.parse_assignment("delay=300") == ("delay", 300)
    for bad in ["novalue", "=3", ""]:
        with pytest.raises(ValueError):
            render.parse_assignment(bad)


def test_parameters_templates_use_are_variables_and_the_rest_overrides(tmp_path):
    (tmp_path / "m.eml.j2").write_text("Subject: {{ who }}\n\nhi\n")
    (tmp_path / "s.yaml.j2").write_text("name: n{{ n }}\nworkload:\n  - { message: m.eml.j2 }\n")
    (tmp_path / "p.yaml").write_text("name: p\nworkload:\n  - { message: m.eml.j2 }\n")
    params = {"n": 2, "who": "Ada", "seed": 9, "world.latency": "5ms"}
    text, templates, overrides = render.render_all(str(tmp_path / "s.yaml.j2"), params)
    assert text.startswith("name: n2\n")
    assert templates == {"m.eml.j2": "Subject: Ada\n\nhi\n"}
    assert overrides == {"seed": 9, "world.latency": "5ms"}
    text, templates, overrides = render.render_all(str(tmp_path / "p.yaml"), params)
    assert templates == {"m.eml.j2": "Subject: Ada\n\nhi\n"}
    assert overrides == {"n": 2, "seed": 9, "world.latency": "5ms"}


def test_template_renders_with_typed_values():
    text = render.render_scenario(scenario("count.yaml.j2"), {"half": 3})
    assert "name: count 6 hello" in text
    assert "total: 6," in text
    assert text.endswith("- sent == 4\n")


def test_strict_undefined_names_the_template_line():
    with pytest.raises(ScenarioError) as caught:
        render.render_scenario(scenario("missing-var.yaml.j2"), {})
    error = caught.value
    assert error.file == scenario("missing-var.yaml.j2")
    assert error.line == 3
    assert "'hours' is undefined" in error.message
    assert str(error).startswith(scenario("missing-var.yaml.j2") + ":3: template: ")


def test_template_syntax_error_names_its_line(tmp_path):
    path = tmp_path / "bad.yaml.j2"
    path.write_text("name: x\nseed: {{ 1 +\n")
    with pytest.raises(ScenarioError) as caught:
        render.render_scenario(str(path), {})
    assert caught.value.line == 2
    assert "template syntax" in caught.value.message


def test_message_templates_render_once_with_the_scenario_variables(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "m.eml.j2").write_text("Subject: {{ who }}\n\nhi\n")
    (tmp_path / "t" / "plain.eml").write_text("Subject: plain {{ raw }}\n\nhi\n")
    yaml_text = ("workload:\n  - { message: t/m.eml.j2 }\n  - { message: t/m.eml.j2 }\n"
                 "  - { message: { template: t/plain.eml } }\n  - { message: t/absent.eml.j2 }\n")
    paths = render.message_template_paths(yaml_text, str(tmp_path / "s.yaml"))
    assert paths == {"t/m.eml.j2": str(tmp_path / "t" / "m.eml.j2"),
                     "t/plain.eml": str(tmp_path / "t" / "plain.eml")}
    assert render.render_messages(paths, {"who": "Ada"}) == {
        "t/m.eml.j2": "Subject: Ada\n\nhi\n", "t/plain.eml": "Subject: plain {{ raw }}\n\nhi\n"}
    with pytest.raises(ScenarioError) as caught:
        render.render_messages(paths, {})
    assert caught.value.file.endswith("m.eml.j2") and caught.value.line == 1


def test_message_templates_leave_broken_yaml_to_the_loader():
    assert render.message_template_paths("a: [unclosed\n", "x.yaml") == {}


def test_a_suite_is_every_scenario_in_the_folder_sorted():
    found = suite.discover([scenario("suite")])
    assert [os.path.basename(f) for f in found] == ["a-tiny.yaml", "b-template.yaml.j2"]
    both = suite.discover([scenario("tiny.yaml"), scenario("suite"), scenario("tiny.yaml")])
    assert len(both) == 3 and both[0] == scenario("tiny.yaml")


def test_discovery_refuses_missing_paths_and_empty_folders(tmp_path):
    with pytest.raises(ScenarioError) as caught:
        suite.discover([os.path.join(SCENARIOS, "nowhere.yaml")])
    assert str(caught.value) == os.path.join(SCENARIOS, "nowhere.yaml") + ": no such file or folder"
    with pytest.raises(ScenarioError):
        suite.discover([str(tmp_path)])


def test_table_selects_columns_and_rows():
    t = Table([{"delay": 60, "retry": "exim", "p50": 1.5}, {"delay": 300, "retry": "postfix"}])
    assert t.columns == ["delay", "retry", "p50"]
    assert t["delay"] == [60, 300]
    narrow = t[["retry", "p50"]]
    assert narrow.columns == ["retry", "p50"]
    assert narrow[1] == {"retry": "postfix", "p50": None}
    assert len(t[1:]) == 1
    assert "delay" in str(t) and "postfix" in str(t)
    with pytest.raises(KeyError):
        t["nope"]
    with pytest.raises(KeyError):
        t[["delay", "nope"]]
