"""Reading flows from documents: this platform's export, Flomation's export wrapper, bare flows, JSON and YAML."""

from __future__ import annotations

import json

import pytest

from flomation.lib.flow_document import FlowDocumentError, flow_document_load, flow_document_read

FLOW = {
    "nodes": [{"id": "t1", "type": "trigger/manual", "data": {"config": {"type": 1, "inputs": []}}}],
    "edges": [],
}


def flomation_wrapper(revision: object) -> dict:
    return {
        "flomation_export": {
            "version": 1,
            "exported_at": "2026-03-24T12:00:00Z",
            "source_flow_id": "a1",
            "source_flow_name": "Original name",
            "author_email": "ops@example.com",
            "environment_name": "production",
            "hash": "00",
        },
        "flow_data": {"name": "Nightly report", "scale": 1.0, "x": 0, "y": 0, "revision": revision},
    }


def test_a_flomation_export_wrapper_gives_its_flow_name_and_environment():
    read = flow_document_read(document=flomation_wrapper(FLOW))
    assert read.flow == FLOW
    assert (read.name, read.environment, read.source) == ("Nightly report", "production", "flomation")


def test_a_flomation_export_whose_revision_is_a_json_string_reads_the_same():
    assert flow_document_read(document=flomation_wrapper(json.dumps(FLOW))).flow == FLOW


def test_a_flomation_export_of_a_never_saved_flow_is_an_empty_flow():
    assert flow_document_read(document=flomation_wrapper(None)).flow == {"nodes": [], "edges": []}


def test_a_bare_flow_keeps_every_graph_key_and_takes_name_and_environment_aside():
    read = flow_document_read(document={"name": "n", "environment": "staging", **FLOW, "viewport": {}})
    assert read.flow == {**FLOW, "viewport": {}}
    assert (read.name, read.environment, read.source) == ("n", "staging", "flow")


def test_a_yaml_file_reads_like_its_json():
    text = "name: From YAML\nnodes:\n  - id: t1\n    type: trigger/manual\n    data: {config: {type: 1, inputs: []}}\nedges: []\n"
    read = flow_document_load(text=text, filename="flows/report.yaml")
    assert read.name == "From YAML" and read.flow == FLOW


def test_malformed_json_is_reported_with_its_line():
    with pytest.raises(FlowDocumentError) as raised:
        flow_document_load(text='{\n "nodes": [\n  ,\n]}', filename="a.json")
    assert raised.value.line == 3 and str(raised.value).startswith("line 3: not valid JSON")


def test_malformed_yaml_is_reported_with_its_line():
    with pytest.raises(FlowDocumentError) as raised:
        flow_document_load(text="nodes:\n  - id: a\n   bad: [\n", filename="a.yml")
    assert raised.value.line is not None and raised.value.line >= 3


def test_yaml_aliases_are_refused_so_a_small_file_cannot_expand_without_bound():
    text = "a: &a [x, x, x]\nb: [*a, *a, *a]\nnodes: []\n"
    with pytest.raises(FlowDocumentError, match="aliases") as raised:
        flow_document_load(text=text, filename="bomb.yaml")
    assert raised.value.line == 2


@pytest.mark.parametrize(
    "document, message",
    [
        ([], "JSON object"),
        ({"hello": 1}, "no flow"),
        ({"flow": FLOW, "format": "other"}, "Unknown export format"),
        ({"flomation_export": {"version": 1}}, "flow_data"),
        ({"nodes": "x"}, "list of nodes"),
    ],
)
def test_documents_that_are_not_flows_say_what_was_expected(document, message):
    with pytest.raises(FlowDocumentError, match=message):
        flow_document_read(document=document)


def test_yaml_dates_stay_text_and_values_json_cannot_hold_are_refused():
    read = flow_document_load(text="nodes: []\nedges: []\nday: 2026-01-01\n", filename="a.yaml")
    assert read.flow["day"] == "2026-01-01"
    with pytest.raises(FlowDocumentError, match="JSON cannot"):
        flow_document_load(text="nodes: []\ntags: !!set {a: null}\n", filename="a.yaml")
