"""Message brokers for tests: the machine's Mosquitto, RabbitMQ, Redis and NATS, and brokers with a password
or token that the tests start themselves on a free port (Mosquitto, nats-server)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

MOSQUITTO = ("127.0.0.1", 1883)
RABBITMQ = ("127.0.0.1", 5672)
REDIS = ("127.0.0.1", 6379)
NATS = ("127.0.0.1", 4222)


def port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def require_server(address: tuple[str, int], name: str) -> None:
    if not port_open(*address):
        pytest.skip(f"no {name} listening on {address[0]}:{address[1]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    return free_port()


def _binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def _wait_listening(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 10
    while not port_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            process.kill()
            raise RuntimeError(f"{what} did not start: {output[-2000:]}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Broker:
    host: str
    port: int
    username: str = ""
    password: str = ""
    token: str = ""


@contextlib.contextmanager
def mosquitto_with_password(
    root: Path, *, username: str = "ada", password: str = "s3cret-pw"
) -> Iterator[Broker]:
    """A second Mosquitto on a free port that accepts only `username` with `password`."""
    binary = _binary("mosquitto")
    passwd = _binary("mosquitto_passwd")
    port = free_port()
    passwords = root / "passwords"
    subprocess.run([passwd, "-b", "-c", str(passwords), username, password], check=True, capture_output=True)
    passwords.chmod(0o600)
    config = root / "mosquitto.conf"
    # As root, Mosquitto would switch to its own user, which cannot read a test's private directory.
    user = "user root\n" if os.geteuid() == 0 else ""
    config.write_text(
        f"{user}listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwords}\n"
        "persistence false\nlog_dest stdout\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process, "mosquitto")
        yield Broker("127.0.0.1", port, username, password)
    finally:
        _stop(process)


@contextlib.contextmanager
def nats_with_token(*, token: str = "nats-t0ken") -> Iterator[Broker]:
    """A nats-server on a free port that accepts only clients presenting `token`."""
    binary = _binary("nats-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "--auth", token],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(port, process, "nats-server")
        yield Broker("127.0.0.1", port, token=token)
    finally:
        _stop(process)


@contextlib.contextmanager
def nats_with_password(*, username: str = "ada", password: str = "nats-pw") -> Iterator[Broker]:
    """A nats-server on a free port that accepts only `username` with `password`."""
    binary = _binary("nats-server")
    port = free_port()
    process = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "--user", username, "--pass", password],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(port, process, "nats-server")
        yield Broker("127.0.0.1", port, username, password)
    finally:
        _stop(process)


def certificate_authority(root: Path, *, names: tuple[str, ...] = ("localhost",)) -> tuple[str, Path, Path]:
    """A test CA and a server certificate for `names` it signed: (CA PEM, certificate file, key file)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Flomation test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    ca_pem = ca.public_bytes(serialization.Encoding.PEM).decode()
    certificate, private = root / "server.pem", root / "server.key"
    certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    return ca_pem, certificate, private


@contextlib.contextmanager
def mosquitto_with_tls(root: Path) -> Iterator[tuple[Broker, str]]:
    """A Mosquitto on a free port that speaks only TLS, with a certificate for `localhost` from a test CA;
    yields the broker and the CA's PEM."""
    binary = _binary("mosquitto")
    port = free_port()
    ca_pem, certificate, key = certificate_authority(root)
    config = root / "mosquitto-tls.conf"
    user = "user root\n" if os.geteuid() == 0 else ""
    config.write_text(
        f"{user}listener {port} 127.0.0.1\ncertfile {certificate}\nkeyfile {key}\n"
        "allow_anonymous true\npersistence false\nlog_dest stdout\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process, "mosquitto")
        yield Broker("localhost", port), ca_pem
    finally:
        _stop(process)


def forget_session(client_id: str, port: int = MOSQUITTO[1]) -> None:
    """A clean MQTT connection with a persistent session's client id: the broker discards the session."""
    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        deadline = time.monotonic() + 5
        while not client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert client.is_connected(), "the broker did not accept the connection"
    finally:
        client.disconnect()
        client.loop_stop()


@contextlib.contextmanager
def nats_with_tls(root: Path) -> Iterator[tuple[Broker, str]]:
    """A nats-server on a free port that requires TLS, with a certificate for `localhost` from a test CA;
    yields the server and the CA's PEM."""
    binary = _binary("nats-server")
    port = free_port()
    ca_pem, certificate, key = certificate_authority(root)
    process = subprocess.Popen(
        [
            binary,
            "-a",
            "127.0.0.1",
            "-p",
            str(port),
            "--tls",
            "--tlscert",
            str(certificate),
            "--tlskey",
            str(key),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(port, process, "nats-server")
        yield Broker("localhost", port), ca_pem
    finally:
        _stop(process)
