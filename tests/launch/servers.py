"""Real servers for the poller tests: a bare Git repository, a Dovecot IMAP server, broker checks."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

GIT_ENV = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_COMMITTER_NAME": "Ada",
           "GIT_COMMITTER_EMAIL": "ada@example.com"}  # fmt: skip


def require_binary(name: str, package: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install -y {package})")
    return path


def port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GitRepository:
    """A bare repository (what the poller reads) and a working clone to commit into."""

    def __init__(self, root: Path) -> None:
        require_binary("git", "git")
        self.bare = root / "origin.git"
        self.work = root / "work"
        self._git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare), cwd=root)
        self._git("clone", "--quiet", str(self.bare), str(self.work), cwd=root)
        self._git("checkout", "--quiet", "-b", "main")

    def _git(self, *args: str, cwd: Path | None = None) -> str:
        return subprocess.run(["git", *args], cwd=cwd or self.work, env={**os.environ, **GIT_ENV}, check=True,
                              capture_output=True, text=True).stdout  # fmt: skip

    def commit(self, message: str) -> str:
        (self.work / "log.txt").open("a").write(message + "\n")
        self._git("add", "log.txt")
        self._git("commit", "--quiet", "-m", message)
        self._git("push", "--quiet", "origin", "main")
        return self._git("rev-parse", "HEAD").strip()


@dataclass
class Dovecot:
    port: int
    user: str
    password: str


DOVECOT_CONF = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextlib.contextmanager
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot IMAP server on a free loopback port, with one user, until the block ends.

    Its files live in a world-readable temporary directory: Dovecot's auth process runs as `dovecot` and
    must reach its passwd file (pytest's tmp_path is private to root)."""
    binary = require_binary("dovecot", "dovecot-imapd")
    if os.geteuid() != 0:
        pytest.skip("the Dovecot test server needs root (it drops privileges to its own users)")
    try:
        nobody = pwd.getpwnam("nobody")
        pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
    except KeyError as error:
        pytest.skip(f"Dovecot's system users are missing ({error}); reinstall dovecot-core")
    root = Path(tempfile.mkdtemp(prefix="launch-dovecot-"))
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    os.chown(root / "mail", nobody.pw_uid, nobody.pw_gid)
    (root / "passwd").write_text("alice:{PLAIN}wonderland-7\n")
    port = free_port()
    (root / "dovecot.conf").write_text(
        DOVECOT_CONF.format(root=root, uid=nobody.pw_uid, gid=nobody.pw_gid, port=port)
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while not port_open("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"dovecot did not start: {log}")
            time.sleep(0.05)
        yield Dovecot(port=port, user="alice", password="wonderland-7")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
