"""Request body parsers of every JSON API (core's, identity's and launch's): DRF's own, refusing text with
a NUL character (which PostgreSQL cannot store) with 400 before any view sees it. Serializers' CharFields
refuse it too, but a JSONField (a flow, run inputs) would carry it down to the database."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from flomation.lib.text import holds_nul

NUL_REFUSED = "The request body contains a NUL character (\\u0000), which no text field can hold; remove it."


def _refuse_nul(data: Any) -> Any:
    if holds_nul(data):
        raise ParseError(NUL_REFUSED)
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return _refuse_nul(super().parse(stream, media_type, parser_context))


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse_nul(dict(data.lists()))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        _refuse_nul(dict(parsed.data.lists()))
        return parsed
