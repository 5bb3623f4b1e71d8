"""Running the git CLI for flows: remote repositories over https (a token) or ssh (a key), and working
copies that scripts may have changed. No Django.

What a flow gives git is checked (`safe_args`): URLs parse as an allowed transport, refs are valid names,
operands follow `--`, and nothing may start with `-`. Beyond that:

* the remote's host goes through the egress policy and git connects to the checked address: https via
  curl's resolve list (`http.curloptResolve`), ssh via `HostName=<address>`; redirects are not followed;
  git:// (unencrypted, unpinnable) is refused;
* ssh goes through `git_ssh` (paramiko) with only the key given (a 0600 file in a private temporary
  directory), to the checked address, accepting only the host key that matched the pinned fingerprint;
* a token reaches git through a credential helper that reads it from git's environment: never in argv,
  never in the URL, never in a message;
* no configuration but ours: no system or global file, hooks off, and a working copy's own .git/config may
  hold only plain keys (remotes, branches, identity): anything that makes git run a program or rewrite a
  URL (filters, fsmonitor, insteadOf, includes, ...) is refused;
* when `run_as` is set (the executor is root), git runs with the run's uid, as scripts do.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from flomation.lib.connections.base import ConnectionFailed
from flomation.lib.egress import EgressPolicy, git_url_checked
from flomation.lib.safe_args import (
    UnsafeArgument,
    argv,
    git_environment,
    git_program,
    git_repository_url,
    redact_url,
)

GIT_TIMEOUT = 300.0
_SCP = re.compile(r"^(?:(?P<user>[^@/:\[\]]+)@)?(?P<host>\[[^\]/]*\]|[^@/:\[\]]+):")
# Keys a working copy's .git/config may hold (the rest make git run programs or go elsewhere).
_PLAIN_KEYS = re.compile(
    r"^(core\.(repositoryformatversion|filemode|bare|logallrefupdates|ignorecase|precomposeunicode|symlinks)"
    r"|remote\.[^\n]+\.(url|fetch|tagopt|prune)"
    r"|branch\.[^\n]+\.(remote|merge|rebase)"
    r"|user\.(name|email)|extensions\.objectformat|init\.defaultbranch|pull\.(rebase|ff)|push\.default"
    r"|gc\.auto)$"
)
_HELPER = (
    "!f() { test \"$1\" = get || exit 0; printf 'username=%s\\npassword=%s\\n' "
    '"$FLOMATION_GIT_USERNAME" "$FLOMATION_GIT_TOKEN"; }; f'
)
_COMMAND_LINE_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.askPass=",
    "credential.helper=",
    "http.followRedirects=false",
    "submodule.recurse=false",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
)


class GitFailed(Exception):
    """git refused or failed; the message is git's own error (URLs without credentials) or ours."""


@dataclass
class Remote:
    """A checked remote: the URL git is given and how it connects (`kind`: https, ssh or local)."""

    url: str
    kind: str
    host: str = ""
    port: int = 0
    address: str = ""


