"""The ssh, git and s3 connection types' `test`: a real login with a good and a bad credential."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from flomation.lib import connections
from flomation.lib.connections import ConnectionFailed
from flomation.lib.egress import EgressDenied, EgressPolicy
from tests.executor.integrations.servers import bare_repository, closed_port, sshd

LOOPBACK = EgressPolicy.build(allow=["127.0.0.0/8"])


def test_the_types_are_found_with_their_secret_fields():
    found = connections.types()
    assert {"ssh", "git", "s3"} <= set(found)
    secret = {f.name for f in found["ssh"].FIELDS if f.secret}
    assert secret == {"password", "private_key", "passphrase"}
    assert {f.name for f in found["git"].FIELDS if f.secret} == {"token", "ssh_private_key"}


@pytest.fixture(scope="module")
def server():
    with sshd() as running:
        yield running


class TestSsh:
    def test_a_key_logs_in_and_names_the_host_key(self, server):
        message = connections.get("ssh").test(dict(server.fields), LOOPBACK, 10)
        assert server.user in message and server.host_fingerprint in message

    def test_a_password_logs_in(self, server):
        fields = {**server.fields, "private_key": "", "password": server.password}
        assert "logged in" in connections.get("ssh").test(fields, LOOPBACK, 10)

    def test_a_bad_credential_says_authentication_failed_without_the_secret(self, server):
        fields = {**server.fields, "private_key": "", "password": "wrong-pass-77"}
        with pytest.raises(ConnectionFailed, match="authentication failed") as caught:
            connections.get("ssh").test(fields, LOOPBACK, 10)
        assert "wrong-pass-77" not in str(caught.value)

    def test_an_unreachable_port_and_a_refused_address(self, server):
        with pytest.raises(ConnectionFailed, match="refused the connection"):
            connections.get("ssh").test({**server.fields, "port": closed_port()}, LOOPBACK, 5)
        with pytest.raises(EgressDenied):
            connections.get("ssh").test(dict(server.fields), EgressPolicy(), 5)


@pytest.fixture(scope="module")
def repository(server):
    owner = int(subprocess.run(["id", "-u", server.user], capture_output=True, text=True).stdout)
    bare = bare_repository(Path(server.home), f"conn-{os.getpid()}.git", owner=owner)
    yield f"ssh://{server.user}@127.0.0.1:{server.port}{bare}"
    shutil.rmtree(bare, ignore_errors=True)


class TestGit:
    def test_an_ssh_key_lists_the_repository(self, server, repository):
        fields = {"url_prefix": repository, "ssh_private_key": server.private_key,
                  "host_key_fingerprint": server.host_fingerprint}  # fmt: skip
        assert "HEAD at" in connections.get("git").test(fields, LOOPBACK, 30)

    def test_a_wrong_key_fails_with_authentication(self, server, repository):
        fields = {"url_prefix": repository, "ssh_private_key": server.other_key,
                  "host_key_fingerprint": server.host_fingerprint}  # fmt: skip
        with pytest.raises(ConnectionFailed, match="authentication failed"):
            connections.get("git").test(fields, LOOPBACK, 30)

    def test_a_local_repository_needs_local_access_allowed(self):
        root = Path(tempfile.mkdtemp())
        try:
            bare = bare_repository(root)
            fields = {"url_prefix": f"file://{bare}"}
            assert "HEAD at" in connections.get("git").test(fields, EgressPolicy.build(allow_local=True), 30)
            with pytest.raises((ConnectionFailed, EgressDenied)):
                connections.get("git").test(fields, EgressPolicy(), 30)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def test_every_input_of_the_remote_nodes_is_described_and_credentials_name_their_type():
    from flomation.executor.registry import manifest

    actions = ("git/", "ssh/", "filetransfer/", "aws/s3/", "trigger/s3")
    entries = [e for e in manifest()["nodes"] if e["action"].startswith(actions)]
    assert len(entries) >= 12
    for entry in entries:
        for item in entry["inputs"]:
            assert item["description"], f"{entry['action']}: input {item['name']} has no description"
            if item["type"] == "connection":
                assert item["connection"] in ("git", "ssh", "s3")


class TestS3:
    @pytest.fixture(scope="class")
    @staticmethod
    def store():
        from tests.executor.integrations.servers import moto_s3

        with moto_s3() as server:
            server.client().create_bucket(Bucket="conn-test")
            yield server

    def test_good_keys_list_the_bucket(self, store):
        fields = {**store.fields, "bucket": "conn-test"}
        assert connections.get("s3").test(fields, LOOPBACK, 10) == "listed bucket conn-test"
        assert "bucket(s) visible" in connections.get("s3").test(dict(store.fields), LOOPBACK, 10)

    def test_a_wrong_secret_fails_as_authentication(self, store):
        fields = {**store.fields, "secret_access_key": "nope-nope-1"}
        with pytest.raises(ConnectionFailed, match="authentication failed") as caught:
            connections.get("s3").test(fields, LOOPBACK, 10)
        assert "nope-nope-1" not in str(caught.value)

    def test_a_refused_endpoint(self, store):
        with pytest.raises(EgressDenied):
            connections.get("s3").test(dict(store.fields), EgressPolicy(), 5)
