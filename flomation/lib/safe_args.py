"""Values from flows, tenants and requests on a command line: each is checked for what it claims to be (a
repository URL, a branch name, an object id) and can never pass for an option. No Django here.

A hostile value reaches a CLI in two ways: as an option (`--upload-pack=<command>` runs a command for git,
`-oProxyCommand=<command>` for ssh) or as a transport that runs one itself (git's `ext::<command>`,
`<helper>::<address>`). So a URL must parse as one of the allowed transports, nothing may start with `-`,
every argv puts `--` (or `--end-of-options`) before its operands, and git runs with its allowed protocols
and its ssh command set here, not inherited.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from urllib.parse import unquote, urlsplit


class UnsafeArgument(ValueError):
    """A value refused for a command line; the message says what was wrong and never repeats a secret."""


MAX_URL_LENGTH = 2048
MAX_REF_LENGTH = 255
NETWORK_SCHEMES = ("https", "ssh", "git")
# The ssh command git uses: ours, so that neither the environment nor a URL can choose it. BatchMode: an
# unknown host key or a missing key fails at once instead of waiting for a prompt nobody answers.
GIT_SSH_COMMAND = "ssh -o BatchMode=yes"
# Inherited from the launch process (the operator's set-up: proxies, CA bundles, the ssh agent, HOME for
# ~/.ssh); every other variable, GIT_* above all, is dropped.
_INHERITED = (
    "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "SSH_AUTH_SOCK",
    "http_proxy", "https_proxy", "no_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY",
    "SSL_CERT_FILE", "SSL_CERT_DIR", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH",
)  # fmt: skip

# git's is_urlschemechar: `<transport>::<address>` hands the address to git-remote-<transport> (ext runs it).
_TRANSPORT_HELPER = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*::")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_HOST_NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9._\-]*[A-Za-z0-9_])?$")
_IPV6 = re.compile(r"^[0-9A-Fa-f:.]+$")
_SCP_LIKE = re.compile(r"^(?:(?P<user>[^@/:\[\]]+)@)?(?P<host>\[[^\]/]*\]|[^@/:\[\]]+):(?P<path>.*)$")
_OBJECT_ID = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_USERINFO = re.compile(r"(://)[^/@\s]*@")


def _printable(value: str) -> bool:
    """No whitespace and no control, format or unassigned characters (newlines, NUL, bidi overrides)."""
    return not any(char.isspace() or unicodedata.category(char).startswith("C") for char in value)


def redact_url(value: str) -> str:
    """The URL without the user and password of a `scheme://user:password@host` URL, for messages and logs."""
    return _USERINFO.sub(r"\1", value)


def _host_ok(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        return bool(_IPV6.match(host[1:-1]))
    return bool(_HOST_NAME.match(host))


def _user_ok(user: str) -> bool:
    return not user.startswith("-") and _printable(user)


def git_repository_url(value: object, *, allow_local: bool = False) -> str:
    """Returns `value` if it is a repository git may be given: an https, ssh or git URL, an scp-like
    `user@host:path` (ssh), and only with `allow_local` a `file://` URL or an absolute local path.

    Raises UnsafeArgument naming what is wrong: an option-like value, whitespace or control characters, a
    `<transport>::` helper, another scheme, a missing or option-like host or user.
    """
    allowed = (
        "an https, ssh, git or file URL (or an absolute path)" if allow_local else "an https, ssh or git URL"
    )
    must = f"the repository url must be {allowed}"
    if not isinstance(value, str) or not value:
        raise UnsafeArgument(f"{must}; none was given")
    if len(value) > MAX_URL_LENGTH:
        raise UnsafeArgument(f"{must}; it is longer than {MAX_URL_LENGTH} characters")
    if value.startswith("-"):
        raise UnsafeArgument(f"{must}; it must not start with '-'")
    helper = _TRANSPORT_HELPER.match(value)
    if helper:
        raise UnsafeArgument(f"{must}; transport helpers such as '{helper.group(0)}' are not allowed")
    if not _printable(value):
        raise UnsafeArgument(f"{must}; it must not contain spaces, line breaks or control characters")
    scheme = _SCHEME.match(value)
    if scheme:
        return _scheme_url(value, scheme.group(1).lower(), must=must, allow_local=allow_local)
    colon, slash = value.find(":"), value.find("/")
    if colon != -1 and (slash == -1 or colon < slash):  # git's rule for scp-like ssh
        return _scp_like(value, must=must)
    if not allow_local:
        raise UnsafeArgument(
            f"{must}; local paths are turned off on this server (FLOMATION_GIT_ALLOW_FILE_URLS)"
        )
    if not value.startswith("/"):
        raise UnsafeArgument(f"{must}; a local path must be absolute")
    return value


def _scheme_url(value: str, scheme: str, *, must: str, allow_local: bool) -> str:
    if scheme == "file":
        if not allow_local:
            raise UnsafeArgument(
                f"{must}; file URLs are turned off on this server (FLOMATION_GIT_ALLOW_FILE_URLS)"
            )
        parts = urlsplit(value)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise UnsafeArgument(f"{must}; a file URL names an absolute path on this server (file:///path)")
        return value
    if scheme not in NETWORK_SCHEMES:
        raise UnsafeArgument(f"{must}, not {scheme}")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise UnsafeArgument(f"{must}; its host or port cannot be read") from None
    # git percent-decodes an ssh URL before it builds ssh's argv: check what ssh would see.
    host = unquote(parts.netloc.rpartition("@")[2])
    if port is not None:
        host = host[: -len(f":{port}")] if host.endswith(f":{port}") else host
    if not host or not _host_ok(host):
        raise UnsafeArgument(f"{must}; it needs a valid host name")
    if parts.username is not None and not _user_ok(unquote(parts.username)):
        raise UnsafeArgument(f"{must}; its user name must not start with '-'")
    return value


def _scp_like(value: str, *, must: str) -> str:
    match = _SCP_LIKE.match(value)
    if match is None:
        raise UnsafeArgument(f"{must}; it is neither a URL nor user@host:path")
    user, host, path = match.group("user"), match.group("host"), match.group("path")
    if not _host_ok(host):
        raise UnsafeArgument(f"{must}; it needs a valid host name")
    if user is not None and not _user_ok(user):
        raise UnsafeArgument(f"{must}; its user name must not start with '-'")
    if not path or path.startswith("-"):
        raise UnsafeArgument(
            f"{must}; user@host:path needs the repository's path after ':', not starting with '-'"
        )
    return value


def git_branch_name(value: object) -> str:
    """Returns `value` if it is a branch name `git check-ref-format --branch` accepts (and it does not
    start with '-'); raises UnsafeArgument saying which rule it breaks."""
    must = "the branch must be a valid Git branch name"
    if not isinstance(value, str) or not value:
        raise UnsafeArgument(f"{must}; none was given")
    if len(value) > MAX_REF_LENGTH:
        raise UnsafeArgument(f"{must}; it is longer than {MAX_REF_LENGTH} characters")
    if value.startswith("-"):
        raise UnsafeArgument(f"{must}; it must not start with '-'")
    if not _printable(value):
        raise UnsafeArgument(f"{must}; it must not contain spaces, line breaks or control characters")
    bad = sorted({char for char in value if char in "~^:?*[\\"})
    if bad:
        raise UnsafeArgument(f"{must}; it must not contain {' '.join(repr(c) for c in bad)}")
    if value == "@" or "@{" in value or ".." in value or "//" in value:
        raise UnsafeArgument(f"{must}; it must not be '@' or contain '@{{', '..' or '//'")
    if value.startswith("/") or value.endswith("/") or value.endswith("."):
        raise UnsafeArgument(f"{must}; it must not start or end with '/' or end with '.'")
    for component in value.split("/"):
        if component.startswith(".") or component.endswith(".lock"):
            raise UnsafeArgument(f"{must}; no part may start with '.' or end with '.lock'")
    return value


def git_object_id(value: object) -> str:
    """Returns `value` if it is a full SHA-1 or SHA-256 object id in lower-case hex."""
    if not isinstance(value, str) or not _OBJECT_ID.match(value):
        raise UnsafeArgument("the commit id must be 40 or 64 lower-case hex digits")
    return value


def argv(
    program: Sequence[str],
    options: Sequence[str] = (),
    operands: Sequence[str] = (),
    *,
    end_of_options: str = "--",
) -> list[str]:
    """`[*program, *options, end_of_options, *operands]`. Options are the caller's constants; operands are
    values, which the marker keeps from being read as options. An operand starting with '-' is refused
    all the same, so a program that ignores the marker cannot be fooled either.

    Use `end_of_options="--end-of-options"` where `--` means something else (`git log`: paths follow).
    """
    for operand in operands:
        if not isinstance(operand, str) or operand.startswith("-"):
            raise UnsafeArgument("a value on the command line must not start with '-'")
        if "\x00" in operand:
            raise UnsafeArgument("a value on the command line must not contain a NUL character")
    return [*program, *options, end_of_options, *operands]


def git_protocols(*, allow_local: bool) -> tuple[str, ...]:
    return (*NETWORK_SCHEMES, "file") if allow_local else NETWORK_SCHEMES


def git_program(*, allow_local: bool) -> list[str]:
    """`git` with the protocols it may use pinned on its command line (ext, fd and any other helper off)."""
    command = ["git", "-c", "protocol.allow=never"]
    for protocol in ("https", "ssh", "git", "file", "ext"):
        state = "always" if protocol in git_protocols(allow_local=allow_local) else "never"
        command += ["-c", f"protocol.{protocol}.allow={state}"]
    return command


def git_environment(*, allow_local: bool, inherit: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs in: the operator's proxies, CA bundles, HOME and ssh agent, and ours for the
    rest (allowed protocols, the ssh command, no prompts). No GIT_* variable is inherited."""
    source = os.environ if inherit is None else inherit
    environ = {name: source[name] for name in _INHERITED if name in source}
    environ.setdefault("PATH", "/usr/bin:/bin")
    environ.update(
        {
            "GIT_ALLOW_PROTOCOL": ":".join(git_protocols(allow_local=allow_local)),
            "GIT_PROTOCOL_FROM_USER": "0",
            "GIT_SSH_COMMAND": GIT_SSH_COMMAND,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",
            "SSH_ASKPASS": "true",
            "LC_ALL": "C",
        }
    )
    return environ
