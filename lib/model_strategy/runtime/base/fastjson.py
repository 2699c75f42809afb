"""JSON for the hook hot path without the ``json`` package's import cost.

``import json`` pulls in ``re`` and ``enum`` (~15 ms on the 2-core machines this runs on, a quarter
of a hook's budget).  The C accelerator ``_json`` does the real work for ``json`` anyway; this
module drives it directly and falls back to ``json`` where ``_json`` is missing.  Output is
identical to ``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)`` (tested).
"""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - interpreters without the C accelerator
    _json = None  # type: ignore[assignment]

_WS = " \t\n\r"


class JSONDecodeError(ValueError):
    pass


class _Context:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str] = {}  # noqa: RUF012 - the attribute _json reads

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_scanner = _json.make_scanner(_Context()) if _json else None  # type: ignore[arg-type]


def loads(text: str | bytes) -> Any:
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8-sig" if text[:3] == b"\xef\xbb\xbf" else "utf-8")
    if _scanner is None:  # pragma: no cover
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WS))
    try:
        obj, end = _scanner(text, start)
    except (StopIteration, ValueError, SystemError):
        # Error path only: let the json package say precisely what is wrong.  (_json's own error
        # reporting imports json.decoder and can fail in a fresh interpreter.)
        import json

        json.loads(text)
        raise JSONDecodeError("invalid JSON") from None  # pragma: no cover - json accepted it
    if text[end:].strip(_WS):
        raise JSONDecodeError(f"Extra data: line 1 column {end + 1} (char {end})")
    return obj


class _NotJSON:
    def __repr__(self) -> str:
        return "NOT_JSON"


#: the value ``jsonl`` gives a line that is not JSON
NOT_JSON = _NotJSON()


def jsonl(data: bytes, needles: tuple[bytes, ...] = ()) -> Iterator[tuple[int, int, Any]]:
    """The one JSON Lines reader: each non-blank line of ``data`` as ``(start, end, value)`` -- its
    byte offsets in ``data`` (``end`` after its newline, if it has one) and its parsed value, or
    ``NOT_JSON``.  Lines end at ``\n`` only (a ``\r`` before it is whitespace).  With ``needles``,
    a line holding none of them is skipped unparsed (a cheap filter before the parse).  What to do
    with a bad line, a value that is not an object or a last line without its newline (still being
    written, or its newline lost) is the caller's: the ledger, the archives, transcripts and
    ``store.iter_jsonl`` each say."""
    pos = 0
    n = len(data)
    find = data.find
    while pos < n:
        nl = find(b"\n", pos)
        end = n if nl < 0 else nl + 1
        line = data[pos:end]
        if line.strip() and (not needles or any(x in line for x in needles)):
            try:
                value = loads(line)
            except ValueError:  # UnicodeDecodeError is one
                value = NOT_JSON
            yield pos, end, value
        pos = end


def _raise(o: Any) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


# the same call json.encoder makes: (markers, default, encoder, indent, key_sep, item_sep,
# sort_keys, skipkeys, allow_nan)
def _encoder(ascii_only: bool) -> Any:
    if _json is None:  # pragma: no cover
        return None
    strings = _json.encode_basestring_ascii if ascii_only else _json.encode_basestring
    return _json.make_encoder({}, _raise, strings, None, ":", ",", False, False, True)


_COMPACT = _encoder(False)
_ASCII = _encoder(True)


def _dumps(encoder: Any, obj: Any, ascii_only: bool) -> str:
    if encoder is None:  # pragma: no cover
        import json

        return json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only)
    return "".join(encoder(obj, 0))


def dumps(obj: Any) -> str:
    """Compact JSON, UTF-8 text kept as is."""
    return _dumps(_COMPACT, obj, False)


def dumps_ascii(obj: Any) -> str:
    """Compact JSON with every non-ASCII character escaped (lone surrogates survive as ``\\udxxx``)."""
    return _dumps(_ASCII, obj, True)


def encode(obj: Any) -> bytes:
    """One JSON document as UTF-8 bytes.  Text that UTF-8 cannot carry (a lone surrogate from a
    payload) is written as JSON escapes instead of failing the write."""
    try:
        return dumps(obj).encode("utf-8")
    except UnicodeEncodeError:
        return dumps_ascii(obj).encode("ascii")
