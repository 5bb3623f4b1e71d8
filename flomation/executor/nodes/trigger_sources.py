"""The triggers that read a broker or an object store (MQTT, S3): pollers under launch's leases, declared with
the helpers of ``triggers`` (imported by it, so loading ``triggers`` declares them too)."""

from __future__ import annotations

from flomation.executor.connections import connection_input
from flomation.executor.nodes.triggers import _echo_trigger, _poll_every, _secret
from flomation.executor.registry import Input

_echo_trigger(
    "trigger/mqtt",
    "MQTT",
    "Started by each message on an MQTT topic (a persistent subscription read at every poll).",
    ("topic:string", "payload:any", "payload_text:string", "qos:integer", "retained:boolean"),
    inputs=(
        connection_input("mqtt", description="A stored MQTT connection (or fill in host and login below)."),
        Input("host", "string", description="The MQTT broker (required without a connection)."),
        Input("port", "integer", description="Default 1883, or 8883 with TLS."),
        Input("tls", "boolean", default=False, description="Connect with TLS (the certificate is checked)."),
        Input("username", "string", description="Blank for anonymous access."),
        _secret("password", "The user's password."),
        Input("topic", "string", description="Required. The topic filter: + matches one level, # the rest."),
        Input(
            "qos",
            "integer",
            default=1,
            options=(0, 1, 2),
            description="1 or 2: the broker keeps messages for the trigger between polls; 0 does not.",
        ),
        Input("client_id", "string", description="The session's client id (default: one per trigger)."),
        Input(
            "include_retained",
            "boolean",
            default=False,
            description="Start a run for a retained message too.",
        ),
        Input("batch_size", "integer", default=100, description="Messages per poll, 1–1000."),
        *_poll_every(10),
    ),
)
_echo_trigger(
    "trigger/s3",
    "S3",
    "Started once for each new object under a prefix of an S3 (or S3-compatible) bucket.",
    ("bucket:string", "key:string", "size:integer", "etag:string", "last_modified:string"),
    inputs=(
        Input("bucket", "string", description="Required. The bucket to watch."),
        Input("prefix", "string", description="Only keys starting with this (e.g. incoming/)."),
        connection_input("s3", description="A stored S3 connection (or fill in the keys below)."),
        Input("access_key_id", "string", description="The access key id (required without a connection)."),
        _secret("secret_access_key", "The secret access key."),
        Input("region", "string", default="us-east-1", description="The bucket's region."),
        Input("endpoint_url", "string", description="An S3-compatible store's URL; empty for AWS."),
        Input("batch_size", "integer", default=100, description="Objects per poll, 1–1000."),
        Input("include_existing", "boolean", default=False, description="Start for objects already there."),
        *_poll_every(),
    ),
)

_echo_trigger(
    "trigger/mcp",
    "MCP Tool",
    "Offers the flow as a tool of its environment's MCP server (POST /api/v1/mcp/<environment id>, with an "
    "API token); the tool's arguments are the manual trigger's inputs and its answer is the flow's outputs.",
    (),
    inputs=(
        Input("tool_name", "string", description="The tool's name (default: the workflow's name)."),
        Input("description", "text", description="What the tool does, for the model that picks tools."),
    ),
)
