"""web/fetch: a web page as Markdown, plain text or HTML, within a size and a time limit.

The request goes through the run's egress session like web/request (every connection and every redirect
hop checked). HTML becomes Markdown with markdownify over BeautifulSoup's pure-Python parser: a maintained
converter that gets escaping, nested lists, links and tables right, which a hand-written one would not.
"""

from __future__ import annotations

import re
import time

from flomation.executor.engine.errors import NodeError
from flomation.executor.nodes.integrations._common import refused, timeout_of
from flomation.executor.registry import Input, node

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from flomation.executor.engine.context import NodeContext

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
MAX_BYTES = 10 * 1024 * 1024
_DROPPED = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "head")


@node(
    "web/fetch",
    name="Fetch Web Page",
    category="web",
    description="Fetch a page and return its content as Markdown, plain text or HTML (with size and time limits).",
    inputs=(
        Input("url", "string", required=True, description="The page's http:// or https:// address."),
        Input(
            "format",
            "string",
            default="markdown",
            options=("markdown", "text", "html"),
            description="markdown (headings, links, lists, tables), text (words only) or html (as served).",
        ),
        Input(
            "timeout_seconds",
            "number",
            default=30,
            description="Time limit for the whole fetch (at most 300).",
        ),
        Input(
            "max_bytes",
            "integer",
            default=DEFAULT_MAX_BYTES,
            description="Read at most this many bytes of the page ('truncated' tells; at most 10 MB).",
        ),
        Input(
            "follow_redirects", "boolean", default=True, description="Follow redirects (each hop is checked)."
        ),
        Input("verify_tls", "boolean", default=True, description="Verify the server's TLS certificate."),
    ),
    outputs=(
        "content:string",
        "title:string",
        "status_code:integer",
        "content_type:string",
        "url:string",
        "truncated:boolean",
        "success:boolean",
        "error:string",
    ),
)
def fetch(ctx: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    from flomation.lib.egress import EgressDenied

    url = inputs["url"].strip()
    if not url.lower().startswith(("http://", "https://")):
        raise NodeError(f"input 'url' must start with http:// or https:// (got '{url[:80]}')")
    try:
        return _fetch(ctx, inputs, url)
    except EgressDenied as error:
        refused(ctx, error)


def _fetch(ctx: NodeContext, inputs: dict[str, Any], url: str) -> dict[str, Any]:
    import contextlib

    import requests

    from flomation.executor.nodes.web import _follow, _session
    from flomation.lib.egress.http import HTTP_SCHEMES

    with contextlib.suppress(OSError):  # a clear refusal before anything is sent
        ctx.egress.check_url(url, schemes=HTTP_SCHEMES)
    timeout = timeout_of(ctx, inputs)
    deadline = time.monotonic() + timeout
    limit = inputs.get("max_bytes") or DEFAULT_MAX_BYTES
    limit = max(1, min(MAX_BYTES, int(limit)))
    session = _session(ctx)
    headers = {"Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5"}

    def send() -> tuple[Any, bytes, bool]:
        reply = session.get(
            url,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            verify=inputs["verify_tls"],
        )
        if inputs["follow_redirects"]:
            reply = _follow(ctx, session, reply, timeout, inputs["verify_tls"])
        chunks, size, truncated = [], 0, False
        try:
            while True:
                # read1 returns what has arrived (iter_content would wait for a full chunk), so a page
                # that trickles in is stopped at the deadline.
                chunk = reply.raw.read1(65536)
                if not chunk:
                    break
                if time.monotonic() > deadline:
                    raise NodeError(f"the fetch timed out after {timeout:g} s (the page kept coming)")
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    truncated = True
                    break
        finally:
            reply.close()
        return reply, b"".join(chunks)[:limit], truncated

    try:
        reply, raw, truncated = ctx.call_blocking(send, on_abort=session.close)
    except requests.Timeout:
        raise NodeError(f"the fetch timed out after {timeout:g} s") from None
    except requests.ConnectionError as error:
        raise NodeError(f"could not connect: {_reason(error)}") from None
    except requests.RequestException as error:
        raise NodeError(f"the fetch failed: {error}") from None
    content_type = reply.headers.get("Content-Type", "")
    kind = content_type.split(";")[0].strip().lower()
    charset = _charset(content_type)
    title = ""
    if kind in ("text/html", "application/xhtml+xml") or (not kind and raw.lstrip()[:1] == b"<"):
        content, title = _from_html(raw, charset, inputs["format"])
    elif (
        kind.startswith("text/")
        or kind in ("application/json", "application/xml")
        or kind.endswith(("+json", "+xml"))
    ):
        content = raw.decode(charset or "utf-8", errors="replace")
    else:
        raise NodeError(
            f"the page is {kind or 'of no declared type'}, not text: use web/request for other content"
        )
    success = 200 <= reply.status_code < 300
    return {
        "content": content,
        "title": title,
        "status_code": reply.status_code,
        "content_type": content_type,
        "url": reply.url,
        "truncated": truncated,
        "success": success,
        "error": "" if success else f"the server answered HTTP {reply.status_code}",
    }


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=[\"']?([\w.:-]+)", content_type, re.IGNORECASE)
    if not match:
        return None
    import codecs

    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def _from_html(raw: bytes, charset: str | None, form: str) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser", from_encoding=charset)
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if form == "html":
        return str(soup), title
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    body = soup.body or soup
    if form == "text":
        text = body.get_text("\n")
        lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.splitlines()]
        return _squeeze("\n".join(lines)), title
    from markdownify import MarkdownConverter

    markdown = MarkdownConverter(heading_style="ATX", bullets="-").convert_soup(body)
    return _squeeze(markdown), title


def _squeeze(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _reason(error: Exception) -> str:
    text = str(error)
    low = text.lower()
    if "refused" in low:
        return "connection refused"
    if "resolve" in low or "name or service not known" in low:
        return "the name does not resolve"
    if "certificate" in low or "ssl" in low:
        return "TLS failed (" + text[-160:] + ")"
    return text[-200:]
