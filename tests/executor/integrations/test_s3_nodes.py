"""aws/s3/* against moto's S3 server (started by the test, enforcing signatures)."""

from __future__ import annotations

import base64
import dataclasses
import uuid

import pytest
from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.executor.providers import StaticSecrets
from flomation.lib.egress import EgressDenied, EgressPolicy
from tests.executor.integrations.servers import closed_port, moto_s3


@pytest.fixture(scope="module")
def store():
    with moto_s3() as server:
        yield server


@pytest.fixture
def bucket(store):
    name = f"flows-{uuid.uuid4().hex[:10]}"
    store.client().create_bucket(Bucket=name)
    return name


def creds(store, bucket, **extra):
    return {**store.fields, "bucket": bucket, **extra}


def test_put_list_get_and_delete_with_a_later_node_reading_the_result(store, bucket):
    flow = chain(
        node("p", "aws/s3/put", creds(store, bucket, key="reports/a.json", content='{"total": 12}')),
        node(
            "p2",
            "aws/s3/put",
            creds(
                store,
                bucket,
                key="reports/b.bin",
                content=base64.b64encode(b"\x00\x01").decode(),
                encoding="base64",
            ),
        ),  # fmt: skip
        node("l", "aws/s3/list", creds(store, bucket, prefix="reports/")),
        node("g", "aws/s3/get", creds(store, bucket, key="${l.keys.0}", encoding="json")),
        node("d", "aws/s3/delete", creds(store, bucket, key="reports/b.bin")),
        node("o", "output/set", {"name": "total", "value": "${g.content.total}"}),
    )
    result, recorder = run(flow)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "l")["keys"] == ["reports/a.json", "reports/b.bin"]
    assert outputs_of(result, "g")["content_type"] == "application/json"
    assert result.outputs == {"total": 12}
    assert [o["Key"] for o in store.client().list_objects_v2(Bucket=bucket)["Contents"]] == ["reports/a.json"]
    assert store.secret_access_key not in repr(recorder.events)


def test_files_go_between_the_workspace_and_the_store(store, bucket, tmp_path):
    settings = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy.build(allow=["127.0.0.0/8"]),
                                script_workspace_root=str(tmp_path))  # fmt: skip
    flow = chain(
        node("w", "script/python", {"code": "open('/work/in.csv','w').write('a,b\\n1,2\\n')"}),
        node("p", "aws/s3/put", creds(store, bucket, key="in.csv", local_path="/work/in.csv")),
        node("g", "aws/s3/get", creds(store, bucket, key="in.csv", local_path="copy/out.csv")),
        node("r", "script/python", {"code": "return {'text': open('/work/copy/out.csv').read()}"}),
    )
    result, _ = run(flow, settings=settings)
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "r")["result"] == {"text": "a,b\n1,2\n"}
    assert (
        outputs_of(result, "p")["size"] == 8 and outputs_of(result, "g")["local_path"] == "/work/copy/out.csv"
    )


def test_a_stored_connection_is_used(store, bucket):
    secrets = StaticSecrets(
        connections={"archive": {"type": "s3", "fields": {**store.fields, "bucket": bucket}}}
    )
    flow = chain(
        node("p", "aws/s3/put", {"connection": "archive", "key": "x.txt", "content": "stored"}),
        node("g", "aws/s3/get", {"connection": "archive", "key": "x.txt"}),
    )
    result, recorder = run(flow, secrets=secrets)
    assert outputs_of(result, "g")["content"] == "stored"
    assert store.secret_access_key not in repr(recorder.events)


def test_a_wrong_secret_key_fails_as_authentication(store, bucket):
    result, _ = run(
        chain(node("n", "aws/s3/list", creds(store, bucket, secret_access_key="wrong-secret-123")))
    )
    assert result.status == "failed" and "authentication failed" in result.error
    assert "wrong-secret-123" not in result.error


def test_a_missing_object_and_bucket_say_so(store, bucket):
    result, _ = run(chain(node("n", "aws/s3/get", creds(store, bucket, key="nope.txt"))))
    assert result.status == "failed" and "does not exist" in result.error
    result, _ = run(chain(node("n", "aws/s3/list", creds(store, "no-such-bucket-here"))))
    assert result.status == "failed" and "bucket does not exist" in result.error


def test_an_unreachable_endpoint_and_a_refused_one(store, bucket):
    dead = creds(store, bucket, endpoint_url=f"http://127.0.0.1:{closed_port()}")
    result, _ = run(chain(node("n", "aws/s3/list", dead)))
    assert result.status == "failed" and "could not connect" in result.error
    strict = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy())
    result, _ = run(chain(node("n", "aws/s3/list", creds(store, bucket))), settings=strict)
    assert result.status == "failed" and "egress refused" in result.error


@dataclasses.dataclass(frozen=True)
class Rebinding(EgressPolicy):
    """Allows a host at the first check only, as a DNS answer that changes after it would."""

    calls: list = dataclasses.field(default_factory=list, compare=False)

    def check_host(self, host, port):
        self.calls.append(host)
        if len(self.calls) > 1:
            raise EgressDenied(host, "a loopback address")
        return super().check_host(host, port)


def test_every_connection_the_client_opens_is_checked_again():
    from flomation.lib.connections.s3 import s3_client

    with moto_s3() as server:
        policy = Rebinding(allow=EgressPolicy.build(allow=["127.0.0.0/8"]).allow)
        client = s3_client(server.fields, policy, 5)
        with pytest.raises(Exception) as caught:
            client.list_buckets()
        assert isinstance(getattr(caught.value, "kwargs", {}).get("error"), EgressDenied) or isinstance(
            caught.value, EgressDenied
        )
        assert len(policy.calls) >= 2  # the endpoint's check, then each connection's own
