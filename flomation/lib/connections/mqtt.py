"""MQTT brokers (paho-mqtt), shared by the MQTT nodes, the MQTT trigger and the connection's test.

The client connects to the addresses the egress policy checked, never to the name again; the name stays the
TLS server name and the name the certificate is checked against. A session is driven from the calling thread
(`client.loop()` in short steps, no background thread), calling `check` between steps, so a node's timeout and
cancellation stop it within a fraction of a second.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from flomation.lib.connections.base import ConnectionFailed, Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from flomation.lib.egress import EgressPolicy

KIND = "mqtt"
LABEL = "MQTT"
FIELDS = (
    Field("host", required=True, description="The broker's host name or address."),
    Field("port", "integer", default=1883, description="1883, or 8883 with TLS."),
    Field("username", description="Leave blank for anonymous access."),
    Field("password", "secret"),
    Field("tls", "boolean", default=False, description="Connect with TLS (the certificate is checked)."),
    Field("client_id", description="The MQTT client id (blank: a random one per connection)."),
)

MAX_MESSAGE_BYTES = 5 << 20
_STEP = 0.1
VERSIONS = ("3.1.1", "5")


def test(fields: dict[str, Any], policy: EgressPolicy, timeout: float) -> str:
    session = open_session(fields, policy, timeout)
    session.close()
    who = f" as '{fields['username']}'" if fields.get("username") else ""
    return f"connected to {session.where}{who}"


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def port_of(fields: dict[str, Any]) -> int:
    port = fields.get("port")
    if port in (None, ""):
        return 8883 if _flag(fields.get("tls")) else 1883
    try:
        return int(port)
    except (TypeError, ValueError):
        raise ConnectionFailed(f"the port must be a number (got {str(port)[:20]!r})") from None


def _client_class() -> type:
    import paho.mqtt.client as paho

    from flomation.lib.egress import connect

    class PinnedClient(paho.Client):
        """Connects to the checked addresses. paho resolves `host` itself in `_create_socket_connection`
        (and would honour an `mqtt_proxy` environment variable); the name stays `host` for TLS."""

        addresses: list[str] = []

        def _create_socket_connection(self) -> Any:
            return connect(self.addresses, self._port, timeout=self._connect_timeout)

    return PinnedClient


class MqttSession:
    """A connected client; messages of its subscriptions are collected in `messages`."""

    def __init__(self, client: Any, where: str, check: Callable[[], None] | None) -> None:
        self.client = client
        self.where = where
        self.check = check
        self.messages: list[Any] = []
        self.connack: tuple[Any, bool] | None = None
        self.subscribed: dict[int, list[Any]] = {}
        self.closed = False

    @property
    def session_present(self) -> bool:
        return bool(self.connack and self.connack[1])

    def step(self) -> None:
        if self.check is not None:
            self.check()
        rc = self.client.loop(timeout=_STEP)
        if rc != 0:
            self.closed = True
            raise ConnectionFailed(f"the connection to {self.where} was closed ({_error_name(rc)})")

    def wait(self, done: Callable[[], bool], until: float) -> bool:
        """Runs the network loop until `done()` or the monotonic time `until`; returns done()."""
        while not done():
            if time.monotonic() >= until:
                return False
            self.step()
        return True

    def publish(
        self, topic: str, payload: bytes, *, qos: int, retain: bool, until: float, properties: Any = None
    ) -> int:
        """Publishes and waits until the broker has it (PUBACK/PUBCOMP for QoS 1/2); returns the message id."""
        try:
            info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        except ValueError as error:
            raise ConnectionFailed(f"cannot publish to {topic!r}: {error}") from None
        if info.rc != 0:
            raise ConnectionFailed(f"cannot publish to {topic!r}: {_error_name(info.rc)}")
        if not self.wait(info.is_published, until):
            raise ConnectionFailed(f"{self.where} did not confirm the message to {topic!r} in time")
        return int(info.mid)

    def subscribe(self, topic: str, *, qos: int, until: float, options: Any = None) -> None:
        """Subscribes and waits for the broker's answer; raises if it refused the subscription."""
        try:
            if options is not None:
                rc, mid = self.client.subscribe(topic, options=options)
            else:
                rc, mid = self.client.subscribe(topic, qos=qos)
        except ValueError as error:
            raise ConnectionFailed(f"cannot subscribe to {topic!r}: {error}") from None
        if rc != 0:
            raise ConnectionFailed(f"cannot subscribe to {topic!r}: {_error_name(rc)}")
        if not self.wait(lambda: mid in self.subscribed, until):
            raise ConnectionFailed(f"{self.where} did not answer the subscription to {topic!r} in time")
        codes = self.subscribed[mid]
        if any(getattr(code, "is_failure", False) for code in codes):
            raise ConnectionFailed(
                f"{self.where} refused the subscription to {topic!r} ({codes[0]}): is this user allowed to read it?"
            )

    def flush(self, until: float) -> None:
        """Writes out what is queued (acknowledgements) before the connection is closed."""
        while self.client.want_write() and time.monotonic() < until:
            if self.client.loop_write() != 0:
                raise ConnectionFailed(f"the connection to {self.where} was closed")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.client.disconnect()
            self.client.loop(timeout=0.01)
        except Exception:  # the connection is going away either way
            pass
        finally:
            sock = self.client.socket()
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()


def _error_name(rc: Any) -> str:
    import paho.mqtt.client as paho

    return paho.error_string(rc)