@dataclass
class GitSession:
    """Credentials, settings and a private temporary directory for one node's git commands; `close()` removes
    the directory (the key file with it)."""

    fields: dict[str, Any]
    policy: EgressPolicy
    allow_local: bool = False
    run_as: int | None = None
    timeout: float = GIT_TIMEOUT
    home: str = field(init=False)
    _config: list[str] = field(init=False, default_factory=list)
    _environ: dict[str, str] = field(init=False, default_factory=dict)
    _process: subprocess.Popen[str] | None = field(init=False, default=None)
    _aborted: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.home = tempfile.mkdtemp(prefix="flomation-git-")
        # Our only "global" configuration. Ownership checks are not what keeps a working copy's config
        # harmless here (`check_working_copy` is), and a local repository the operator allowed may belong
        # to another user than the run's.
        with open(os.path.join(self.home, "gitconfig"), "w") as handle:
            handle.write("[safe]\n\tdirectory = *\n")
        if self.run_as is not None:
            os.chown(self.home, self.run_as, self.run_as)

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> GitSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- remotes --------------------------------------------------------------------------------------

    def url_for(self, value: str) -> str:
        """The repository URL for `value`: a full URL, or a path under the connection's url_prefix. A URL
        outside the url_prefix is refused, so the connection's credentials go to its own server only."""
        prefix = str(self.fields.get("url_prefix") or "").strip()
        value = value.strip()
        if prefix and not value.startswith(prefix):
            if "://" in value or _SCP.match(value) or value.startswith("/"):
                raise UnsafeArgument("the repository url is not under the connection's url_prefix")
            value = prefix.rstrip("/") + "/" + value.lstrip("/")
        return value

    def remote(self, url: str) -> Remote:
        """Checks `url` (its form, then its host through the egress policy) and prepares credentials and
        pinning for it. Raises UnsafeArgument, EgressDenied or ConnectionFailed."""
        url = git_repository_url(url, allow_local=self.allow_local)
        git_url_checked(url, self.policy)
        if "://" not in url:
            match = _SCP.match(url)
            if match is None:  # an absolute local path (allowed above)
                return Remote(url, "local")
            return self._ssh(url, match.group("host").strip("[]"), 22)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "file":
            return Remote(url, "local")
        if scheme == "git":
            raise UnsafeArgument("git:// URLs are not used (unencrypted): use an https or ssh URL")
        host = unquote(parts.hostname or "")
        if scheme == "ssh":
            return self._ssh(url, host, parts.port or 22)
        if parts.username or parts.password:
            raise UnsafeArgument("put the token in the connection (or the token input), not in the URL")
        port = parts.port or 443
        addresses = self.policy.check_host(host, port)
        pinned = ",".join(f"[{a}]" if ":" in a else a for a in addresses)  # curl's resolve-list form
        self._config.append(f"http.curloptResolve={host}:{port}:{pinned}")
        token = str(self.fields.get("token") or "")
        if token:
            self._config += ["credential.helper=" + _HELPER]
            self._environ["FLOMATION_GIT_USERNAME"] = str(self.fields.get("username") or "git")
            self._environ["FLOMATION_GIT_TOKEN"] = token
        return Remote(url, "https", host, port, addresses[0])

    def _ssh(self, url: str, host: str, port: int) -> Remote:
        from flomation.lib.connections.ssh import load_private_key, pinned_host_key

        key_text = str(self.fields.get("ssh_private_key") or "")
        if not key_text:
            raise ConnectionFailed("an ssh repository URL needs the connection's ssh_private_key")
        load_private_key(key_text, None)  # a clear message for a key that cannot be read
        address, host_key = pinned_host_key(host, port, self.fields, self.policy, min(self.timeout, 30.0))
        key_file = os.path.join(self.home, "key")
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key_text.strip() + "\n")
        # The key stays the executor's: only the network step (as the executor's user) reads it.
        helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "git_ssh.py")
        self._environ.update(
            {
                "GIT_SSH_COMMAND": f"{shlex.quote(sys.executable)} -I {shlex.quote(helper)}",
                "GIT_SSH_VARIANT": "ssh",
                "FLOMATION_SSH_ADDRESS": address,
                "FLOMATION_SSH_PORT": str(port),
                "FLOMATION_SSH_HOST_KEY": f"{host_key.get_name()} {host_key.get_base64()}",
                "FLOMATION_SSH_KEY_FILE": key_file,
            }
        )
        return Remote(url, "ssh", host, port, address)

    # --- running git ------------------------------------------------------------------------------------

    def check_working_copy(self, path: str) -> None:
        """Refuses a working copy whose .git is not a plain directory or whose config holds anything but
        plain keys; remote URLs in it are checked when they are used."""
        git_dir = os.path.join(path, ".git")
        if os.path.islink(git_dir) or not os.path.isdir(git_dir):
            raise GitFailed(f"{os.path.basename(path) or path} is not a git working copy (no .git folder)")
        config = os.path.join(git_dir, "config")
        if os.path.islink(config):
            raise GitFailed("the working copy's .git/config is a symlink, which is not followed")
        if not os.path.exists(config):
            return
        listing = self.run(["config"], ["--file", config, "--null", "--name-only", "--list"], [], cwd=None,
                           end_of_options="")  # fmt: skip
        for name in filter(None, listing.split("\0")):
            if not _PLAIN_KEYS.match(name.lower()):
                raise GitFailed(
                    f"the working copy's .git/config sets {name[:80]!r}, which git nodes do not run with "
                    "(it could run a program or send git elsewhere); remove it"
                )

    def configured_url(self, path: str, remote: str) -> str:
        config = os.path.join(path, ".git", "config")
        found = self.run(["config"], ["--file", config, "--get", f"remote.{remote}.url"], [], cwd=None,
                         end_of_options="", check=False).strip()  # fmt: skip
        if not found:
            raise GitFailed(f"the working copy has no remote named {remote!r}")
        return found

    def run(
        self,
        subcommand: Sequence[str],
        options: Sequence[str] = (),
        operands: Sequence[str] = (),
        *,
        cwd: str | None,
        git_dir: str | None = None,
        end_of_options: str = "--",
        stdin: str | None = None,
        check: bool = True,
        timeout: float | None = None,
        extra_config: Sequence[str] = (),
        network: bool = False,
        local: bool = False,
    ) -> str:
        """Runs `git <subcommand> <options> <end_of_options> <operands>` in the working copy `cwd` (found
        without looking at its parents) or the bare repository `git_dir`; returns its output, raises
        GitFailed with git's message.

        `network`: the command reaches the remote, with the credentials and pinning `remote()` prepared; it
        runs as the executor's own user and only ever on our private staging repository. Otherwise git runs
        with the run's uid (`run_as`) and no credentials. `local`: our own staging path is an operand, so
        local repositories are allowed for this command whatever the setting."""
        allow_local = self.allow_local or local
        program = git_program(allow_local=allow_local)
        for item in (*_COMMAND_LINE_CONFIG, *(self._config if network else ()), *extra_config):
            program += ["-c", item]
        if end_of_options:
            command = argv([*program, *subcommand], options, operands, end_of_options=end_of_options)
        else:
            command = [*program, *subcommand, *options]
        environ = git_environment(allow_local=allow_local)
        environ.pop("SSH_AUTH_SOCK", None)
        environ.update(
            {
                "HOME": self.home,
                "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": os.path.join(self.home, "gitconfig"),
                "GIT_ASKPASS": "/bin/false",
                "GIT_EDITOR": "true",
                "GIT_PAGER": "cat",
                "SSH_ASKPASS": "/bin/false",
            }
        )
        if network:
            environ.update(self._environ)
        if cwd is not None:
            environ["GIT_DIR"] = os.path.join(cwd, ".git")
            environ["GIT_WORK_TREE"] = cwd
        elif git_dir is not None:
            environ["GIT_DIR"] = git_dir
        user: dict[str, Any] = {}
        if self.run_as is not None and not network:
            user = {"user": self.run_as, "group": self.run_as, "extra_groups": []}
        limit = timeout or self.timeout
        if self._aborted:
            raise GitFailed("stopped")
        try:
            process = subprocess.Popen(
                command,
                cwd=cwd or self.home,
                env=environ,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
                **user,
            )
        except FileNotFoundError:
            raise GitFailed("the git command is not installed on this runner") from None
        self._process = process
        try:
            out, err = process.communicate(stdin, timeout=limit)
        except subprocess.TimeoutExpired:
            self.abort()
            process.communicate()
            raise GitFailed(f"git {subcommand[0]} took longer than {limit:g} s") from None
        finally:
            self._process = None
        if check and process.returncode != 0:
            raise GitFailed(f"git {subcommand[0]} failed: {self.scrub(err.strip() or out.strip())}")
        return out

    def abort(self) -> None:
        """Stops the running git command and its children (ssh, remote helpers); no other one starts."""
        import signal

        self._aborted = True
        process = self._process
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                process.kill()

    # --- the network steps, through a private staging repository -------------------------------------------
    #
    # A working copy in /work is the run's (scripts can change anything in it, symlinks included), so git
    # touches it only with the run's uid; the network part runs as the executor's user (OpenSSH and the
    # credential helper need a real user) on a bare repository in our private directory, and the two meet
    # by local pushes and fetches.

    def _stage(self) -> str:
        stage = os.path.join(self.home, "stage.git")
        if not os.path.exists(stage):
            self.run(["init"], ["--quiet", "--bare"], [stage], cwd=None, network=True, local=True)
        return stage

    def _hand_over(self, path: str) -> None:
        """Gives the staging repository to the run's uid for the local step; its config stays ours."""
        if self.run_as is None:
            return
        config = os.path.join(path, "config")
        for folder, folders, files in os.walk(path):
            for name in (folder, *(os.path.join(folder, item) for item in (*folders, *files))):
                if name != config:
                    os.lchown(name, self.run_as, self.run_as)

    def clone(self, remote: Remote, path: str, *, branch: str = "", depth: int = 0) -> None:
        """Clones `remote` to the working copy `path` (which must not exist yet)."""
        stage = os.path.join(self.home, "stage.git")
        options = ["--quiet", "--bare", "--no-recurse-submodules"]
        options += [f"--branch={branch}"] if branch else []
        options += [f"--depth={depth}"] if depth else []
        self.run(["clone"], options, [remote.url, stage], cwd=None, network=True)
        self._hand_over(stage)
        local = ["--quiet", "--no-recurse-submodules", *([f"--branch={branch}"] if branch else [])]
        self.run(["clone"], local, [stage, path], cwd=None, local=True)
        self.run(["remote"], ["set-url"], ["origin", remote.url], cwd=path)

    def push(self, remote: Remote, path: str, branch: str) -> None:
        """Pushes `branch` of the working copy to `remote`."""
        stage = self._stage()
        self._hand_over(stage)
        refspec = f"refs/heads/{branch}:refs/heads/{branch}"
        self.run(["push"], ["--quiet"], [stage, refspec], cwd=path, local=True)
        self.run(
            ["push"], ["--quiet", "--porcelain"], [remote.url, refspec], cwd=None, git_dir=stage, network=True
        )

    def fetch(self, remote: Remote, path: str, branch: str) -> str:
        """Fetches `branch` of `remote` into our staging repository; returns its path for a local pull."""
        stage = self._stage()
        refspec = f"+refs/heads/{branch}:refs/heads/{branch}"
        self.run(
            ["fetch"], ["--quiet", "--no-tags"], [remote.url, refspec], cwd=None, git_dir=stage, network=True
        )
        self._hand_over(stage)
        return stage

    def scrub(self, text: str) -> str:
        """git's message without credentials or our temporary paths, cut to 500 characters."""
        text = redact_url(text)
        token = str(self.fields.get("token") or "")
        if token:
            text = text.replace(token, "***")
        return text.replace(self.home, "<temporary>")[:500]


def ls_remote(session: GitSession, url: str) -> str:
    """The head a remote repository advertises (for a connection test)."""
    remote = session.remote(url)
    listing = session.run(
        ["ls-remote"], ["--symref"], [remote.url, "HEAD"], cwd=None, timeout=60, network=True
    )
    heads = [
        line.split("\t")[0] for line in listing.splitlines() if line.endswith("\tHEAD") and "ref:" not in line
    ]
    return heads[0] if heads else ""
