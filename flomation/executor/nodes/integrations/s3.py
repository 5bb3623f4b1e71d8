"""aws/s3/get, put, delete and list on Amazon S3 or any S3-compatible store (boto3, imported when one runs).

The client comes from `flomation.lib.connections.s3.s3_client`: every connection it opens is checked and
pinned by the egress policy. An object's content is text, base64 or a file in the run's workspace (/work).
"""

from __future__ import annotations

import base64

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations import workdir
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from flomation.executor.engine.context import NodeContext

TIMEOUT = 60.0
MAX_INLINE_BYTES = 5 << 20
CHUNK = 1 << 16
FIELDS = ("access_key_id", "secret_access_key", "region", "endpoint_url", "bucket")
ENCODINGS = ("text", "base64", "json")

CONNECTION_INPUTS = (
    connection_input("s3"),
    Input("access_key_id", "string", description="The access key id (when no connection is picked)."),
    Input("secret_access_key", "secret", description="The secret access key (when no connection is picked)."),
    Input("region", "string", default="us-east-1", description="The bucket's region."),
    Input("endpoint_url", "string", description="An S3-compatible store's URL; empty for AWS."),
    Input("bucket", "string", description="The bucket (default: the connection's bucket)."),
)
_KEY = Input("key", "string", required=True, description="The object's key (its path in the bucket).")


def _with_client(
    ctx: NodeContext, inputs: dict[str, Any], what: str, work: Callable[[Any, str], dict[str, Any]]
) -> dict[str, Any]:
    """Runs `work(client, bucket)` in a cancellable thread; every failure becomes a NodeError that says what
    failed (authentication, a missing bucket or object, the connection, a timeout) without a secret."""
    from botocore.exceptions import BotoCoreError, ClientError

    from flomation.lib.connections import ConnectionFailed
    from flomation.lib.connections.s3 import failure, s3_client
    from flomation.lib.egress import EgressDenied

    fields = connection_fields(ctx, inputs, "s3", inline=FIELDS, secret=("secret_access_key",))
    bucket = str(inputs.get("bucket") or fields.get("bucket") or "").strip()
    if not bucket:
        raise NodeError("input 'bucket' is required (or a connection with a bucket)")
    try:
        client = s3_client(fields, ctx.egress, ctx.remaining(TIMEOUT) or TIMEOUT)
        return ctx.call_blocking(lambda: work(client, bucket))
    except EgressDenied as refused:
        ctx.egress_refused(refused)
        raise NodeError(str(refused)) from None
    except ConnectionFailed as error:
        raise NodeError(str(error)) from None
    except (ClientError, BotoCoreError) as error:
        refused = getattr(error, "kwargs", {}).get("error")
        if isinstance(refused, EgressDenied):  # botocore wraps what the pinned connection raised
            ctx.egress_refused(refused)
            raise NodeError(str(refused)) from None
        raise NodeError(failure(error, what=what)) from None


