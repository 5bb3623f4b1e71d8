"""The canvas adapter converts Flomation's React Flow JSON to Drawflow's document and back, losing nothing.

Runs the real static/editor/flowadapter.js under Node (skipped when Node is not installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ADAPTER = Path(__file__).resolve().parents[2] / "flomation/editor/static/editor/flowadapter.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed; the adapter test needs it")

FLOW = {
    "viewport": {"x": 0, "y": 0, "zoom": 1},
    "nodes": [
        {
            "id": "t1",
            "type": "trigger/manual",
            "position": {"x": 10, "y": 20},
            "measured": {"width": 200},
            "data": {
                "id": "t1",
                "label": "trigger/manual",
                "config": {"id": "t1", "type": 1, "plugin": "trigger/manual", "inputs": [], "outputs": []},
            },
        },
        {
            "id": "c.1",
            "type": "conditional/if",
            "position": {"x": 300, "y": 20},
            "data": {
                "id": "c.1",
                "label": "conditional/if",
                "results": {"inputs": {}, "outputs": {}},
                "config": {
                    "id": "c.1",
                    "type": 4,
                    "inputs": [{"name": "value_a", "type": "string", "value": "${t1.quote}"}],
                },
            },
        },
        {
            "id": "s1",
            "type": "conditional/switch",
            "position": {"x": 300, "y": 300},
            "data": {
                "id": "s1",
                "label": "conditional/switch",
                "config": {
                    "id": "s1",
                    "type": 6,
                    "inputs": [
                        {
                            "name": "cases",
                            "type": "key_value_array",
                            "value": [{"key": "a", "value": "x"}, {"key": "b", "value": "y"}],
                        }
                    ],
                },
            },
        },
        {
            "id": "o1",
            "type": "output/set",
            "position": {"x": 600, "y": 20},
            "data": {"id": "o1", "label": "output/set", "config": {"id": "o1", "type": 3, "inputs": []}},
        },
        {
            "id": "o2",
            "type": "output/set",
            "position": {"x": 600, "y": 200},
            "data": {"id": "o2", "label": "output/set", "config": {"id": "o2", "type": 3, "inputs": []}},
        },
    ],
    "edges": [
        {"id": "e1", "source": "t1", "target": "c.1", "type": "smoothstep", "targetHandle": "in"},
        {"id": "e2", "source": "c.1", "target": "o1", "sourceHandle": "true-branch"},
        {"id": "e3", "source": "c.1", "target": "o2", "sourceHandle": "false-branch"},
        {"id": "e4", "source": "t1", "target": "s1"},
        {"id": "e5", "source": "s1", "target": "o2", "sourceHandle": "case_1"},
        {"id": "e6", "source": "s1", "target": "o1", "sourceHandle": "default"},
    ],
}

SCRIPT = """
globalThis.window = globalThis;
require(process.argv[1]);
const flow = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const specs = {'conditional/if': {action: 'conditional/if', type: 4, handles: ['true-branch', 'false-branch']}};
const converted = FloAdapter.toDrawflow(flow, specs, () => '');
const back = FloAdapter.fromDrawflow(converted.document, converted.state);
const data = converted.document.drawflow.Home.data;
process.stdout.write(JSON.stringify({back, handles: Object.fromEntries(Object.values(data).map(d => [d.data.flo.id, d.data.handles])),
  ids: Object.keys(data), inputs: Object.fromEntries(Object.values(data).map(d => [d.data.flo.id, Object.keys(d.inputs).length]))}));
"""


def run_adapter(flow: dict) -> dict:
    result = subprocess.run(
        [NODE, "-e", SCRIPT, str(ADAPTER)], input=json.dumps(flow), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_flow_survives_the_round_trip_unchanged():
    out = run_adapter(FLOW)
    assert out["back"] == FLOW


def test_routing_nodes_get_their_named_handles_as_ports():
    out = run_adapter(FLOW)
    assert out["handles"]["c.1"] == ["true-branch", "false-branch"]
    assert out["handles"]["s1"] == ["case_0", "case_1", "default"]
    assert out["handles"]["t1"] == [""]
    assert out["inputs"] == {"t1": 0, "c.1": 1, "s1": 1, "o1": 1, "o2": 1}


def test_ids_unsafe_for_the_dom_are_mapped_but_kept_in_the_flow():
    out = run_adapter(FLOW)
    assert "c.1" not in out["ids"]
    assert [n["id"] for n in out["back"]["nodes"]] == ["t1", "c.1", "s1", "o1", "o2"]
