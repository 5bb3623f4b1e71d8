"""MongoDB connections (pymongo), to one server through the egress policy.

A client talks to exactly one checked address (`directConnection`): replica-set discovery would open
connections to the member names the server reports, which the policy never saw, and `mongodb+srv://`
looks hosts up in DNS records the policy cannot check, so both are refused with a reason. With TLS the
client connects by name so the certificate is verified against it, after the name's addresses were
checked (see docs/integrations.md). `open_client` is shared by the `nosql/mongodb` node and `test`.
"""

from __future__ import annotations

from typing import Any

from flomation.lib.connections._common import port_of, scrub
from flomation.lib.connections.base import ConnectionFailed, Field
from flomation.lib.egress import EgressDenied, EgressPolicy

KIND = "mongodb"
LABEL = "MongoDB"
FIELDS = (
    Field("uri", "secret", description="mongodb://user:password@host:port/database (or the fields below)."),
    Field("host", description="Server name or address (when no URI)."),
    Field("port", "integer", default=27017),
    Field("database", description="Database used when a node names none."),
    Field("username"),
    Field("password", "secret"),
    Field("tls", "boolean", default=False),
)


def client_options(fields: dict[str, Any], policy: EgressPolicy) -> tuple[dict[str, Any], str]:
    """pymongo keyword arguments for one checked server, and the default database name.

    Raises EgressDenied (refused host, SRV or several hosts) or ConnectionFailed (malformed)."""
    from pymongo.errors import InvalidURI
    from pymongo.uri_parser import parse_uri

    uri = str(fields.get("uri") or "").strip()
    if uri:
        if uri.lower().startswith("mongodb+srv://"):
            raise EgressDenied(
                "a mongodb+srv:// URI", "resolved through DNS SRV records the policy cannot check"
            )
        try:
            parsed = parse_uri(uri, validate=True, warn=False)
        except (InvalidURI, ValueError) as error:
            raise ConnectionFailed(
                f"the URI is not valid: {scrub(str(error), fields, ('uri', 'password'))}"
            ) from None
        if len(parsed["nodelist"]) != 1:
            raise EgressDenied(
                "a URI with several hosts", "replica-set discovery, which reaches unchecked names"
            )
        host, port = parsed["nodelist"][0]
        options = dict(parsed["options"])
        username, password = parsed.get("username"), parsed.get("password")
        database = parsed.get("database") or str(fields.get("database") or "")
        tls = bool(options.get("tls") or options.get("ssl"))
    else:
        host = str(fields.get("host") or "").strip()
        port = port_of(fields.get("port"), 27017)
        username, password = fields.get("username") or None, fields.get("password") or None
        database = str(fields.get("database") or "")
        tls = str(fields.get("tls")).lower() in ("1", "true", "yes", "on")
        options = {}
    if not host or host.startswith("/"):
        raise EgressDenied(host or "an empty host", "not a network address (a unix socket or nothing)")
    try:
        addresses = policy.check_host(host, int(port))
    except OSError as error:
        raise ConnectionFailed(str(error)) from None
    kwargs: dict[str, Any] = {
        "host": host if tls else addresses[0],
        "port": int(port),
        "directConnection": True,
        "tls": tls,
        "appname": "flomation",
    }
    if username:
        kwargs["username"] = str(username)
        kwargs["password"] = str(password or "")
        if options.get("authsource"):
            kwargs["authSource"] = options["authsource"]
    return kwargs, database


def open_client(fields: dict[str, Any], policy: EgressPolicy, *, timeout: float) -> tuple[Any, str]:
    """A pymongo MongoClient for the checked server and the default database name."""
    from pymongo import MongoClient

    kwargs, database = client_options(fields, policy)
    millis = int(max(1.0, timeout) * 1000)
    client = MongoClient(
        **kwargs,
        serverSelectionTimeoutMS=millis,
        connectTimeoutMS=millis,
        socketTimeoutMS=millis,
        timeoutMS=millis,
        connect=False,
    )
    return client, database


def describe_error(error: BaseException, fields: dict[str, Any]) -> str:
    """What failed (auth, unreachable, timeout, the operation), never the password or the URI."""
    from pymongo import errors

    where = fields.get("host") or "the server"
    message = str(error)
    if isinstance(error, errors.OperationFailure) and error.code in (18, 13):
        text = (
            f"authentication failed for user '{fields.get('username') or ''}'"
            if error.code == 18
            else message
        )
    elif isinstance(error, errors.ServerSelectionTimeoutError | errors.AutoReconnect):
        low = message.lower()
        reason = (
            "connection refused" if "refused" in low else "timed out" if "timed out" in low else "unreachable"
        )
        text = f"could not connect to {where}: {reason}"
    elif isinstance(error, errors.ExecutionTimeout | errors.NetworkTimeout):
        text = "the operation timed out"
    else:
        text = f"MongoDB error: {message[:300]}"
    return scrub(text, fields, ("uri", "password"))


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    from pymongo.errors import PyMongoError

    client, database = open_client(fields, policy, timeout=timeout)
    try:
        client.admin.command("ping")
        version = client.server_info().get("version", "?")
    except PyMongoError as error:
        raise ConnectionFailed(describe_error(error, fields)) from None
    finally:
        client.close()
    return f"connected to MongoDB {version}" + (f", database '{database}'" if database else "")
