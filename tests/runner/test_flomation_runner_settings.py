"""A runner set up as Flomation's: its Docker entrypoint's variables, and mutual TLS (MTLS_*) where the
runner presents a client certificate that a TLS server requiring one accepts."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from flomation.runner.client import PROTOCOL_PREFIX, ApiClient, ApiUnavailable
from flomation.runner.config import ClientTls, ConfigError, load_config
from tests.support.http import QuietHandler, serving


@pytest.fixture(autouse=True)
def _no_config_json_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # load_config(None) reads ./config.json when there is one


def test_the_docker_entrypoints_variables_configure_the_runner(tmp_path):
    environ = {"RUNNER_NAME": "My Runner", "RUNNER_URL": "https://api.example.com", "RUNNER_REGISTRATION_CODE": "code",
               "RUNNER_CHECKIN_TIMEOUT": "7", "EXECUTOR_MAX_CONCURRENT": "3", "EXECUTOR_DIRECTORY": "/home/flomation/workspace/",
               "EXECUTOR_DOWNLOAD_ON_START": "true"}  # fmt: skip
    config = load_config(None, environ=environ)
    assert (config.name, config.api_url, config.registration_code) == (
        "My Runner",
        "https://api.example.com",
        "code",
    )
    assert (config.checkin_timeout, config.max_concurrent_executors) == (7.0, 3)
    assert str(config.workspace_root) == "/home/flomation/workspace"


def test_our_variables_win_over_the_docker_entrypoints(caplog):
    config = load_config(
        None,
        environ={"RUNNER_URL": "https://docker.example.com", "FLOMATION_API": "https://ours.example.com"},
    )
    assert config.api_url == "https://ours.example.com"
    assert "FLOMATION_API is set, so RUNNER_URL is ignored" in caplog.text


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path
    stranger_key: Path


def _key_and_cert(
    name: str,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    server: bool = False,
    ca: bool = False,
):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )  # fmt: skip
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
    return key, builder.sign(issuer_key, hashes.SHA256())


def _write(directory: Path, name: str, key, cert) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.fixture
def pki(tmp_path) -> Pki:
    ca_key, ca_cert = _key_and_cert("Flomation test CA", None, ca=True)
    issuer = (ca_cert.subject, ca_key)
    server = _write(tmp_path, "server", *_key_and_cert("api", issuer, server=True))
    client = _write(tmp_path, "client", *_key_and_cert("runner-01", issuer))
    other_key, other_cert = _key_and_cert("stranger", None)  # self-signed: not from the CA
    stranger = _write(tmp_path, "stranger", other_key, other_cert)
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return Pki(ca_path, *server, *client, *stranger)


class _Api(QuietHandler):
    seen: list[tuple[str, str, str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        peer = self.connection.getpeercert()
        common_name = dict(item[0] for item in peer["subject"])["commonName"]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Api.seen.append(("POST", self.path, common_name, body))
        self.reply(201, json.dumps({"runner_id": "r-1"}).encode())


@pytest.fixture
def mtls_api(pki) -> Iterator[str]:
    """An HTTPS server on loopback that requires a client certificate issued by the test CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(pki.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    _Api.seen = []
    with serving(_Api, wrap=lambda sock: context.wrap_socket(sock, server_side=True)) as server:
        yield f"https://127.0.0.1:{server.server_address[1]}"


def test_with_mtls_enabled_the_runner_presents_its_certificate_to_the_mtls_api_url(pki, mtls_api):
    environ = {"FLOMATION_API": "https://api.example.com", "MTLS_ENABLED": "true", "MTLS_CA_CERT": str(pki.ca),
               "MTLS_CERT": str(pki.client_cert), "MTLS_KEY": str(pki.client_key), "MTLS_API_URL": mtls_api}  # fmt: skip
    config = load_config(None, environ=environ)
    assert config.api_url == mtls_api
    assert config.tls == ClientTls(cert=str(pki.client_cert), key=str(pki.client_key), ca=str(pki.ca))
    answer = ApiClient(config.api_url, tls=config.tls).register(
        {"registration_code": "code", "name": "runner-01"}
    )
    assert answer == {"runner_id": "r-1"}
    assert _Api.seen == [
        (
            "POST",
            f"{PROTOCOL_PREFIX}/register",
            "runner-01",
            {"registration_code": "code", "name": "runner-01"},
        )
    ]


@pytest.mark.parametrize("who", ["nobody", "stranger"])
def test_a_runner_without_a_certificate_from_the_ca_is_turned_away(pki, mtls_api, who):
    tls = (
        None
        if who == "nobody"
        else ClientTls(cert=str(pki.stranger_cert), key=str(pki.stranger_key), ca=str(pki.ca))
    )
    client = ApiClient(mtls_api, tls=tls)
    if tls is None:
        client.session.verify = str(pki.ca)
    with pytest.raises(ApiUnavailable):
        client.register({"registration_code": "code"})
    assert _Api.seen == []


def test_mtls_enabled_without_a_certificate_or_with_an_unreadable_one_stops_start_up(tmp_path):
    with pytest.raises(ConfigError, match="MTLS_CERT"):
        load_config(None, environ={"FLOMATION_API": "https://a.example.com", "MTLS_ENABLED": "true"})
    missing = str(tmp_path / "nope.crt")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(None, environ={"FLOMATION_API": "https://a.example.com", "MTLS_ENABLED": "1", "MTLS_CERT": missing,
                                   "MTLS_KEY": missing})  # fmt: skip


def test_the_tls_section_of_flomations_config_json_is_read(pki, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({
        "runner": {"url": "https://api.example.com"},
        "tls": {"enabled": True, "ca_cert": str(pki.ca), "cert": str(pki.client_cert), "key": str(pki.client_key),
                "api_url": "https://mtls.example.com/"},
    }))  # fmt: skip
    config = load_config(path, environ={})
    assert config.api_url == "https://mtls.example.com" and config.tls is not None
    assert load_config(path, environ={"MTLS_ENABLED": "false"}).tls is None


def test_every_runner_variable_is_documented_in_the_example_environment():
    from flomation.runner.config import DOCKER_IGNORED, ENVIRONMENT_VARIABLES
    from tests.runner.conftest import ROOT

    documented = (ROOT / ".env.example").read_text()
    assert [
        name for name in (*ENVIRONMENT_VARIABLES, *DOCKER_IGNORED) if f"\n{name}=" not in documented
    ] == []


def test_a_warm_executor_process_reaches_the_api_with_the_runners_client_certificate(pki, mtls_api, tmp_path):
    from flomation.runner import warm

    environ = {"FLOMATION_API": mtls_api, "MTLS_ENABLED": "true", "MTLS_CA_CERT": str(pki.ca),
               "MTLS_CERT": str(pki.client_cert), "MTLS_KEY": str(pki.client_key),
               "FLOMATION_RUNNER_STATE_DIRECTORY": str(tmp_path)}  # fmt: skip
    config = load_config(None, environ=environ)
    client = warm._api_client(
        *warm.warm_api(config, "r-1")
    )  # what the warm process builds from its arguments
    assert client.register({"name": "warm"}) == {"runner_id": "r-1"}
    assert _Api.seen[-1][2] == "runner-01"
