"""The one input boundary for JSON request bodies (our API, its argument parser, the facade).

Every JSON body is parsed here, once per request, and refused before any view sees it when it
could not be stored or answered safely: duplicate keys (which one wins is a guess), nesting deeper
than ``MAX_DEPTH``, integers longer than any id, and strings that PostgreSQL cannot hold or that
cannot be encoded as UTF-8 (NUL, lone surrogates; in query strings and paths too). Bodies larger
than ``MAX_CONTENT_LENGTH`` are refused with 413 whether or not they come with a Content-Length.
"""

import json
import re

from flask import Request
from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import BadRequest, NotFound, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

from ..platform.errors import Invalid
from ..platform.outage import RetriedReads

MAX_DEPTH = 64
MAX_INTEGER_DIGITS = 20  # 2**64 has 20 digits: no id, count or duration of ours is longer
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class RefusedInput(Invalid):
    """A body (or query string) that parses but may not pass the boundary (422, naming the
    field)."""

    def __init__(self, path: tuple, message: str):
        field = str(path[0]) if path else "_body"
        rest = ".".join(str(p) for p in path[1:])
        place = ".".join(str(p) for p in path) or "_body"
        super().__init__(
            f"{place}: {message}", {field: [f"{rest}: {message}" if rest else message]}
        )


class _LongInteger(str):
    """An integer literal too long for any field; reported with its place by ``_check``."""


class _Duplicated(dict):
    """An object that named a key twice; reported with its place by ``_check``."""

    duplicates: list


def _object(pairs):
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen, duplicates = set(), []
    for key, _value in pairs:
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    obj = _Duplicated(obj)
    obj.duplicates = duplicates
    return obj


def _integer(text: str):
    digits = len(text) - text.startswith("-")
    return int(text) if digits <= MAX_INTEGER_DIGITS else _LongInteger(text)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def _check(value) -> None:
    """Walk the parsed document without recursion; raise RefusedInput at the first bad place."""
    stack = [(value, (), 1)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, _LongInteger):
            raise RefusedInput(path, f"整数过大 (an integer of {len(node)} digits)")
        if isinstance(node, str):
            if UNSTORABLE.search(node):
                raise RefusedInput(path, "含有不允许的字符 (NUL or a lone surrogate)")
            continue
        if isinstance(node, dict | list) and depth > MAX_DEPTH:
            raise RefusedInput(path, f"嵌套超过 {MAX_DEPTH} 层 (nested too deeply)")
        if isinstance(node, _Duplicated):
            raise RefusedInput(path + (node.duplicates[0],), "字段重复 (duplicate key)")
        if isinstance(node, dict):
            for key, item in node.items():
                if UNSTORABLE.search(key):
                    raise RefusedInput(path, "字段名含有不允许的字符 (NUL or a lone surrogate)")
                stack.append((item, path + (key,), depth + 1))
        elif isinstance(node, list):
            stack.extend((item, path + (i,), depth + 1) for i, item in enumerate(node))


def loads(data: bytes | str):
    """Parse a request body; ValueError when it is not JSON, RefusedInput when it is refused."""
    text = data.decode("utf-8") if isinstance(data, bytes | bytearray) else data
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_int=_integer, parse_constant=_no_constant
        )
    except RecursionError:
        raise RefusedInput((), f"嵌套超过 {MAX_DEPTH} 层 (nested too deeply)") from None
    _check(value)
    return value


class BodyJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: Flask parses every request body with its ``loads``."""

    def loads(self, s, **_kwargs):
        return loads(s)


class _CappedStream(LimitedStream):
    """A body without Content-Length (chunked) may not go past ``limit``.

    Werkzeug's own wrapper stops reading at the limit and hands the view a body cut short;
    reading one byte further tells a body of exactly ``limit`` bytes from a longer one.
    """

    def __init__(self, stream, limit: int):
        super().__init__(stream, limit + 1, is_max=True)
        self.allowed = limit

    def readinto(self, b) -> int | None:
        size = super().readinto(b)
        if self.tell() > self.allowed:
            raise RequestEntityTooLarge()
        return size


class BodyRequest(Request):
    """Flask's request: the body limit also holds without Content-Length; a body refused by
    ``loads`` is a 422, one that is not JSON a 400."""

    @cached_property
    def stream(self):
        limit = self.max_content_length
        chunked = self.content_length is None and "wsgi.input_terminated" in self.environ
        if limit is None or not chunked or self.shallow:
            return Request.stream.fget(self)
        return _CappedStream(self.environ["wsgi.input"], limit)

    def on_json_loading_failed(self, e: ValueError | None):
        if e is None:
            return super().on_json_loading_failed(e)
        raise BadRequest("请求体不是有效的 JSON (malformed JSON body)")


def refuse_unstorable_path(_endpoint, values) -> None:
    """``url_value_preprocessor``: a path naming NUL or a lone surrogate names nothing (404)."""
    if any(isinstance(v, str) and UNSTORABLE.search(v) for v in (values or {}).values()):
        raise NotFound()


class BodyParser(FlaskParser):
    """webargs (flask-smorest's ``@arguments``) reads the body through ``request.get_json``,
    and query strings with the same refusal of NUL and lone surrogates."""

    def load_querystring(self, req, schema):
        for name, value in req.args.items(multi=True):
            if UNSTORABLE.search(name) or UNSTORABLE.search(value):
                raise RefusedInput((name,), "含有不允许的字符 (NUL or a lone surrogate)")
        return super().load_querystring(req, schema)

    def _raw_load_json(self, req):
        if not core.is_json(req.mimetype):
            return core.missing
        if not req.get_data(cache=True):
            return core.missing  # no body: the schema decides whether one was required
        return req.get_json(force=True)


class BodyFlask(RetriedReads):
    """Flask with this boundary for every request body (and reads that outlive a lost database
    connection: platform/outage.py)."""

    json_provider_class = BodyJSONProvider
    request_class = BodyRequest
