"""Real servers for the remote-access nodes' tests, started by the tests: Debian's OpenSSH server on a free
port with its own host key, moto's S3 server, and bare Git repositories."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.launch.servers import GIT_ENV, free_port, port_open, require_binary

SSH_USER = "flomation-sshtest"
SSH_HOME = Path("/var/lib/flomation-sshtest")

SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {root}/host_key
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers {user}
Subsystem sftp internal-sftp
LogLevel ERROR
"""


def key_pair(directory: Path, name: str, passphrase: str = "") -> tuple[str, str]:
    """(private key in OpenSSH PEM, public key line) of a new ed25519 key."""
    path = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.read_text(), (directory / f"{name}.pub").read_text().strip()


def fingerprint_of(public_line: str) -> str:
    """OpenSSH's SHA256:<base64> fingerprint of a public key line."""
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _ensure_user(password: str) -> None:
    """The local account the tests log in as (password and key); created once on this machine."""
    try:
        pwd.getpwnam(SSH_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--create-home",
                "--home-dir",
                str(SSH_HOME),
                "--shell",
                "/bin/sh",
                SSH_USER,
            ],
            check=True,
            capture_output=True,
        )
    subprocess.run(["chpasswd"], input=f"{SSH_USER}:{password}", text=True, check=True, capture_output=True)


@dataclass
class SshServer:
    port: int
    user: str
    password: str
    private_key: str
    public_key: str
    host_fingerprint: str
    home: Path
    root: Path
    other_key: str = field(default="")

    @property
    def fields(self) -> dict[str, object]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "username": self.user,
            "private_key": self.private_key,
            "host_key_fingerprint": self.host_fingerprint,
        }


@contextlib.contextmanager
def sshd() -> Iterator[SshServer]:
    """An OpenSSH server on 127.0.0.1 for one test user (password and key login, SFTP)."""
    binary = require_binary("sshd", "openssh-server")
    if os.geteuid() != 0:
        pytest.skip("the ssh tests log in as a local user: they run as root (as in CI)")
    password = secrets.token_urlsafe(12)
    _ensure_user(password)
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    root = Path(tempfile.mkdtemp(prefix="flomation-sshd-"))
    os.chmod(root, 0o755)
    try:
        _, host_public = key_pair(root, "host_key")
        private, public = key_pair(root, "client")
        other, _ = key_pair(root, "stranger")
        (root / "authorized_keys").write_text(public + "\n")
        os.chmod(root / "authorized_keys", 0o644)
        port = free_port()
        (root / "sshd_config").write_text(SSHD_CONFIG.format(port=port, root=root, user=SSH_USER))
        process = subprocess.Popen(
            [binary, "-D", "-e", "-f", str(root / "sshd_config"), "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=open(root / "sshd.log", "wb"),  # noqa: SIM115 - the server's log, closed with it
        )
        try:
            deadline = time.monotonic() + 10
            while not port_open("127.0.0.1", port):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sshd did not start: {(root / 'sshd.log').read_text()[-500:]}")
                time.sleep(0.05)
            yield SshServer(
                port=port,
                user=SSH_USER,
                password=password,
                private_key=private,
                public_key=public,
                host_fingerprint=fingerprint_of(host_public),
                home=SSH_HOME,
                root=root,
                other_key=other,
            )
        finally:
            process.terminate()
            process.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    return free_port()


# --- moto's S3 server -------------------------------------------------------------------------------------


@dataclass
class S3Server:
    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str = "us-east-1"

    @property
    def fields(self) -> dict[str, object]:
        return {
            "endpoint_url": self.endpoint_url,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "region": self.region,
        }

    def client(self):  # noqa: ANN201 - a boto3 client
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
        )


@contextlib.contextmanager
def moto_s3() -> Iterator[S3Server]:
    """moto's standalone server on a free port, enforcing signatures: an IAM user with S3 rights is made
    while authentication is off, then it is turned on, so a wrong secret key is refused like AWS does."""
    pytest.importorskip("moto.server", reason="moto[server] is a development requirement")
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="flomation-moto-"))
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "moto.log", "wb"),  # noqa: SIM115 - the server's log, closed with it
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    try:
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto did not start: {(root / 'moto.log').read_text()[-500:]}")
            time.sleep(0.1)
        import boto3

        url = f"http://127.0.0.1:{port}"
        iam = boto3.client(
            "iam", endpoint_url=url, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
        )
        iam.create_user(UserName="flows")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="flows", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="flows")["AccessKey"]
        request = urllib.request.Request(
            f"{url}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        urllib.request.urlopen(request, timeout=10).read()  # noqa: S310 - our own loopback server
        yield S3Server(url, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


# --- git ------------------------------------------------------------------------------------------------------


def bare_repository(root: Path, name: str = "origin.git", *, owner: int | None = None) -> Path:
    """A bare repository on branch main with one commit (README.md), optionally owned by `owner`."""
    require_binary("git", "git")
    bare = root / name
    seed = root / f"{name}-seed"
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(bare)], check=True, env=env)
    subprocess.run(["git", "init", "-q", "--initial-branch=main", str(seed)], check=True, env=env)
    (seed / "README.md").write_text("hello\n")
    for command in (
        ["add", "README.md"],
        ["commit", "-q", "-m", "initial"],
        ["push", "-q", str(bare), "main"],
    ):
        subprocess.run(["git", "-C", str(seed), *command], check=True, env=env, capture_output=True)
    shutil.rmtree(seed)
    if owner is not None:
        subprocess.run(["chown", "-R", f"{owner}:{owner}", str(bare)], check=True)
    return bare


def git_log(bare: Path, ref: str = "main") -> list[str]:
    done = subprocess.run(
        ["git", "-c", "safe.directory=*", "-C", str(bare), "log", "--format=%s", ref],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.split("\n")[:-1]


# --- git over https (git http-backend behind a TLS server asking for a token) --------------------------------


@dataclass
class GitHttps:
    url: str  # https://localhost:<port>/
    root: Path
    ca_file: Path
    username: str
    token: str


def _tls_certificate(root: Path) -> tuple[Path, Path]:
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@contextlib.contextmanager
def git_https() -> Iterator[GitHttps]:
    """`git http-backend` behind TLS on localhost; every request needs Basic auth with the token."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    require_binary("git", "git")
    root = Path(tempfile.mkdtemp(prefix="flomation-githttps-"))
    cert, key = _tls_certificate(root)
    expected = "Basic " + base64.b64encode(b"ada:tok-" + secrets.token_hex(8).encode()).decode()
    token = base64.b64decode(expected.split()[1]).decode().split(":", 1)[1]
    backend = subprocess.run(["git", "--exec-path"], capture_output=True, text=True).stdout.strip()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _serve(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            env = {"GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path,
                   "QUERY_STRING": query, "REQUEST_METHOD": self.command, "REMOTE_USER": "ada",
                   "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                   "PATH": os.environ.get("PATH", "/usr/bin:/bin")}  # fmt: skip
            done = subprocess.run([f"{backend}/git-http-backend"], input=body, env=env, capture_output=True)
            head, _, payload = done.stdout.partition(b"\r\n\r\n")
            status = 200
            headers = []
            for line in head.decode().split("\r\n"):
                name, _, value = line.partition(": ")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield GitHttps(f"https://localhost:{server.server_address[1]}/", root, cert, "ada", token)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)
