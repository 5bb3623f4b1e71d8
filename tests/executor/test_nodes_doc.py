"""docs/nodes.md is the manifest written out: a node added, renamed or given a new input changes it."""

from __future__ import annotations

from pathlib import Path

from flomation.executor.nodes import BUILTIN_INDEX
from flomation.executor.nodes_doc import render
from flomation.executor.registry import manifest

DOC = Path(__file__).resolve().parents[2] / "docs" / "nodes.md"


def test_the_node_reference_is_generated_from_the_manifest_and_up_to_date():
    assert DOC.read_text() == render(), (
        "docs/nodes.md is out of date: python -m flomation.executor.nodes_doc > docs/nodes.md"
    )


def test_the_node_reference_lists_every_node_with_its_inputs_outputs_and_an_example():
    text = DOC.read_text()
    for entry in manifest()["nodes"]:
        if entry["action"] not in BUILTIN_INDEX:
            continue
        section = text.split(f"(`{entry['action']}`)\n", 1)[1].split("\n### ", 1)[0]
        for item in entry["inputs"]:
            assert f"| `{item['name']}` |" in section, (entry["action"], item["name"])
        for output in entry["outputs"]:
            assert f"`{output['name']}` ({output['type']})" in section, (entry["action"], output["name"])
        assert f'"type": "{entry["action"]}"' in section
