"""The API as the command line sees it: one requests session with the token, errors turned into CliError."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

import requests

from flomation.cli.config import Settings
from flomation.cli.errors import CliError

TIMEOUT = 30
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class Client:
    def __init__(self, settings: Settings) -> None:
        from flomation import __version__

        self.base = settings.url + "/api/v1/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + settings.token
        self.session.headers["User-Agent"] = f"flomation-cli/{__version__}"
        self._organisation = settings.organisation
        self._org_id: str | None = None

    # -- plain requests -------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer to `method path` (relative to /api/v1/); raises CliError with the API's sentence."""
        kwargs.setdefault("timeout", TIMEOUT)
        response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            raise CliError(error_sentence(response))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise CliError(
                f"the server at {self.base} did not answer with JSON; is this a Flomation API?"
            ) from None

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.session.request(method, self.base + path, **kwargs)
        except requests.ConnectionError:
            raise CliError(f"cannot reach the API at {self.base}: connection refused or no route") from None
        except requests.Timeout:
            raise CliError(f"the API at {self.base} did not answer in time") from None
        except requests.RequestException as error:
            raise CliError(f"request to {self.base} failed: {type(error).__name__}") from None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:
        return self.request("POST", path, json=body, headers=headers or {})

    def pages(self, path: str, *, limit: int | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """Every row of a paged list (or the first `limit`)."""
        offset, seen = 0, 0
        while True:
            page = self.get(path, limit=100, offset=offset, **params)
            rows = page.get("results", []) if isinstance(page, dict) else page
            for row in rows:
                yield row
                seen += 1
                if limit is not None and seen >= limit:
                    return
            if not isinstance(page, dict) or not page.get("next") or not rows:
                return
            offset += len(rows)

    # -- the organisation and names -------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        return self.get("me")

    def organisation_id(self) -> str:
        """The chosen organisation (by id, slug or name), or the token's only one."""
        if self._org_id is None:
            self._org_id = self._find_organisation()
        return self._org_id

    def org(self, path: str = "") -> str:
        """`organisations/{id}/{path}` in the chosen organisation."""
        return f"organisations/{self.organisation_id()}/{path}"

    def _find_organisation(self) -> str:
        organisations = [m["organisation"] for m in self.me().get("memberships", [])]
        wanted = self._organisation
        if wanted:
            for organisation in organisations:
                names = (organisation["name"].lower(), str(organisation.get("slug") or "").lower())
                if wanted == str(organisation["id"]) or wanted.lower() in names:
                    return str(organisation["id"])
            raise CliError(f"you are not a member of an organisation {wanted!r}")
        if len(organisations) == 1:
            return str(organisations[0]["id"])
        if not organisations:
            raise CliError("this account belongs to no organisation")
        names = ", ".join(o["name"] for o in organisations)
        raise CliError(f"several organisations ({names}): choose one with --org or FLOMATION_ORG")

    def workflow(self, ref: str) -> dict[str, Any]:
        """The workflow with id `ref`, or the one named exactly `ref`."""
        if UUID.match(ref):
            return self.get(self.org(f"workflows/{ref}/"))
        matches = [row for row in self.pages(self.org("workflows/"), search=ref) if row["name"] == ref]
        if not matches:
            raise CliError(f"no workflow named {ref!r}; `flomation workflows list` shows them")
        if len(matches) > 1:
            raise CliError(f"several workflows are named {ref!r}; give its id instead")
        return matches[0]

    # -- live events ----------------------------------------------------------------------------------

    def events(
        self, path: str, *, after: str | None = None, wait: float = 60
    ) -> Iterator[tuple[str, str, Any]]:
        """(event, id, data) from a server-sent event stream, and ("ping", "", None) for each keep-alive,
        until the server closes it, the connection drops, or nothing arrives for `wait` seconds (the server
        sends a keep-alive every 15 s): the caller reconnects or gives up."""
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": after} if after else {})}
        response = self._send("GET", path, headers=headers, stream=True, timeout=(TIMEOUT, wait))
        if response.status_code >= 400:
            raise CliError(error_sentence(response))
        with response, contextlib.suppress(requests.RequestException):
            event, event_id, data = "message", "", []
            for raw in response.iter_lines(decode_unicode=True):
                line = raw or ""
                if not line:
                    if data:
                        yield event, event_id, _json_or_text("\n".join(data))
                    event, event_id, data = "message", "", []
                elif line.startswith(":"):
                    yield "ping", "", None  # lets the reader check its own deadline while idle
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "event":
                        event = value
                    elif name == "id":
                        event_id = value
                    elif name == "data":
                        data.append(value)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def error_sentence(response: requests.Response) -> str:
    """One line from an error answer: its `detail`, with field messages and flow errors after it."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 401:
        return "the API refused the token (401): it is wrong, expired or revoked; run `flomation login`"
    if not isinstance(body, dict):
        return f"the API answered {response.status_code} {response.reason}"
    parts = [str(body.get("detail") or f"the API answered {response.status_code}")]
    for key, value in body.items():
        if key == "detail":
            continue
        if key == "errors" and isinstance(value, list):  # each flow problem once, with its node and field
            parts.extend(
                _flow_error(item)
                for item in value
                if isinstance(item, dict) and str(item.get("message", "")) not in parts[0]
            )
        elif key not in ("warnings",):
            text = "; ".join(map(str, value)) if isinstance(value, list) else str(value)
            if text not in parts[0]:
                parts.append(f"{key}: {text}")
    return " ".join(part.rstrip() for part in parts).replace("\n", " ")


def _flow_error(item: dict[str, Any]) -> str:
    where = "/".join(str(item[key]) for key in ("node_id", "field") if item.get(key))
    return f"[{where}] {item.get('message', '')}" if where else f"[flow] {item.get('message', '')}"
