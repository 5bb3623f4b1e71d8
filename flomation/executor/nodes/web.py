"""web/request: an HTTP call with auth, JSON and form bodies, retries on 5xx and connection errors."""

from __future__ import annotations

import json
import time

from flomation.executor.coerce import to_pairs, to_str
from flomation.executor.engine.errors import NodeError
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

MAX_RESPONSE_BYTES = 1 << 20
MAX_RETRIES = 10
MAX_REDIRECTS = 10
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _headers(raw: Any) -> dict[str, str]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str) and not raw.lstrip().startswith(("[", "{")):
        headers = {}
        for line in raw.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                headers[key.strip()] = value.strip()
        return headers
    try:
        return {k: to_str(v) for k, v in to_pairs(raw)}
    except ValueError as exc:
        raise NodeError(f"input 'headers' {exc}") from None


def _session(ctx: NodeContext) -> Any:
    """The run's HTTP session: every connection it opens is checked and pinned by the egress policy."""
    from flomation.lib.egress.http import egress_session

    return ctx.resource("http_session", lambda: egress_session(ctx.egress))


@node(
    "web/request",
    name="HTTP Request",
    category="web",
    description="Send an HTTP request and capture the response (a non-2xx reply marks the node failed, the flow goes on).",
    inputs=(
        Input("method", "string", required=True, default="GET", options=METHODS),
        Input("url", "string", required=True),
        Input("headers", "text", description="One 'Key: Value' per line (or key/value pairs)."),
        Input("query", "key_value_array", description="Query-string parameters."),
        Input("body", "text", description="Raw request body."),
        Input("json", "any", description="A value sent as a JSON body (sets Content-Type)."),
        Input("form", "key_value_array", description="Fields sent form-encoded."),
        Input("auth_type", "string", default="none", options=("none", "basic", "bearer", "api_key")),
        Input("username", "string"),
        Input("password", "secret"),
        Input("token", "secret"),
        Input("api_key_name", "string", default="X-API-Key"),
        Input("api_key_value", "secret"),
        Input("api_key_in", "string", default="header", options=("header", "query")),
        Input("timeout_seconds", "number", default=30),
        Input(
            "retries",
            "integer",
            default=0,
            description="Extra attempts on 5xx replies and connection errors.",
        ),
        Input("retry_backoff_seconds", "number", default=1),
        Input("follow_redirects", "boolean", default=True),
        Input("verify_tls", "boolean", default=True),
        Input(
            "idempotency_key",
            "boolean",
            default=True,
            description="On POST and PATCH, send an Idempotency-Key header (unless the headers set one): the "
            "same key on every retry and when the run goes on after a lost runner, so a server that honours "
            "it acts once.",
        ),
    ),
    idempotent=False,
    outputs=(
        "tool_result:string",
        "status_code:integer",
        "response_body:string",
        "response_headers:string",
        "success:boolean",
        "response_json:object",
        "headers:object",
        "attempts:integer",
        "url:string",
        "error:string",
    ),
)
def request(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.egress import EgressDenied

    url = inputs["url"].strip()
    if not url.lower().startswith(("http://", "https://")):
        raise NodeError(f"input 'url' must start with http:// or https:// (got '{url[:80]}')")
    try:
        return _request(ctx, inputs, url)
    except EgressDenied as refused:
        ctx.egress_refused(refused)
        raise NodeError(str(refused)) from None


def _request(ctx: NodeContext, inputs: dict[str, Any], url: str) -> dict[str, Any]:
    import contextlib

    import requests

    from flomation.lib.egress.http import HTTP_SCHEMES

    # A clear refusal before anything is sent; a name that does not resolve fails (and is retried) as a
    # connection error below.
    with contextlib.suppress(OSError):
        ctx.egress.check_url(url, schemes=HTTP_SCHEMES)
    headers = _headers(inputs.get("headers"))
    if (
        inputs.get("idempotency_key", True)
        and str(inputs["method"]).upper() in ("POST", "PATCH")
        and not any(key.lower() == "idempotency-key" for key in headers)
    ):
        headers["Idempotency-Key"] = ctx.idempotency_key
    params = [(k, to_str(v)) for k, v in (inputs.get("query") or [])]
    kwargs: dict[str, Any] = {}
    if inputs.get("json") is not None:
        body = inputs["json"]
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError:
                raise NodeError("input 'json' is not valid JSON") from None
        kwargs["json"] = body
    elif inputs.get("form"):
        kwargs["data"] = [(k, to_str(v)) for k, v in inputs["form"]]
    elif inputs.get("body"):
        kwargs["data"] = inputs["body"].encode("utf-8")
    auth = inputs["auth_type"]
    if auth == "basic":
        kwargs["auth"] = (inputs.get("username") or "", inputs.get("password") or "")
    elif auth == "bearer":
        if not inputs.get("token"):
            raise NodeError("input 'token' is required for bearer authentication")
        headers["Authorization"] = f"Bearer {inputs['token']}"
    elif auth == "api_key":
        if not inputs.get("api_key_value"):
            raise NodeError("input 'api_key_value' is required for API key authentication")
        if inputs["api_key_in"] == "query":
            params.append((inputs["api_key_name"], inputs["api_key_value"]))
        else:
            headers[inputs["api_key_name"]] = inputs["api_key_value"]
    ceiling = float(ctx.settings.http_max_timeout_seconds)
    timeout = inputs["timeout_seconds"] if inputs["timeout_seconds"] > 0 else 30
    timeout = min(float(timeout), ceiling)
    retries = max(0, min(MAX_RETRIES, inputs["retries"]))
    session = _session(ctx)

    def send() -> Any:
        reply = session.request(
            inputs["method"],
            url,
            headers=headers,
            params=params or None,
            timeout=ctx.remaining(timeout),
            allow_redirects=False,
            verify=inputs["verify_tls"],
            stream=True,
            **kwargs,
        )
        if inputs["follow_redirects"]:
            reply = _follow(ctx, session, reply, timeout, inputs["verify_tls"])
        chunks, size = [], 0
        for chunk in reply.iter_content(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                break
        reply.close()
        return reply, b"".join(chunks)[:MAX_RESPONSE_BYTES]

    attempt = 0
    while True:
        attempt += 1
        started = time.monotonic()
        try:
            reply, raw = ctx.call_blocking(send, on_abort=session.close)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt <= retries and _pause(ctx, inputs, attempt):
                continue
            kind = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
            raise NodeError(f"the request {kind} after {attempt} attempt(s): {exc}") from None
        except requests.RequestException as exc:
            raise NodeError(f"the request failed: {exc}") from None
        if reply.status_code >= 500 and attempt <= retries and _pause(ctx, inputs, attempt):
            continue
        break
    text = raw.decode(reply.encoding or "utf-8", errors="replace")
    parsed = None
    if "json" in reply.headers.get("Content-Type", "") or text[:1] in ("{", "["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    success = 200 <= reply.status_code < 300
    return {
        "tool_result": f"HTTP {reply.status_code}",
        "status_code": reply.status_code,
        "response_body": text,
        "response_headers": "\n".join(f"{k}: {v}" for k, v in reply.headers.items()),
        "success": success,
        "response_json": parsed,
        "headers": dict(reply.headers),
        "attempts": attempt,
        "url": reply.url,
        "error": "" if success else f"the server answered HTTP {reply.status_code}",
        "elapsed_ms": int((time.monotonic() - started) * 1000),
    }


def _follow(ctx: NodeContext, session: Any, reply: Any, timeout: float, verify: bool) -> Any:
    """Follows redirects one hop at a time: each hop's URL is checked by the egress policy before it is
    requested (and its connection checked and pinned again by the session). Like requests' own handling,
    303 (and 301/302 after a POST) become GET without a body, and credentials are dropped when the host
    changes."""
    from urllib.parse import urljoin

    from requests.utils import requote_uri

    from flomation.lib.egress.http import HTTP_SCHEMES

    hops = 0
    while reply.is_redirect:
        hops += 1
        target = requote_uri(urljoin(reply.url, session.get_redirect_target(reply) or ""))
        reply.close()  # the redirect's own body is never read
        if hops > MAX_REDIRECTS:
            raise NodeError(f"the request was redirected more than {MAX_REDIRECTS} times")
        if not target.lower().startswith(("http://", "https://")):
            raise NodeError(f"the server redirected to a URL that is not http(s): '{target[:80]}'")
        ctx.egress.check_url(target, schemes=HTTP_SCHEMES)
        request = reply.request.copy()
        request.url = target
        session.rebuild_method(request, reply)
        if reply.status_code not in (307, 308) or request.method == "GET":
            request.body = None
            for name in ("Content-Length", "Content-Type", "Transfer-Encoding"):
                request.headers.pop(name, None)
        request.headers.pop("Cookie", None)
        request.prepare_cookies(session.cookies)  # send() stored the reply's cookies in the session
        session.rebuild_auth(request, reply)
        reply = session.send(
            request, stream=True, timeout=ctx.remaining(timeout), verify=verify, allow_redirects=False
        )
    return reply


def _pause(ctx: NodeContext, inputs: dict[str, Any], attempt: int) -> bool:
    """Back off before the next attempt; False when cancelled meanwhile."""
    delay = max(0.0, float(inputs["retry_backoff_seconds"])) * (2 ** (attempt - 1))
    return ctx.sleep(min(delay, 60.0))
