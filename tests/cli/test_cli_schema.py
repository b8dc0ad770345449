"""`support-sandbox schema`: valid JSON Schema that accepts every shipped file, and the Markdown reference."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SMALL_SCENARIO

from sandbox import api
from sandbox.config.reference import markdown_reference

from .conftest import Invoke
from .helpers import REPO

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed to check the generated schemas")

FOLDERS = {"scenario": "simulations", "policy": "policies"}


def printed_schema(cli: Invoke, kind: str) -> dict[str, Any]:
    result = cli("schema", kind)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def shipped(kind: str) -> list[Path]:
    files = sorted((REPO / FOLDERS[kind]).glob("*.yaml"))
    assert files
    return files


@pytest.mark.parametrize("kind", ["scenario", "policy"])
def test_schema_is_valid_json_schema(cli: Invoke, kind: str) -> None:
    schema = printed_schema(cli, kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == f"support-sandbox {kind}"
    assert schema == api.schema(kind)


@pytest.mark.parametrize("kind", ["scenario", "policy"])
def test_shipped_files_validate_against_the_schema(cli: Invoke, kind: str) -> None:
    validator = jsonschema.Draft202012Validator(printed_schema(cli, kind))
    for path in shipped(kind):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(data)]
        assert not errors, (path.name, errors)


def test_schema_rejects_what_the_loader_rejects(cli: Invoke) -> None:
    """The schema is not vacuous: typos, bare durations and wrong types fail it too."""
    validator = jsonschema.Draft202012Validator(printed_schema(cli, "scenario"))
    assert not list(validator.iter_errors(copy.deepcopy(SMALL_SCENARIO)))
    for change in ({"busynes_shape": 20}, {"contacts_per_day": "lots"}):
        data = copy.deepcopy(SMALL_SCENARIO)
        data["demand"].update(change)
        assert list(validator.iter_errors(data)), change
    data = copy.deepcopy(SMALL_SCENARIO)
    data["channels"]["voice"]["service_level_threshold"] = 20
    assert list(validator.iter_errors(data))
    policy = jsonschema.Draft202012Validator(printed_schema(cli, "policy"))
    assert list(policy.iter_errors({"name": "p", "escalation": {"max_bot_turns": 0}}))
    assert not list(policy.iter_errors({"name": "p", "escalation": {"max_bot_turns": None}}))


def test_schema_accepts_a_bare_zero_duration(cli: Invoke) -> None:
    data = copy.deepcopy(SMALL_SCENARIO)
    data["horizon"]["warm_up"] = 0
    api.load_scenario(data)  # the loader accepts it
    assert not list(jsonschema.Draft202012Validator(printed_schema(cli, "scenario")).iter_errors(data))


@pytest.mark.parametrize("kind", ["scenario", "policy"])
def test_schema_defaults_satisfy_their_own_schema(cli: Invoke, kind: str) -> None:
    schema = printed_schema(cli, kind)
    bad = []
    for name, definition in [*schema.get("$defs", {}).items(), ("<root>", schema)]:
        for key, prop in definition.get("properties", {}).items():
            if "default" in prop:
                sub = {k: v for k, v in prop.items() if k != "default"} | {"$defs": schema.get("$defs", {})}
                if list(jsonschema.Draft202012Validator(sub).iter_errors(prop["default"])):
                    bad.append(f"{name}.{key}")
    assert not bad


def test_schema_to_a_file(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "policy.schema.json"
    result = cli("schema", "policy", "-o", str(target))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert target.read_text(encoding="utf-8") == json.dumps(api.schema("policy"), indent=2) + "\n"


def test_schema_markdown(cli: Invoke) -> None:
    result = cli("schema", "--markdown")
    assert result.exit_code == 0
    assert result.stdout == markdown_reference()


def test_unknown_schema_kind(cli: Invoke) -> None:
    result = cli("schema", "bogus")
    assert result.exit_code == 2
    assert "kind must be 'scenario' or 'policy', not 'bogus'" in result.stderr
    assert result.stdout == ""