def _when(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


@node(
    "aws/s3/get",
    name="S3 Get Object",
    category="aws",
    description="Read an object: its content as text, JSON or base64, or saved to a file in /work.",
    inputs=(
        *CONNECTION_INPUTS,
        _KEY,
        Input(
            "encoding", "string", default="text", options=ENCODINGS, description="How to return the content."
        ),
        Input(
            "local_path", "string", description="Save to this file in /work instead of returning the content."
        ),
    ),
    outputs=(
        "content:any",
        "size:integer",
        "content_type:string",
        "etag:string",
        "last_modified:string",
        "metadata:object",
        "local_path:string",
    ),  # fmt: skip
)
def s3_get(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    import json
    import os

    key = inputs["key"]
    target = workdir.parts_of(inputs["local_path"], name="local_path") if inputs.get("local_path") else None
    ws = workdir.workspace(ctx) if target is not None else None
    limit = (int(ctx.settings.script_max_file_mb) << 20) if target is not None else MAX_INLINE_BYTES

    def work(client: Any, bucket: str) -> dict[str, Any]:
        reply = client.get_object(Bucket=bucket, Key=key)
        size = int(reply.get("ContentLength") or 0)
        if size > limit:
            reply["Body"].close()
            where = "a workspace file" if target is not None else "returned inline (save it to /work instead)"
            raise NodeError(f"the object is {size} bytes, more than {limit >> 20} MB can be {where}")
        result = {
            "size": size,
            "content_type": reply.get("ContentType") or "",
            "etag": str(reply.get("ETag") or "").strip('"'),
            "last_modified": _when(reply.get("LastModified")),
            "metadata": reply.get("Metadata") or {},
        }
        body = reply["Body"]
        if target is not None and ws is not None:
            with workdir.open_file(ws, target, name="local_path", write=True) as fd:
                while chunk := body.read(CHUNK):
                    os.write(fd, chunk)
            return {**result, "local_path": workdir.display(target), "content": None}
        data = body.read(limit + 1)[:limit]
        if inputs.get("encoding") == "base64":
            content: Any = base64.b64encode(data).decode()
        else:
            content = data.decode("utf-8", errors="replace")
            if inputs.get("encoding") == "json":
                try:
                    content = json.loads(content)
                except ValueError:
                    raise NodeError(f"the object {key} is not valid JSON") from None
        return {**result, "content": content, "local_path": ""}

    return _with_client(ctx, inputs, f"reading {key}", work)


@node(
    "aws/s3/put",
    name="S3 Put Object",
    category="aws",
    description="Write an object from text, JSON, base64 or a file in /work.",
    inputs=(
        *CONNECTION_INPUTS,
        _KEY,
        Input("content", "any", description="What to write (an object or array is written as JSON)."),
        Input(
            "encoding",
            "string",
            default="text",
            options=("text", "base64"),
            description="How content is given.",
        ),
        Input("local_path", "string", description="Upload this file from /work instead of content."),
        Input(
            "content_type", "string", description="The object's Content-Type (default: guessed from the key)."
        ),
        Input("metadata", "key_value_array", description="User metadata stored with the object."),
    ),
    outputs=("key:string", "size:integer", "etag:string", "version_id:string"),
    idempotent=False,
)
def s3_put(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    import json
    import mimetypes
    import os

    key = inputs["key"]
    content_type = inputs.get("content_type") or mimetypes.guess_type(key)[0] or "application/octet-stream"
    parts = workdir.parts_of(inputs["local_path"], name="local_path") if inputs.get("local_path") else None
    ws = workdir.workspace(ctx) if parts is not None else None
    data = b""
    if parts is None:
        value = inputs.get("content")
        if isinstance(value, dict | list):
            data = json.dumps(value).encode()
            content_type = inputs.get("content_type") or "application/json"
        elif inputs.get("encoding") == "base64":
            try:
                data = base64.b64decode(str(value or ""), validate=True)
            except ValueError:
                raise NodeError("input 'content' is not valid base64") from None
        else:
            data = ("" if value is None else str(value)).encode()
    metadata = {str(k): str(v) for k, v in (inputs.get("metadata") or [])}

    def put(client: Any, bucket: str, body: Any, size: int) -> dict[str, Any]:
        reply = client.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=metadata
        )
        return {"key": key, "size": size, "etag": str(reply.get("ETag") or "").strip('"'),
                "version_id": reply.get("VersionId") or ""}  # fmt: skip

    def work(client: Any, bucket: str) -> dict[str, Any]:
        if parts is None or ws is None:
            return put(client, bucket, data, len(data))
        # The file is streamed from the workspace (opened without following symlinks), not read into memory.
        with (
            workdir.open_file(ws, parts, name="local_path", write=False) as fd,
            os.fdopen(os.dup(fd), "rb") as handle,
        ):
            return put(client, bucket, handle, os.fstat(fd).st_size)

    return _with_client(ctx, inputs, f"writing {key}", work)


@node(
    "aws/s3/delete",
    name="S3 Delete Object",
    category="aws",
    description="Delete an object.",
    inputs=(*CONNECTION_INPUTS, _KEY),
    outputs=("key:string", "deleted:boolean"),
    idempotent=False,
)
def s3_delete(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    key = inputs["key"]

    def work(client: Any, bucket: str) -> dict[str, Any]:
        client.delete_object(Bucket=bucket, Key=key)
        return {"key": key, "deleted": True}

    return _with_client(ctx, inputs, f"deleting {key}", work)


@node(
    "aws/s3/list",
    name="S3 List Objects",
    category="aws",
    description="List the objects under a prefix.",
    inputs=(
        *CONNECTION_INPUTS,
        Input("prefix", "string", description="Only keys starting with this."),
        Input("delimiter", "string", description="Group keys by this (usually '/') into common prefixes."),
        Input("max_keys", "integer", default=1000, description="At most this many objects (up to 10000)."),
    ),
    outputs=("objects:array", "keys:array", "prefixes:array", "count:integer", "truncated:boolean"),
)
def s3_list(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    limit = max(1, min(10_000, int(inputs.get("max_keys") or 1000)))

    def work(client: Any, bucket: str) -> dict[str, Any]:
        arguments: dict[str, Any] = {"Bucket": bucket, "Prefix": inputs.get("prefix") or ""}
        if inputs.get("delimiter"):
            arguments["Delimiter"] = inputs["delimiter"]
        objects: list[dict[str, Any]] = []
        prefixes: list[str] = []
        truncated = False
        for page in client.get_paginator("list_objects_v2").paginate(**arguments):
            prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
            for item in page.get("Contents", []):
                if len(objects) == limit:
                    truncated = True
                    break
                objects.append({"key": item["Key"], "size": item.get("Size", 0),
                                "etag": str(item.get("ETag") or "").strip('"'),
                                "last_modified": _when(item.get("LastModified"))})  # fmt: skip
            if truncated:
                break
        return {"objects": objects, "keys": [o["key"] for o in objects], "prefixes": prefixes,
                "count": len(objects), "truncated": truncated}  # fmt: skip

    return _with_client(ctx, inputs, "listing", work)
