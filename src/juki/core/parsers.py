"""DRF defaults named in settings (REST_FRAMEWORK): kept out of `core.api`, which imports
`rest_framework.views`, whose APIView reads these settings while it is defined (a cycle)."""
from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions, metadata, parsers

from .errors import ErrorCode


class BodyTooDeep(exceptions.ParseError):
    default_code = ErrorCode.JSON_TOO_DEEP


def _depth(value) -> int:
    """Nesting depth of parsed JSON, walked without recursion (a deep body must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's parser with a depth limit (JUKI_MAX_JSON_DEPTH). A body nested past Python's recursion
    limit is refused the same way instead of ending in a RecursionError (a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise BodyTooDeep() from None
        if _depth(data) > settings.JUKI_MAX_JSON_DEPTH:
            raise BodyTooDeep()
        return data


class Metadata(metadata.SimpleMetadata):
    """OPTIONS names the operation, not its input form: DRF's form description builds the view's
    serializer, which views without a `serializer_class` cannot (a 500 on OPTIONS of a reissue
    URL), and the API documents its input in the OpenAPI schema anyway."""

    def determine_actions(self, request, view):
        return {}
