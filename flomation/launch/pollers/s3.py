"""`trigger/s3`: new objects under a prefix of an S3 (or S3-compatible) bucket, one execution per object.

Inputs: `bucket`, `prefix`, `access_key_id`, `secret_access_key` (secret), `region`, `endpoint_url`,
`batch_size` (default 100), `include_existing` (default false: the first poll remembers what is there and
starts nothing), `interval`/`unit`.

S3 lists keys in key order, not by time, so each poll lists the prefix (up to MAX_LISTED objects) and picks
the objects modified after the cursor's time, plus those modified within LOOKBACK before it that the cursor
has not seen (an upload that began before the last poll can appear after it with an older time). The cursor
keeps that time and the keys (with their ETag) seen within the window; each object's event carries the key
`s3:<bucket>/<key>@<etag>`, so an object starts one execution even if two polls see it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flomation.launch.config import as_bool, as_int, first
from flomation.launch.models import Trigger
from flomation.launch.pollers import (
    PollError,
    PollEvent,
    PollInputInvalid,
    PollResult,
    egress_policy_for,
    stored_connection_fields,
)

MAX_LISTED = 100_000
LOOKBACK = timedelta(minutes=5)
TIMEOUT = 30.0


def s3_source(config: dict[str, Any], secrets: dict[str, Any]) -> tuple[str, str]:
    """The (bucket, prefix) an S3 trigger watches; raises PollInputInvalid when it can never be polled."""
    bucket = str(first(config, "bucket", default="") or "").strip()
    if not bucket:
        raise PollInputInvalid("set the bucket to watch", field="bucket")
    endpoint = str(config.get("endpoint_url") or "").strip()
    if endpoint and not endpoint.lower().startswith(("http://", "https://")):
        raise PollInputInvalid("the endpoint URL must start with http:// or https://", field="endpoint_url")
    return bucket, str(config.get("prefix") or "")


def _fields(config: dict[str, Any], secrets: dict[str, Any]) -> dict[str, Any]:
    return {
        "access_key_id": first(config, "access_key_id", default="") or secrets.get("access_key_id", ""),
        "secret_access_key": secrets.get("secret_access_key") or "",
        "region": first(config, "region", default="us-east-1"),
        "endpoint_url": first(config, "endpoint_url", default=""),
    }


def _seen_key(item: dict[str, Any]) -> str:
    return f"{item['Key']}@{str(item.get('ETag') or '').strip(chr(34))}"


class S3Poller:
    def poll(
        self, *, trigger: Trigger, config: dict[str, Any], secrets: dict[str, Any], cursor: Any, now: datetime
    ) -> PollResult:
        from botocore.exceptions import BotoCoreError, ClientError

        from flomation.lib.connections import ConnectionFailed
        from flomation.lib.connections.s3 import failure, s3_client
        from flomation.lib.egress import EgressDenied

        bucket, prefix = s3_source(config, secrets)
        batch = as_int(config.get("batch_size"), 100, minimum=1, maximum=1000)
        try:
            fields = stored_connection_fields(trigger, config, "s3", _fields(config, secrets))
            client = s3_client(fields, egress_policy_for(trigger), TIMEOUT)
            listed = self._list(client, bucket, prefix)
        except ConnectionFailed as error:
            raise PollError(str(error)) from None
        except (ClientError, BotoCoreError) as error:
            refused = getattr(error, "kwargs", {}).get("error")
            if isinstance(refused, EgressDenied):
                raise refused from None
            raise PollError(failure(error, what=f"listing bucket {bucket}")) from None
        listed.sort(key=lambda item: (item["LastModified"], item["Key"]))
        if cursor is None and not as_bool(config.get("include_existing")):
            return PollResult(cursor=self._cursor(listed, None, []))
        since = datetime.fromisoformat(cursor["since"]) if cursor and cursor.get("since") else None
        seen = set((cursor or {}).get("seen") or [])
        new = [
            item
            for item in listed
            if since is None
            or item["LastModified"] > since
            or (item["LastModified"] >= since - LOOKBACK and _seen_key(item) not in seen)
        ]
        new = [item for item in new if _seen_key(item) not in seen][:batch]
        events = [
            PollEvent(
                data={
                    "bucket": bucket,
                    "key": item["Key"],
                    "size": int(item.get("Size") or 0),
                    "etag": str(item.get("ETag") or "").strip('"'),
                    "last_modified": item["LastModified"].isoformat(),
                },
                key=f"s3:{bucket}/{_seen_key(item)}",
            )
            for item in new
        ]
        return PollResult(cursor=self._cursor(listed, since, [*seen, *map(_seen_key, new)]), events=events)

    def _list(self, client: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found += page.get("Contents", [])
            if len(found) >= MAX_LISTED:
                raise PollError(
                    f"more than {MAX_LISTED} objects under the prefix: watch a narrower prefix "
                    "(move processed objects elsewhere)"
                )
        return found

    @staticmethod
    def _cursor(listed: list[dict[str, Any]], since: datetime | None, seen: list[str]) -> dict[str, Any]:
        """The latest time among the objects counted as seen, and the keys seen within LOOKBACK of it."""
        seen_set = set(seen) if since is not None or seen else {_seen_key(item) for item in listed}
        times = [item["LastModified"] for item in listed if _seen_key(item) in seen_set]
        latest = max([*times, *([since] if since else [])], default=None)
        if latest is None:
            return {"since": None, "seen": []}
        window = {
            _seen_key(item)
            for item in listed
            if _seen_key(item) in seen_set and item["LastModified"] >= latest - LOOKBACK
        }
        return {"since": latest.isoformat(), "seen": sorted(window)}
