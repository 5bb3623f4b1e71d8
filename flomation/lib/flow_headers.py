"""Which response headers a flow (output/web_response) may set, checked against an allow-list.

A flow's answer is served from the platform's own host, beside the editor and the API. Anything that
could make it act as the platform is refused: cookies, security and CORS policy, caching or routing
instructions for a proxy in front (X-Accel-*, X-Sendfile), framing rules, hop-by-hop headers. What is
left is what a web endpoint needs to describe its body: its type, caching, a file name, validators, a
redirect target, and custom `X-` headers. A header whose name is not an HTTP token or whose value holds a
control character (CR, LF, NUL) is refused too, so a flow can never split a response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Visible ASCII, space and tab: no CR, LF, NUL or other control character, nothing outside ASCII.
VALUE = re.compile(r"[\t\x20-\x7e]*")
MEDIA_TYPE = re.compile(
    r"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+"
    r"""(\s*;\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+=([!#$%&'*+.^_`|~0-9A-Za-z-]+|"[\t\x20-\x21\x23-\x5b\x5d-\x7e]*"))*"""
)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_HEADERS = 50
MAX_NAME_LENGTH = 100
MAX_VALUE_LENGTH = 4096

ALLOWED = frozenset(
    {
        "content-type", "cache-control", "content-disposition", "content-language", "etag",
        "last-modified", "expires", "retry-after", "location",
    }
)  # fmt: skip
# `X-` headers that are security policy, or instructions to a proxy or server in front of Flomation.
DENIED_X_PREFIXES = (
    "x-frame-", "x-content-type-", "x-xss-", "x-permitted-cross-domain-", "x-dns-prefetch-",
    "x-download-options", "x-ua-compatible", "x-accel-", "x-sendfile", "x-lighttpd-", "x-litespeed-",
    "x-forwarded-", "x-real-ip", "x-csrf", "x-webkit-csp", "x-content-security-policy",
)  # fmt: skip
INVALID_NAME = "(an invalid header name)"


@dataclass
class FlowHeaders:
    """The headers a flow asked for, split into those it may set and the names of those refused."""

    kept: list[tuple[str, str]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def header_allowed(name: str) -> bool:
    """True if a flow may set the header `name` (any case); Location only with a redirect status."""
    lower = name.lower()
    if lower in ALLOWED:
        return True
    return lower.startswith("x-") and not lower.startswith(DENIED_X_PREFIXES)


def flow_headers(pairs: list[tuple[str, str]], *, status: int) -> FlowHeaders:
    """Checks each (name, value) a flow set for a response with `status`; the first of a repeated name wins."""
    result = FlowHeaders()
    seen: set[str] = set()
    for raw_name, raw_value in pairs:
        name, value = raw_name.strip(), raw_value.strip(" \t")
        lower = name.lower()
        if not (0 < len(name) <= MAX_NAME_LENGTH and TOKEN.fullmatch(name)):
            result.dropped.append(INVALID_NAME)
            continue
        if lower in seen:
            continue
        if (
            not header_allowed(name)
            or len(value) > MAX_VALUE_LENGTH
            or not VALUE.fullmatch(value)
            or (lower == "content-type" and not MEDIA_TYPE.fullmatch(value))
            or (lower == "location" and not (status in REDIRECT_STATUSES and redirect_target_allowed(value)))
            or len(result.kept) >= MAX_HEADERS
        ):
            result.dropped.append(lower)
            continue
        seen.add(lower)
        result.kept.append((name, value))
    return result


def redirect_target_allowed(url: str) -> bool:
    """An absolute http(s) URL with a host, or a path on this host (not `//host`, no backslash)."""
    if not url or "\\" in url or not VALUE.fullmatch(url) or any(c in url for c in " \t"):
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)