def open_session(
    fields: dict[str, Any],
    policy: EgressPolicy,
    timeout: float,
    *,
    check: Callable[[], None] | None = None,
    client_id: str | None = None,
    clean: bool = True,
    version: str = "3.1.1",
    manual_ack: bool = False,
    ca_certificate: str | None = None,
    verify_tls: bool = True,
) -> MqttSession:
    """Connects (egress-checked) and waits for the broker's CONNACK within `timeout` seconds.

    Raises EgressDenied when the policy refuses the host, ConnectionFailed for anything else (DNS, refused,
    TLS, timeout, authentication), never naming the password."""
    import paho.mqtt.client as paho

    host = str(fields.get("host") or "").strip()
    if not host:
        raise ConnectionFailed("set the broker's host")
    port = port_of(fields)
    where = f"{host}:{port}"
    try:
        addresses = policy.check_host(host, port)
    except OSError as error:
        raise ConnectionFailed(str(error)) from None
    if not addresses:
        raise ConnectionFailed(f"{host} is not a network address")
    v5 = str(version).strip() in ("5", "5.0", "v5")
    cls = _client_class()
    client = cls(
        paho.CallbackAPIVersion.VERSION2,
        client_id=str(client_id or fields.get("client_id") or ""),
        clean_session=None if v5 else clean,
        protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
        manual_ack=manual_ack,
    )
    client.addresses = addresses
    client.connect_timeout = max(0.5, float(timeout))
    username = str(fields.get("username") or "")
    if username:
        client.username_pw_set(username, str(fields.get("password") or "") or None)
    if _flag(fields.get("tls")):
        client.tls_set_context(_tls_context(ca_certificate, verify_tls))
    session = MqttSession(client, where, check)

    def on_connect(_c: Any, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        session.connack = (reason, bool(getattr(flags, "session_present", False)))

    def on_subscribe(_c: Any, _u: Any, mid: int, codes: list[Any], _p: Any) -> None:
        session.subscribed[mid] = list(codes)

    def on_message(_c: Any, _u: Any, message: Any) -> None:
        session.messages.append(message)

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    until = time.monotonic() + max(0.5, float(timeout))
    try:
        _connect(client, host, port, where, clean=clean, v5=v5)
        while session.connack is None:
            if time.monotonic() >= until:
                raise ConnectionFailed(f"{where} did not answer the MQTT handshake within {timeout:g} s")
            try:
                session.step()
            except ConnectionFailed:
                if session.connack is not None:  # a refusal: the broker answers, then closes
                    break
                raise ConnectionFailed(
                    f"{where} closed the connection during the MQTT handshake (is it an MQTT broker? "
                    "with TLS, is the port a TLS port?)"
                ) from None
    except BaseException:
        session.close()
        raise
    reason = session.connack[0]
    if getattr(reason, "is_failure", False):
        session.close()
        raise ConnectionFailed(_refusal(reason, username, where))
    return session


def _connect(client: Any, host: str, port: int, where: str, *, clean: bool, v5: bool) -> None:
    import ssl

    kwargs: dict[str, Any] = {"keepalive": 60}
    if v5:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        kwargs["clean_start"] = clean
        if not clean:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 7 * 24 * 3600
            kwargs["properties"] = properties
    try:
        client.connect(host, port, **kwargs)
    except ssl.SSLCertVerificationError as error:
        raise ConnectionFailed(
            f"TLS: the certificate of {where} is not trusted ({error.verify_message or error.reason})"
        ) from None
    except ssl.SSLError as error:
        raise ConnectionFailed(f"TLS handshake with {where} failed ({error.reason or error})") from None
    except ConnectionRefusedError:
        raise ConnectionFailed(
            f"connection refused by {where} (is the broker running on that port?)"
        ) from None
    except TimeoutError:
        raise ConnectionFailed(f"timed out connecting to {where}") from None
    except OSError as error:
        raise ConnectionFailed(f"cannot connect to {where}: {error.strerror or error}") from None


def _refusal(reason: Any, username: str, where: str) -> str:
    value = int(getattr(reason, "value", 0))
    if value == 134:  # bad user name or password (3.1.1 return code 4)
        return f"authentication failed for user '{username}' at {where}"
    if value == 135:  # not authorized (3.1.1 return code 5)
        who = f"user '{username}'" if username else "anonymous access"
        return f"authentication failed: {where} does not accept {who} (not authorised)"
    return f"{where} refused the connection: {reason}"


def _tls_context(ca_certificate: str | None, verify: bool) -> Any:
    import ssl

    try:
        context = ssl.create_default_context(cadata=ca_certificate or None)
    except (ssl.SSLError, ValueError):
        raise ConnectionFailed("the CA certificate is not a PEM certificate") from None
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def encode_payload(value: Any) -> bytes:
    """What is sent: text as UTF-8, other values as JSON, nothing as an empty payload."""
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_payload(raw: bytes) -> dict[str, Any]:
    """A received payload for a flow: `payload` (parsed when it is JSON), `payload_text`, `payload_bytes`;
    binary payloads come as `payload_base64`; a payload over MAX_MESSAGE_BYTES is not passed on."""
    import base64

    size = len(raw)
    if size > MAX_MESSAGE_BYTES:
        return {"payload": None, "payload_text": "", "payload_bytes": size, "payload_too_large": True}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        encoded = base64.b64encode(raw).decode("ascii")
        return {"payload": None, "payload_text": "", "payload_base64": encoded, "payload_bytes": size}
    value: Any = text
    if text.strip()[:1] in ("{", "[", '"') or text.strip() in ("true", "false", "null"):
        try:
            value = json.loads(text)
        except ValueError:
            value = text
    return {"payload": value, "payload_text": text, "payload_bytes": size}


def message_record(message: Any) -> dict[str, Any]:
    """A received message as trigger data or node outputs."""
    return {
        "topic": message.topic,
        **decode_payload(bytes(message.payload or b"")),
        "qos": int(message.qos),
        "retained": bool(message.retain),
    }
