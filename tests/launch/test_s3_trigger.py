"""trigger/s3 against moto's S3 server: one execution per new object, across poll cycles, under the cursor
the launch loop keeps; a wrong secret shows on the trigger without the secret."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from flomation.launch.services.timed import poller_run, timed_trigger_run
from tests.executor.integrations.servers import moto_s3
from tests.launch.conftest import trigger_node

NOW = datetime(2030, 1, 1, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("local_servers_allowed")


@pytest.fixture(scope="module")
def store():
    with moto_s3() as server:
        yield server


@pytest.fixture
def bucket(store):
    name = f"inbox-{uuid.uuid4().hex[:10]}"
    store.client().create_bucket(Bucket=name)
    return name


def inputs(store, bucket, **extra):
    return {**store.fields, "bucket": bucket, "prefix": "incoming/", "interval": 30, **extra}


def test_each_new_object_starts_one_run_across_poll_cycles(world, store, bucket):
    s3 = store.client()
    s3.put_object(Bucket=bucket, Key="incoming/old.csv", Body=b"old")
    s3.put_object(Bucket=bucket, Key="elsewhere/skip.csv", Body=b"x")
    world.deploy(trigger_node("trigger/s3", inputs(store, bucket)))
    assert world.trigger().kind == "s3" and "secret_access_key" not in world.trigger().config
    assert poller_run(trigger=world.trigger(), now=NOW) == 0  # what is there already is not news
    s3.put_object(Bucket=bucket, Key="incoming/a.csv", Body=b"aaa")
    s3.put_object(Bucket=bucket, Key="incoming/b.csv", Body=b"b")
    assert poller_run(trigger=world.trigger(), now=NOW + timedelta(seconds=30)) == 2
    assert poller_run(trigger=world.trigger(), now=NOW + timedelta(seconds=60)) == 0  # nothing new
    s3.put_object(Bucket=bucket, Key="incoming/c.csv", Body=b"cc")
    assert poller_run(trigger=world.trigger(), now=NOW + timedelta(seconds=90)) == 1
    runs = sorted(world.executions(), key=lambda e: e.trigger_data["key"])
    assert [e.trigger_data["key"] for e in runs] == ["incoming/a.csv", "incoming/b.csv", "incoming/c.csv"]
    assert runs[0].trigger_data["size"] == 3 and runs[0].trigger_data["bucket"] == bucket


def test_a_replaced_object_is_new_again_and_include_existing_starts_for_what_is_there(world, store, bucket):
    s3 = store.client()
    s3.put_object(Bucket=bucket, Key="incoming/report.csv", Body=b"v1")
    world.deploy(trigger_node("trigger/s3", inputs(store, bucket, include_existing=True, batch_size=10)))
    assert poller_run(trigger=world.trigger(), now=NOW) == 1
    s3.put_object(Bucket=bucket, Key="incoming/report.csv", Body=b"version 2")
    assert poller_run(trigger=world.trigger(), now=NOW + timedelta(seconds=30)) == 1
    assert sorted(e.trigger_data["size"] for e in world.executions()) == [2, 9]


def test_a_wrong_secret_shows_on_the_trigger_without_the_secret(world, store, bucket):
    world.deploy(trigger_node("trigger/s3", inputs(store, bucket, secret_access_key="wrong-secret-42")))
    assert timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW) is False
    error = world.trigger().last_error
    assert "authentication failed" in error and "wrong-secret-42" not in error


def test_an_unreachable_endpoint_and_a_refused_one_show_on_the_trigger(world, store, bucket, settings):
    from tests.launch.servers import free_port

    world.deploy(
        trigger_node("trigger/s3", inputs(store, bucket, endpoint_url=f"http://127.0.0.1:{free_port()}"))
    )
    assert timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW) is False
    assert "could not connect" in world.trigger().last_error
    settings.EGRESS_ALLOW = []
    world.deploy(trigger_node("trigger/s3", inputs(store, bucket)))
    assert timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW + timedelta(minutes=5)) is False
    assert world.trigger().last_error.startswith("egress refused")


def test_a_trigger_without_a_bucket_cannot_be_deployed(world, store):
    from flomation.core.services.errors import FlowInvalid

    with pytest.raises(FlowInvalid):
        world.deploy(trigger_node("trigger/s3", {**store.fields, "bucket": ""}))


def test_a_trigger_can_use_a_stored_connection_of_its_environment(world, store, bucket):
    from flomation.core.services.connections import connection_create

    connection_create(organisation=world.organisation, name="archive", type="s3", fields=store.fields)
    world.deploy(
        trigger_node("trigger/s3", {"connection": "archive", "bucket": bucket, "prefix": "incoming/"})
    )
    assert "secret_access_key" not in str(world.trigger().config)
    assert poller_run(trigger=world.trigger(), now=NOW) == 0
    store.client().put_object(Bucket=bucket, Key="incoming/new.csv", Body=b"n")
    assert poller_run(trigger=world.trigger(), now=NOW + timedelta(seconds=30)) == 1
    assert world.executions()[0].trigger_data["key"] == "incoming/new.csv"


def test_a_missing_or_mistyped_connection_shows_on_the_trigger(world, store, bucket):
    from flomation.core.services.connections import connection_create

    connection_create(
        organisation=world.organisation,
        name="broker",
        type="mqtt",
        fields={"host": "127.0.0.1", "port": 1883},
    )
    for name, expected in (("nowhere", "does not exist"), ("broker", "is a mqtt connection")):
        world.deploy(trigger_node("trigger/s3", {"connection": name, "bucket": bucket}))
        assert timed_trigger_run(trigger=world.trigger(), owner="a", now=NOW) is False
        assert expected in world.trigger().last_error
