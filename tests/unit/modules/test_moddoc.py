"""``fleet modules NAME`` shows every parameter's description; ``--json`` gives the schema."""

from __future__ import annotations

import dataclasses
import json

from fleet.agent.contract import param_doc
from tests.conftest import fleet

from .conftest import ROOT, load_module


def test_each_parameter_is_described_in_text_and_json() -> None:
    fields = {f.name: param_doc(f) for f in dataclasses.fields(load_module("lineinfile").Params)}
    text = fleet("modules", "lineinfile", cwd=ROOT)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    for name, doc in fields.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"  {name} ("))
        assert lines[at + 1].strip() == doc, (name, lines[at:at + 2])
    schema = fleet("modules", "lineinfile", "--json", cwd=ROOT)
    assert schema.returncode == 0, schema.stderr
    props = json.loads(schema.stdout)["parameters"]["properties"]
    assert {name: prop["description"] for name, prop in props.items()} == fields
    assert props["path"]["aliases"] == ["dest", "destfile", "name"]


def test_json_without_a_name_is_refused() -> None:
    proc = fleet("modules", "--json", cwd=ROOT)
    assert proc.returncode != 0 and "--json shows one module" in proc.stdout + proc.stderr
