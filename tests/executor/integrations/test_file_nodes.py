"""file/read and file/write in the run's workspace /work, shared with script nodes running in their kernel
sandbox (bubblewrap), and the ways out of /work that must fail."""

from __future__ import annotations

import base64

from conftest import chain, node, outputs_of, run

from flomation.executor import ExecutorSettings

QUIET = ExecutorSettings(log=lambda *a: None)


def go(*nodes):
    result, _ = run(chain(*nodes), settings=QUIET)
    return result


def py(node_id: str, code: str):
    return node(node_id, "script/python", {"code": code})


def bash(node_id: str, script: str):
    return node(node_id, "script/bash", {"script": script})


def read(node_id: str, path: str, **inputs):
    return node(node_id, "file/read", {"file_path": path, **inputs})


def write(node_id: str, path: str, content, **inputs):
    return node(node_id, "file/write", {"file_path": path, "content": content, **inputs})


def test_a_csv_a_python_script_writes_is_read_as_rows_a_later_node_uses():
    result = go(
        py(
            "s",
            "import csv, os\nos.makedirs('/work/out', exist_ok=True)\n"
            "w = csv.writer(open('/work/out/people.csv', 'w', newline=''))\n"
            "w.writerows([['name', 'age'], ['Ada', '36'], ['Alan', '41']])\nreturn 'ok'",
        ),
        read("r", "/work/out/people.csv", format="csv"),
        node("o", "output/set", {"name": "second", "value": "${r.data.1.name} is ${r.data.1.age}"}),
    )
    assert result.status == "succeeded", result.error
    out = outputs_of(result, "r")
    assert out["data"][0] == {"name": "Ada", "age": "36"}
    assert out["file_name"] == "people.csv" and out["file_path"] == "/work/out/people.csv"
    assert result.outputs == {"second": "Alan is 41"}


def test_a_file_written_by_the_node_is_read_and_changed_by_a_script():
    rows = [{"sku": "a", "qty": 2}, {"sku": "b", "qty": None}]
    result = go(
        write("w", "data/stock.csv", rows, format="csv"),
        py(
            "s",
            "rows = open('/work/data/stock.csv').read().splitlines()\n"
            "open('/work/data/stock.csv', 'a').write('c,9\\n')\nreturn rows",
        ),
        read("r", "data/stock.csv", format="csv"),
    )
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "s")["result"]["result"] == ["sku,qty", "a,2", "b,"]
    assert outputs_of(result, "r")["data"][-1] == {"sku": "c", "qty": "9"}
    assert outputs_of(result, "w")["file_size"] == len("sku,qty\na,2\nb,\n")


def test_json_text_and_base64_round_trip_and_modes():
    blob = bytes(range(256))
    result = go(
        write("j", "/work/a.json", {"k": [1, 2]}, format="json"),
        read("rj", "a.json", format="json"),
        write("b", "bin.dat", base64.b64encode(blob).decode(), format="base64"),
        read("rb", "./bin.dat", format="base64"),
        write("t1", "log.txt", "one\n"),
        write("t2", "log.txt", "two\n", mode="append"),
        read("rt", "log.txt"),
    )
    assert result.status == "succeeded", result.error
    assert outputs_of(result, "rj")["data"] == {"k": [1, 2]}
    assert base64.b64decode(outputs_of(result, "rb")["content"]) == blob
    assert outputs_of(result, "rt")["content"] == "one\ntwo\n"
    again = go(write("a", "x.txt", "1"), write("b", "x.txt", "2", mode="create"))
    assert again.status == "failed" and "already exists" in again.error


def test_paths_outside_the_workspace_are_refused():
    for path, message in [
        ("../etc/passwd", "must not contain '..'"),
        ("/work/../etc/passwd", "must not contain '..'"),
        ("/etc/passwd", "outside the run's workspace"),
        ("/work", "names the workspace itself"),
        ("missing.txt", "/work/missing.txt does not exist"),
    ]:
        result = go(read("r", path))
        assert result.status == "failed" and message in result.error, (path, result.error)
    result = go(write("w", "/tmp/escape.txt", "x"))
    assert result.status == "failed" and "outside the run's workspace" in result.error


def test_a_symlink_a_script_plants_is_never_followed(tmp_path):
    target = tmp_path / "host-file.txt"
    target.write_text("host secret")
    tmp_path.chmod(0o755)
    result = go(
        bash(
            "s", f"ln -s {target} /work/link.txt && mkdir /work/real && ln -s {tmp_path} /work/dir && echo ok"
        ),
        read("r", "/work/link.txt"),
    )
    assert result.status == "failed" and "symbolic link" in result.error and "host secret" not in result.error
    for step in (
        read("r", "dir/host-file.txt"),
        write("w", "link.txt", "overwritten"),
        write("w", "dir/host-file.txt", "overwritten"),
        write("w", "dir/new.txt", "x"),
    ):
        result = go(bash("s", f"ln -s {target} /work/link.txt; ln -s {tmp_path} /work/dir; echo ok"), step)
        assert result.status == "failed" and "symbolic link" in result.error, result.error
    assert target.read_text() == "host secret"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["host-file.txt"]


def test_a_file_past_the_size_cap_is_refused_and_a_fifo_does_not_hang():
    result = go(
        bash("s", "head -c 6000000 /dev/zero > /work/big.bin && mkfifo /work/pipe"), read("r", "big.bin")
    )
    assert result.status == "failed" and "file/read reads at most 5242880" in result.error
    result = go(bash("s", "mkfifo /work/pipe"), read("r", "pipe"))
    assert result.status == "failed" and "not a regular file" in result.error
    result = go(bash("s", "mkfifo /work/pipe"), write("w", "pipe", "x"))
    assert result.status == "failed" and "not a regular file" in result.error


def test_bad_content_is_named():
    assert "not valid base64" in go(write("w", "a.bin", "***", format="base64")).error
    assert "array of objects or of arrays" in go(write("w", "a.csv", 5, format="csv")).error
    result = go(
        write("w", "a.bin", base64.b64encode(b"\xff\xfe").decode(), format="base64"), read("r", "a.bin")
    )
    assert "is not utf-8 text: read it with format base64" in result.error
