"""JSON in and out of the API, such that no document can turn into a 500."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer

from simulator.inputs import servable


class StrictJSONParser(JSONParser):
    """DRF's JSON parser (which refuses NaN and Infinity), plus a 400 for a document
    nested deeper than Python's JSON decoder can follow: that is a RecursionError, which
    DRF would let through as a 500."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None


class SafeJSONRenderer(JSONRenderer):
    """DRF's JSON renderer, which cannot encode a lone surrogate (a UnicodeEncodeError,
    so a 500). Whatever holds one (a row stored before the input checks, an echo of a
    client's string) is served with it replaced instead: a read never fails."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return super().render(servable(data), accepted_media_type, renderer_context)
