"""S3 and S3-compatible object stores (MinIO, Ceph, R2, ...): an access key and its secret. No Django.

`s3_client` is shared by the aws/s3/* nodes, the S3 trigger's poller and `test`. boto3 offers no public way
to hand it a connection, so the client's own connection pools are given the egress policy's pinned
connection class (the one `web/request` uses): every connection it opens, to the endpoint or to a
virtual-hosted bucket name, is resolved, checked and made to a checked address, while TLS still verifies the
name. Proxies from the environment are not used (a proxy would connect past the check).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "s3"
LABEL = "Amazon S3 (or S3-compatible)"
FIELDS = (
    Field("access_key_id", required=True, description="The access key id."),
    Field("secret_access_key", "secret", required=True, description="The secret access key."),
    Field("region", default="us-east-1", description="The region (S3-compatible stores often take any)."),
    Field(
        "endpoint_url",
        description="For an S3-compatible store: its URL (https://minio.example.com:9000); empty for AWS.",
    ),
    Field("bucket", description="A default bucket; Test lists it (else it lists the account's buckets)."),
)

_AUTH_CODES = frozenset(
    {"SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidClientTokenId", "AuthFailure", "InvalidToken"}
)


def s3_client(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> Any:
    """A boto3 S3 client for the fields, its connections under `policy`. Raises EgressDenied for a
    refused endpoint, ConnectionFailed for a malformed one or missing keys."""
    import boto3
    from botocore.config import Config

    from flomation.lib.egress.http import HTTP_SCHEMES

    key_id = str(fields.get("access_key_id") or "").strip()
    secret = str(fields.get("secret_access_key") or "")
    if not key_id or not secret:
        raise ConnectionFailed("set the access key id and the secret access key")
    endpoint = str(fields.get("endpoint_url") or "").strip() or None
    if endpoint is not None:
        if urlsplit(endpoint).scheme.lower() not in HTTP_SCHEMES or not urlsplit(endpoint).hostname:
            raise ConnectionFailed("the endpoint URL must be an http:// or https:// URL with a host")
        try:
            policy.check_url(endpoint, schemes=HTTP_SCHEMES)  # a clear refusal before anything is signed
        except OSError as error:
            raise ConnectionFailed(f"the endpoint cannot be reached: {error}") from None
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"max_attempts": 2, "mode": "standard"},
        proxies={},
        s3={"addressing_style": "path"} if endpoint else {},
        user_agent_appid="flomation",
    )
    client = boto3.session.Session().client(
        "s3",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name=str(fields.get("region") or "").strip() or "us-east-1",
        endpoint_url=endpoint,
        config=config,
    )
    _pin(client, policy)
    return client


def _pin(client: Any, policy: EgressPolicy) -> None:
    from botocore.awsrequest import (
        AWSHTTPConnection,
        AWSHTTPConnectionPool,
        AWSHTTPSConnection,
        AWSHTTPSConnectionPool,
    )

    from flomation.lib.egress.http import _Pinned

    http = type("EgressAWSHTTPConnection", (_Pinned, AWSHTTPConnection), {"egress_policy": policy})
    https = type("EgressAWSHTTPSConnection", (_Pinned, AWSHTTPSConnection), {"egress_policy": policy})
    pools = {
        "http": type("EgressAWSHTTPConnectionPool", (AWSHTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("EgressAWSHTTPSConnectionPool", (AWSHTTPSConnectionPool,), {"ConnectionCls": https}),
    }
    session = client._endpoint.http_session  # botocore's URLLib3Session: no public hook for this
    session._pool_classes_by_scheme = pools
    session._manager.pool_classes_by_scheme = pools


def failure(error: Exception, *, what: str = "the request") -> str:
    """A sentence for a boto3/botocore failure: authentication, missing bucket or key, access, connection,
    timeout; never a credential."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ReadTimeoutError,
    )

    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = str(info.get("Code") or "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _AUTH_CODES:
            return f"authentication failed: the store refused the access key or its secret ({code})"
        if code in ("NoSuchBucket",):
            return f"{what} failed: the bucket does not exist"
        if code in ("NoSuchKey", "404", "NotFound"):
            return f"{what} failed: the object does not exist"
        if code in ("AccessDenied", "403", "Forbidden"):
            return f"{what} was refused: access denied for this access key"
        return f"{what} failed: {code or status} {str(info.get('Message') or '')[:200]}".strip()
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return f"{what} timed out: {error}"
    if isinstance(error, EndpointConnectionError):
        return f"could not connect to the store: {error}"
    if isinstance(error, NoCredentialsError):
        return "set the access key id and the secret access key"
    return f"{what} failed: {error}"


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    client = s3_client(fields, policy, timeout)
    bucket = str(fields.get("bucket") or "").strip()
    try:
        if bucket:
            client.list_objects_v2(Bucket=bucket, MaxKeys=1)
            return f"listed bucket {bucket}"
        count = len(client.list_buckets().get("Buckets", []))
    except (ClientError, BotoCoreError) as error:
        raise ConnectionFailed(failure(error, what="listing")) from None
    return f"signed in: {count} bucket(s) visible"
