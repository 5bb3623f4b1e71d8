"""vectordatabase/pgvector/*: collections of embedded documents in PostgreSQL with pgvector.

With no `connection` (and no inline `host`) a node uses the platform's store: the organisation's collections
in the platform database, reached through the runner's signed call; the API takes the organisation from the
execution, never from the flow. With a `postgresql` connection the same operations run on that server (the
tables are made on first use; the `vector` extension must be installed there), through the egress policy.
"""

from __future__ import annotations

from typing import Any

from flomation.executor.coerce import parse_json_text
from flomation.executor.connections import connection_fields, connection_input
from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations._common import refused, server_inputs
from flomation.executor.nodes.vector_embedding import embed_texts, embedding_inputs
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.executor.engine.context import NodeContext

TIMEOUT_SECONDS = 60.0
# Below Django's default request body limit (2.5 MB) with room for the envelope.
MAX_REQUEST_BYTES = 2_000_000
CATEGORY = "vectordatabase"


def _target_inputs() -> tuple[Input, ...]:
    return (
        connection_input(
            "postgresql",
            description="An external PostgreSQL with pgvector; leave empty for the organisation's own store.",
        ),
        *server_inputs(5432),
        Input(
            "ssl_mode",
            "string",
            default="prefer",
            options=("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
            description="TLS to an external server: libpq's sslmode.",
        ),  # fmt: skip
        Input(
            "schema", "string", default="public", description="Schema of the tables on an external server."
        ),
    )


def _collection_input() -> Input:
    return Input("collection", "string", required=True, description="The collection's name.")


def _filter_input() -> Input:
    return Input(
        "metadata_filter",
        "object",
        description='Only documents whose metadata contains these values, e.g. {"source": "handbook"}.',
    )


def store_run(
    ctx: NodeContext, inputs: dict[str, Any], operation: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """Runs one store operation on the platform's store or the external server; a refusal fails the node."""
    from flomation.lib.vectors import VectorError

    try:
        if inputs.get("connection") or inputs.get("host"):
            return _external(ctx, inputs, operation, payload)
        call = getattr(ctx.secrets, "vector_store", None)
        if call is None:
            from flomation.lib.vectors.schema import OUTSIDE_A_RUNNER

            raise NodeError(OUTSIDE_A_RUNNER)
        if operation == "upsert":
            ids: list[str] = []
            for part in _parts(payload["documents"]):
                ids += ctx.call_blocking(lambda part=part: call(operation, {**payload, "documents": part}))[
                    "ids"
                ]
            return {"ids": ids}
        return ctx.call_blocking(lambda: call(operation, payload))
    except VectorError as error:
        raise NodeError(str(error)) from None


def _parts(documents: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Documents in batches whose JSON stays under the API's request size (each batch is written whole)."""
    import json

    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for document in documents:
        length = len(json.dumps(document, default=str))
        if parts[-1] and size + length > MAX_REQUEST_BYTES:
            parts.append([])
            size = 0
        parts[-1].append(document)
        size += length
    return parts


def _external(
    ctx: NodeContext, inputs: dict[str, Any], operation: str, payload: dict[str, Any]
) -> dict[str, Any]:
    from flomation.lib.connections import postgresql as pg
    from flomation.lib.connections.base import ConnectionFailed
    from flomation.lib.egress import EgressDenied
    from flomation.lib.vectors import NO_ORGANISATION, VectorStore, schema_create
    from flomation.lib.vectors.operations import store_call

    fields = connection_fields(
        ctx,
        {**inputs, "sslmode": inputs.get("ssl_mode")},
        "postgresql",
        inline=("host", "port", "database", "username", "password", "sslmode"),
        secret=("password",),
    )
    schema = str(inputs.get("schema") or "public")
    held: dict[str, Any] = {}

    def work() -> dict[str, Any]:
        connection = pg.open_connection(
            fields, ctx.egress, timeout=TIMEOUT_SECONDS, statement_timeout=TIMEOUT_SECONDS
        )
        held["connection"] = connection
        try:
            if operation == "create_collection":
                with connection.transaction():
                    schema_create(connection, schema)
            return store_call(VectorStore(connection, NO_ORGANISATION, schema), operation, payload)
        finally:
            connection.close()

    try:
        return ctx.call_blocking(work, on_abort=lambda: held.get("connection") and held["connection"].close())
    except EgressDenied as error:
        refused(ctx, error)
    except ConnectionFailed as error:
        raise NodeError(str(error)) from None
    except Exception as error:  # the driver's own errors: a sentence, never the password
        if not type(error).__module__.startswith("psycopg"):
            raise
        if getattr(error, "sqlstate", None) == "42P01":  # undefined_table: nothing was ever created there
            raise NodeError(
                f"there is no collection {payload.get('collection')!r}; create it first"
            ) from None
        raise NodeError(pg.describe_error(error, fields)) from None


def _vector(ctx: NodeContext, inputs: dict[str, Any], text: str) -> list[float]:
    """The query vector: given in `embedding`, or made from `text` by the embedding model."""
    if str(inputs.get("embedding_source") or "vector") == "inline":
        if not text.strip():
            raise NodeError("there is no text to embed: fill in the query")
        return embed_texts(ctx, inputs, [text])[0]
    vector = parse_json_text(inputs.get("embedding"))
    if isinstance(vector, dict):  # an Embed Text step's whole output
        vector = vector.get("embedding")
    if not isinstance(vector, list) or not vector:
        raise NodeError("'embedding' must be an array of numbers, or set embedding_source to inline")
    return vector


def _results(found: dict[str, Any]) -> dict[str, Any]:
    results = found.get("results") or []
    return {
        "results": results,
        "count": len(results),
        "top_result": results[0] if results else None,
        "context": "\n\n".join(str(row.get("content") or "") for row in results),
        "success": True,
    }


_SEARCH_OUTPUTS = ("results:array", "count:integer", "top_result:object", "context:string", "success:boolean")


@node(
    "vectordatabase/pgvector/create_collection",
    name="Create Collection",
    category=CATEGORY,
    description="Create a collection of embedded documents with its HNSW index (no error if it exists).",
    inputs=(
        *_target_inputs(),
        _collection_input(),
        Input("dimension", "integer", required=True, description="Vector size, e.g. 1536 (1 to 2000)."),
        Input(
            "distance_metric",
            "string",
            default="cosine",
            options=("cosine", "l2", "inner_product"),
            accepts=("euclidean",),
            description="How nearness is measured.",
        ),  # fmt: skip
    ),
    outputs=("collection:object", "created:boolean", "success:boolean"),
)
def create_collection(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    payload = {"name": inputs.get("collection"), "dimension": inputs.get("dimension"),
               "metric": inputs.get("distance_metric")}  # fmt: skip
    made = store_run(ctx, inputs, "create_collection", payload)["collection"]
    return {"collection": made, "created": bool(made.get("created")), "success": True}


@node(
    "vectordatabase/pgvector/list_collections",
    name="List Collections",
    category=CATEGORY,
    description="The collections with their dimension, metric and number of documents.",
    inputs=_target_inputs(),
    outputs=("collections:array", "count:integer", "success:boolean"),
)
def list_collections(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    collections = store_run(ctx, inputs, "list_collections", {})["collections"]
    return {"collections": collections, "count": len(collections), "success": True}


@node(
    "vectordatabase/pgvector/upsert",
    name="Upsert Documents",
    category=CATEGORY,
    description="Store documents (text, metadata and a vector); an existing id is overwritten.",
    inputs=(
        *_target_inputs(),
        _collection_input(),
        Input("content", "text", description="The document's text."),
        Input("metadata", "object", description='Metadata stored with it, e.g. {"source": "handbook"}.'),
        Input("id", "string", description="The document's id (the same id next time overwrites it)."),
        Input(
            "documents",
            "object",
            description='Many at once instead: [{"id", "content", "metadata", '
            '"embedding"?}] (a missing embedding is made from the content).',
        ),  # fmt: skip
        *embedding_inputs(),
    ),
    outputs=("ids:array", "count:integer", "success:boolean"),
)
def upsert(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    documents = parse_json_text(inputs.get("documents"))
    if documents in (None, "", []):
        content = inputs.get("content")
        document: dict[str, Any] = {"id": inputs.get("id") or None, "content": content,
                                    "metadata": parse_json_text(inputs.get("metadata")) or {}}  # fmt: skip
        if str(inputs.get("embedding_source") or "vector") != "inline":
            document["embedding"] = _vector(ctx, inputs, "")
        documents = [document]
    if not isinstance(documents, list) or not all(isinstance(item, dict) for item in documents):
        raise NodeError("'documents' must be an array of objects")
    missing = [item for item in documents if not item.get("embedding")]
    if missing:
        if str(inputs.get("embedding_source") or "vector") != "inline":
            raise NodeError("a document has no embedding: give one, or set embedding_source to inline")
        texts = [str(item.get("content") or "") for item in missing]
        for item, vector in zip(missing, embed_texts(ctx, inputs, texts), strict=True):
            item["embedding"] = vector
    ids = store_run(ctx, inputs, "upsert", {"collection": inputs.get("collection"), "documents": documents})
    return {"ids": ids["ids"], "count": len(ids["ids"]), "success": True}


@node(
    "vectordatabase/pgvector/query",
    name="Query Documents",
    category=CATEGORY,
    description="The documents nearest in meaning to a text or a vector (top-k, metadata filter).",
    inputs=(
        *_target_inputs(),
        _collection_input(),
        Input(
            "query_text", "text", description="What to look for (embedded when embedding_source is inline)."
        ),
        Input("limit", "integer", default=10, description="Top-k: how many results (at most 1000)."),
        _filter_input(),
        Input("include_embeddings", "boolean", default=False, description="Return each stored vector too."),
        *embedding_inputs(),
    ),
    outputs=_SEARCH_OUTPUTS,
)
def query(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    payload = {
        "collection": inputs.get("collection"),
        "embedding": _vector(ctx, inputs, str(inputs.get("query_text") or "")),
        "top_k": inputs.get("limit"),
        "metadata_filter": parse_json_text(inputs.get("metadata_filter")),
        "include_embeddings": bool(inputs.get("include_embeddings")),
    }
    return _results(store_run(ctx, inputs, "query", payload))


@node(
    "vectordatabase/pgvector/hybrid_search",
    name="Hybrid Search",
    category=CATEGORY,
    description="Meaning and keyword search together (reciprocal rank fusion), so exact terms are not missed.",
    inputs=(
        *_target_inputs(),
        _collection_input(),
        Input("query_text", "text", required=True, description="What to look for."),
        Input("text_query", "text", description="Keywords for the full-text half (default: query_text)."),
        Input("limit", "integer", default=10, description="Top-k: how many results (at most 1000)."),
        Input(
            "fts_language",
            "string",
            default="english",
            options=("english", "simple"),
            description="Full-text configuration: english stems words, simple matches them as typed.",
        ),  # fmt: skip
        Input("rrf_k", "integer", default=60, description="Fusion constant k: each list adds 1/(k + rank)."),
        Input("candidate_limit", "integer", default=50, description="Candidates each search contributes."),
        _filter_input(),
        *embedding_inputs(),
    ),
    outputs=_SEARCH_OUTPUTS,
)
def hybrid_search(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    text = str(inputs.get("query_text") or "")
    payload = {
        "collection": inputs.get("collection"),
        "embedding": _vector(ctx, inputs, text),
        "text": str(inputs.get("text_query") or text),
        "top_k": inputs.get("limit"),
        "candidates": inputs.get("candidate_limit"),
        "rrf_k": inputs.get("rrf_k"),
        "language": inputs.get("fts_language") or "english",
        "metadata_filter": parse_json_text(inputs.get("metadata_filter")),
    }
    return _results(store_run(ctx, inputs, "hybrid_search", payload))


@node(
    "vectordatabase/pgvector/delete",
    name="Delete Documents",
    category=CATEGORY,
    description="Delete documents by id or metadata filter, or the whole collection with its index.",
    inputs=(
        *_target_inputs(),
        _collection_input(),
        Input("ids", "object", description='Ids of the documents to delete, e.g. ["doc-1", "doc-2"].'),
        Input("id", "string", description="One document's id."),
        _filter_input(),
        Input(
            "delete_collection",
            "boolean",
            default=False,
            description="Delete the collection itself: every document and its index.",
        ),  # fmt: skip
    ),
    outputs=("deleted:integer", "success:boolean"),
)
def delete(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    if inputs.get("delete_collection"):
        gone = store_run(ctx, inputs, "delete_collection", {"name": inputs.get("collection")})
        return {"deleted": gone["collection"]["deleted_documents"], "success": True}
    ids = parse_json_text(inputs.get("ids")) or ([inputs["id"]] if inputs.get("id") else None)
    if ids is not None and not isinstance(ids, list):
        ids = [ids]
    payload = {"collection": inputs.get("collection"), "ids": ids,
               "metadata_filter": parse_json_text(inputs.get("metadata_filter"))}  # fmt: skip
    return {"deleted": store_run(ctx, inputs, "delete", payload)["deleted"], "success": True}
