"""nosql/mongodb: find, insert, update, delete and aggregate on one collection.

Filters, documents, updates and pipelines are JSON objects (MongoDB Extended JSON such as
``{"$oid": "..."}`` and ``{"$date": "..."}`` is read); ObjectIds come back as their hex text. The client
talks to one server checked by the egress policy (see ``flomation.lib.connections.mongodb``).
"""

from __future__ import annotations

import json

from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations._common import json_safe, refused, row_cap, timeout_of
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

OPERATIONS = ("find", "insert", "update", "delete", "aggregate")


@node(
    "nosql/mongodb",
    name="MongoDB",
    category="database",
    description="Find, insert, update, delete or aggregate documents in a MongoDB collection.",
    inputs=(
        connection_input("mongodb"),
        Input(
            "uri", "secret", description="mongodb://user:password@host:port/database (instead of host...)."
        ),
        Input("host", "string", description="Server name or address (when no connection or URI)."),
        Input("port", "integer", default=27017, description="Server port."),
        Input("username", "string", description="User to log in as."),
        Input("password", "secret", description="The user's password (use ${secrets.NAME})."),
        Input("database", "string", description="Database (the connection's or the URI's when blank)."),
        Input("collection", "string", required=True, description="The collection."),
        Input(
            "operation",
            "string",
            required=True,
            default="find",
            options=OPERATIONS,
            description="What to do.",
        ),
        Input(
            "filter", "object", description='Which documents (find, update, delete), e.g. {"status": "new"}.'
        ),
        Input("document", "object", description="insert: a document, or an array of documents."),
        Input("update", "object", description='update: the change, e.g. {"$set": {"status": "done"}}.'),
        Input("pipeline", "object", description="aggregate: an array of stages."),
        Input("projection", "object", description='find: the fields to return, e.g. {"name": 1}.'),
        Input("sort", "object", description='find: the order, e.g. {"created": -1}.'),
        Input(
            "many",
            "boolean",
            default=False,
            description="update/delete every matching document (else the first).",
        ),
        Input("upsert", "boolean", default=False, description="update: insert when nothing matches."),
        Input(
            "max_rows", "integer", default=1000, description="find/aggregate: at most this many documents."
        ),
        Input(
            "timeout_seconds", "number", default=30, description="Time limit for the operation (at most 300)."
        ),
    ),
    outputs=(
        "results:array",
        "row_count:integer",
        "inserted_ids:array",
        "matched_count:integer",
        "modified_count:integer",
        "deleted_count:integer",
        "upserted_id:string",
        "success:boolean",
    ),
    idempotent=False,
)
def mongodb(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.connections import mongodb as kind
    from flomation.lib.connections.base import ConnectionFailed
    from flomation.lib.egress import EgressDenied

    operation = inputs["operation"]
    request = _request(inputs, operation)
    fields = connection_fields(
        ctx,
        inputs,
        "mongodb",
        inline=("uri", "host", "port", "database", "username", "password"),
        secret=("uri", "password"),
    )
    timeout = timeout_of(ctx, inputs)
    try:
        client, default_database = kind.open_client(fields, ctx.egress, timeout=timeout)
    except EgressDenied as error:
        refused(ctx, error)
    except ConnectionFailed as error:
        raise NodeError(str(error)) from None
    database = inputs.get("database") or default_database
    if not database:
        client.close()
        raise NodeError("no database: give input 'database' (or put it in the connection or URI)")
    try:
        collection = client[database][inputs["collection"]]
        out = ctx.call_blocking(
            lambda: _run(collection, operation, request, inputs, row_cap(inputs)), on_abort=client.close
        )
    except Exception as error:
        if not type(error).__module__.startswith(("pymongo", "bson")):
            raise
        raise NodeError(kind.describe_error(error, fields)) from None
    finally:
        client.close()
    empty = {"results": [], "row_count": 0, "inserted_ids": [], "matched_count": 0, "modified_count": 0}
    return {**empty, "deleted_count": 0, "upserted_id": None, **out, "success": True}


def _extended(value: Any, name: str) -> Any:
    """An input as BSON-ready values, reading MongoDB Extended JSON ({"$oid": ...}, {"$date": ...})."""
    from bson import json_util

    if value is None or value == "":
        return None
    try:
        text = value if isinstance(value, str) else json.dumps(value)
        return json_util.loads(text)
    except (ValueError, TypeError) as error:
        raise NodeError(f"input '{name}' is not valid JSON: {str(error)[:120]}") from None


def _request(inputs: dict[str, Any], operation: str) -> dict[str, Any]:
    request = {
        name: _extended(inputs.get(name), name)
        for name in ("filter", "document", "update", "pipeline", "projection", "sort")
    }
    for name in ("filter", "projection", "sort"):
        if request[name] is not None and not isinstance(request[name], dict):
            raise NodeError(f"input '{name}' must be an object")
    if operation == "insert":
        document = request["document"]
        if not isinstance(document, dict | list) or not document:
            raise NodeError("insert needs input 'document': an object or an array of objects")
        if isinstance(document, list) and not all(isinstance(item, dict) for item in document):
            raise NodeError("input 'document' must hold objects only")
    elif operation == "update":
        if not isinstance(request["update"], dict | list) or not request["update"]:
            raise NodeError('update needs input \'update\', e.g. {"$set": {"status": "done"}}')
        if request["filter"] is None:
            raise NodeError("update needs input 'filter' ({} matches every document)")
    elif operation == "delete":
        if request["filter"] is None:
            raise NodeError("delete needs input 'filter' ({} matches every document)")
    elif operation == "aggregate" and not isinstance(request["pipeline"], list):
        raise NodeError("aggregate needs input 'pipeline': an array of stages")
    return request


def _run(
    collection: Any, operation: str, request: dict[str, Any], inputs: dict[str, Any], cap: int
) -> dict[str, Any]:
    if operation == "find":
        cursor = collection.find(request["filter"] or {}, request["projection"], limit=cap)
        if request["sort"]:
            cursor = cursor.sort(list(request["sort"].items()))
        rows = [_document(item) for item in cursor]
        return {"results": rows, "row_count": len(rows)}
    if operation == "aggregate":
        rows = []
        for item in collection.aggregate(request["pipeline"]):
            if len(rows) == cap:
                break
            rows.append(_document(item))
        return {"results": rows, "row_count": len(rows)}
    if operation == "insert":
        document = request["document"]
        if isinstance(document, list):
            ids = collection.insert_many(document).inserted_ids
        else:
            ids = [collection.insert_one(document).inserted_id]
        return {"inserted_ids": [_document(i) for i in ids], "row_count": len(ids)}
    if operation == "update":
        many = bool(inputs.get("many"))
        call = collection.update_many if many else collection.update_one
        done = call(request["filter"], request["update"], upsert=bool(inputs.get("upsert")))
        upserted = _document(done.upserted_id) if done.upserted_id is not None else None
        return {
            "matched_count": done.matched_count,
            "modified_count": done.modified_count,
            "upserted_id": upserted,
            "row_count": done.modified_count + (1 if upserted else 0),
        }
    call = collection.delete_many if inputs.get("many") else collection.delete_one
    done = call(request["filter"])
    return {"deleted_count": done.deleted_count, "row_count": done.deleted_count}


def _document(value: Any) -> Any:
    """A document as JSON data: ObjectIds as hex text, dates as ISO 8601, binary as base64."""
    return json_safe(value)
