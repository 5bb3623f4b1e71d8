"""ssh/run and SFTP against Debian's OpenSSH server, started by the test on a free port."""

from __future__ import annotations

import os

import pytest
from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings
from flomation.executor.providers import StaticSecrets
from flomation.lib.egress import EgressPolicy
from tests.executor.integrations.servers import closed_port, sshd


@pytest.fixture(scope="module")
def server():
    with sshd() as running:
        yield running


def inline(server, **extra):
    return {**server.fields, **extra}


def test_a_command_runs_with_a_key_and_a_later_node_reads_its_output(server):
    result, _ = run(
        chain(
            node("s", "ssh/run", inline(server, command="cat; echo oops >&2; exit 3", stdin="from stdin")),
            node("o", "output/set", {"name": "said", "value": "${s.stdout} / ${s.exit_code}"}),
        )
    )
    out = outputs_of(result, "s")
    assert out["stdout"] == "from stdin" and out["stderr"] == "oops\n" and out["exit_code"] == 3
    assert out["success"] is False and out["host_key_fingerprint"] == server.host_fingerprint
    assert result.outputs == {"said": "from stdin / 3"}


def test_a_password_logs_in_and_is_masked_in_events(server):
    fields = {k: v for k, v in server.fields.items() if k != "private_key"}
    result, recorder = run(
        chain(node("n", "ssh/run", {**fields, "password": server.password, "command": "id -un"}))
    )
    assert result.status == "succeeded"
    assert outputs_of(result)["stdout"].strip() == server.user
    assert server.password not in repr(recorder.events)


def test_a_stored_connection_is_used(server):
    secrets = StaticSecrets(connections={"box": {"type": "ssh", "fields": dict(server.fields)}})
    result, recorder = run(
        chain(node("n", "ssh/run", {"connection": "box", "command": "echo stored"})), secrets=secrets
    )
    assert outputs_of(result)["stdout"] == "stored\n"
    assert "PRIVATE KEY" not in repr(recorder.events)


def test_a_wrong_key_or_password_fails_naming_authentication(server):
    wrong_key = inline(server, private_key=server.other_key, command="true")
    result, _ = run(chain(node("n", "ssh/run", wrong_key)))
    assert result.status == "failed" and "authentication failed for user" in result.error
    fields = {k: v for k, v in server.fields.items() if k != "private_key"}
    result, _ = run(chain(node("n", "ssh/run", {**fields, "password": "not-it-x9", "command": "true"})))
    assert "authentication failed" in result.error and "not-it-x9" not in result.error


def test_an_unknown_host_key_is_refused_unless_trusted_on_first_use(server):
    fields = inline(server, command="echo hi", host_key_fingerprint="")
    result, _ = run(chain(node("n", "ssh/run", fields)))
    assert result.status == "failed" and "is not known" in result.error
    assert server.host_fingerprint in result.error  # so it can be checked and pinned
    result, _ = run(chain(node("n", "ssh/run", {**fields, "trust_on_first_use": True})))
    assert outputs_of(result)["host_key_fingerprint"] == server.host_fingerprint


def test_a_different_pinned_fingerprint_is_refused_before_logging_in(server):
    fields = inline(server, command="true", host_key_fingerprint="SHA256:" + "A" * 43)
    result, _ = run(chain(node("n", "ssh/run", fields)))
    assert result.status == "failed" and "does not match host_key_fingerprint" in result.error


def test_an_unreachable_host_and_a_refused_address_fail_clearly(server):
    result, _ = run(chain(node("n", "ssh/run", inline(server, port=closed_port(), command="true"))))
    assert result.status == "failed" and "refused the connection" in result.error
    strict = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy())
    result, _ = run(chain(node("n", "ssh/run", inline(server, command="true"))), settings=strict)
    assert result.status == "failed" and "egress refused" in result.error


def test_a_command_that_runs_too_long_is_stopped(server):
    result, _ = run(chain(node("n", "ssh/run", inline(server, command="sleep 20", timeout=1))))
    assert result.status == "failed" and "did not finish within 1 s" in result.error


def test_a_server_that_never_answers_times_out(server):
    import socket

    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        fields = inline(server, port=silent.getsockname()[1], command="true", timeout=1)
        result, _ = run(chain(node("n", "ssh/run", fields)))
    assert result.status == "failed" and "in time" in result.error


def test_a_file_goes_up_and_comes_back_through_the_workspace(server, tmp_path):
    remote = f"/tmp/flomation-sftp-{os.getpid()}.txt"
    settings = ExecutorSettings(log=lambda *a: None, egress=EgressPolicy.build(allow=["127.0.0.0/8"]),
                                script_workspace_root=str(tmp_path))  # fmt: skip
    flow = chain(
        node(
            "w",
            "script/python",
            {"code": "import os\nos.makedirs('/work/out')\nopen('/work/out/report.txt','w').write('totals')"},
        ),
        node("up", "filetransfer/upload", inline(server, local_path="out/report.txt", remote_path=remote)),
        node(
            "down",
            "filetransfer/download",
            inline(server, remote_path=remote, local_path="/work/back/copy.txt"),
        ),
        node("r", "script/python", {"code": "return {'text': open('/work/back/copy.txt').read()}"}),
        node("o", "output/set", {"name": "size", "value": "${up.size}:${down.local_path}"}),
    )
    try:
        result, _ = run(flow, settings=settings)
    finally:
        if os.path.exists(remote):
            os.unlink(remote)
    assert result.status == "succeeded", result.error
    assert result.outputs == {"size": "6:/work/back/copy.txt"}
    assert outputs_of(result, "r")["result"] == {"text": "totals"}


def test_a_workspace_path_outside_work_is_refused(server):
    result, _ = run(
        chain(node("n", "filetransfer/upload", inline(server, local_path="../etc/passwd", remote_path="x")))
    )
    assert result.status == "failed" and "'..'" in result.error
    result, _ = run(
        chain(node("n", "filetransfer/upload", inline(server, local_path="/etc/passwd", remote_path="x")))
    )
    assert result.status == "failed" and "workspace" in result.error


def test_a_missing_remote_file_fails_naming_it(server):
    fields = inline(server, remote_path="/nonexistent/file", local_path="x.txt")
    result, _ = run(chain(node("n", "filetransfer/download", fields)))
    assert result.status == "failed" and "could not send /nonexistent/file" in result.error
