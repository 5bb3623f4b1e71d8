"""Git: repositories over https with a token, or over ssh with a key and a pinned host key. No Django.

The git nodes and `test` share `flomation.lib.gitcli`: the host is checked by the egress policy and git is
pinned to the checked address; credentials reach git through its environment, never its command line.
"""

from __future__ import annotations

from typing import Any

from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "git"
LABEL = "Git"
FIELDS = (
    Field(
        "url_prefix",
        required=True,
        description=(
            "A repository URL, or the start every repository URL of this connection shares "
            "(https://git.example.com/team/); the credentials are used for those URLs only. Test lists it."
        ),
    ),
    Field("username", description="The user for https (many servers accept any name with a token)."),
    Field("token", "secret", description="An access token (or password) for https."),
    Field("ssh_private_key", "secret", description="An OpenSSH or PEM private key for ssh URLs."),
    Field(
        "host_key_fingerprint",
        description="For ssh: the server's host key (SHA256:..., from ssh-keygen -lf); others are refused.",
    ),
)


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    """Lists the repository at url_prefix: the host, the credentials and (ssh) the host key for real."""
    from flomation.lib.gitcli import GitFailed, GitSession, ls_remote
    from flomation.lib.safe_args import UnsafeArgument

    url = str(fields.get("url_prefix") or "").strip()
    if not url:
        raise ConnectionFailed("set url_prefix to a repository URL to test")
    allow_local = policy.allow_local
    with GitSession(dict(fields), policy, allow_local=allow_local, timeout=timeout) as session:
        try:
            head = ls_remote(session, url)
        except UnsafeArgument as error:
            raise ConnectionFailed(str(error)) from None
        except GitFailed as error:
            raise ConnectionFailed(_reason(str(error))) from None
    return f"listed {session.scrub(url)}" + (f" (HEAD at {head[:12]})" if head else " (an empty repository)")


def _reason(message: str) -> str:
    """git's failure with the likely cause first (authentication, not found) where it can be told."""
    lowered = message.lower()
    if "authentication failed" in lowered or "permission denied" in lowered or "403" in lowered:
        return "authentication failed: " + message
    if "not found" in lowered or "does not appear to be a git repository" in lowered:
        return "the repository was not found (or the credentials may not see it): " + message
    return message
