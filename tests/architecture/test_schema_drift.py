"""docs/schemas/*.schema.json are generated from the models; they must equal what sandbox.api.schema gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import api

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


@pytest.mark.parametrize("kind", ["scenario", "policy"])
def test_schema_file_has_not_drifted(kind: str) -> None:
    path = SCHEMAS / f"{kind}.schema.json"
    on_disk = json.loads(path.read_text(encoding="utf-8"))
    regenerate = f"support-sandbox schema {kind} -o docs/schemas/{kind}.schema.json"
    assert on_disk == api.schema(kind), f"{path.name} is out of date; regenerate it with `{regenerate}`"


@pytest.mark.parametrize("kind", ["scenario", "policy"])
def test_schema_is_the_cli_output_byte_for_byte(kind: str) -> None:
    """The file is exactly what `support-sandbox schema KIND` prints (indent 2, trailing newline)."""
    text = (SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert text == json.dumps(api.schema(kind), indent=2) + "\n"


def test_shipped_files_point_editors_at_the_schemas() -> None:
    root = SCHEMAS.parents[1]
    for folder, kind in (("simulations", "scenario"), ("policies", "policy")):
        files = sorted((root / folder).glob("*.yaml"))
        assert files
        for path in files:
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first == f"# yaml-language-server: $schema=../docs/schemas/{kind}.schema.json", path.name
