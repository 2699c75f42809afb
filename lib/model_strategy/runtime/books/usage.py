"""What an agent really used: the sum of its transcript's assistant entries.

Claude Code writes one transcript entry per content block, so one API response can appear several
times; entries are deduplicated by ``message.id`` + ``requestId`` (keeping the largest count of each
kind, since counts only grow while a response streams).  A request none of whose entries read so far
has a ``stop_reason`` is not ``final``: its counts may still grow (the ledger keeps them, and a later
read with larger ones records the difference -- ``recorder.commit_corrections``).  Each request is priced on its own, so
long-context tiers apply per request as the API bills them.

Standard library only (hot path).
"""

from __future__ import annotations

from model_strategy.runtime.base.clock import utc_iso
from model_strategy.runtime.base.fastjson import NOT_JSON, jsonl
from model_strategy.runtime.base.kinds import RECORD_KINDS, TOKEN_KINDS

from .records import request_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .records import Request, Tokens

__all__ = ["RECORD_KINDS", "TOKEN_KINDS", "TranscriptUsage", "read_transcript", "tokens_from_api_usage"]


def _num(v: Any) -> int:
    """A token count: a positive int (not a bool), else 0."""
    if type(v) is int:  # the common case, checked first (history reads tens of thousands)
        return v if v > 0 else 0
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0


def tokens_from_api_usage(u: dict[str, Any]) -> Tokens:
    """Anthropic ``usage`` → our token kinds (``input`` is the uncached input)."""
    num = _num
    cache_write = num(u.get("cache_creation_input_tokens"))
    cc = u.get("cache_creation")
    split: dict[str, Any] = cc if isinstance(cc, dict) else {}
    w1h = num(split.get("ephemeral_1h_input_tokens"))
    w5m = num(split.get("ephemeral_5m_input_tokens"))
    if w1h + w5m != cache_write:  # no split reported (or an odd one): the rest is 5-minute writes
        w5m = max(cache_write - w1h, 0)
    tools = u.get("server_tool_use")
    stu: dict[str, Any] = tools if isinstance(tools, dict) else {}
    return {
        "input": num(u.get("input_tokens")),
        "output": num(u.get("output_tokens")),
        "cache_read": num(u.get("cache_read_input_tokens")),
        "cache_write_5m": w5m,
        "cache_write_1h": w1h,
        "web_search": num(stu.get("web_search_requests")),
    }


class TranscriptUsage:
    """Requests found in a transcript, keyed by (message id, request id)."""

    def __init__(self, skip_sidechain: bool = False) -> None:
        self.skip_sidechain = skip_sidechain
        self.requests: dict[tuple[str, str], Request] = {}
        self.first_ts: str | None = None
        self.last_ts: str | None = None
        self.bad_lines = 0
        self.first_prompt: str | None = None
        self.entries = 0
        self.stop_reason: str | None = None  # of the last assistant message
        self.api_errors = 0
        self.interrupted = False
        self.bad_timestamps = 0  # entries whose stamp was unusable (they took a neighbour's time)
        self._last_good: str | None = None
        self._orphans: list[Request] = []  # requests still waiting for a good neighbour's time

    def _stamp(self, raw: Any) -> tuple[str | None, bool]:
        """The entry's time as UTC ISO and whether its own stamp was unusable: a bad stamp (out of
        range, not a time) costs only itself -- the entry takes the previous good entry's time, else
        the next one's (``_orphans``), else none (the caller uses the hook's time); it is flagged."""
        if raw is None:
            return self._last_good, False
        ts = utc_iso(raw)
        if ts is None:
            self.bad_timestamps += 1
            return self._last_good, True
        self._last_good = ts
        self.first_ts = ts if self.first_ts is None or ts < self.first_ts else self.first_ts
        self.last_ts = ts if self.last_ts is None or ts > self.last_ts else self.last_ts
        for req in self._orphans:
            req["ts"] = ts
        self._orphans.clear()
        return ts, False

    def add_entry(self, entry: dict[str, Any]) -> None:
        ts, bad = self._stamp(entry.get("timestamp"))
        self.entries += 1
        etype = entry.get("type")
        if etype == "user":
            if self.first_prompt is None:
                from model_strategy.runtime.base.payload import first_user_text

                self.first_prompt = first_user_text([entry]) or ""
            elif "[Request interrupted by user" in str(entry.get("message"))[:2000]:
                self.interrupted = True
            return
        if etype != "assistant" or (self.skip_sidechain and entry.get("isSidechain") is True):
            return
        msg = entry.get("message")
        if entry.get("isApiErrorMessage") is True:
            self.api_errors += 1
        if not isinstance(msg, dict):
            return
        stop = msg.get("stop_reason")
        final = isinstance(stop, str)  # entries written while it streams have none
        if final:
            self.stop_reason = stop
        usage = msg.get("usage")
        if not isinstance(usage, dict):
            return
        model = msg.get("model")
        if not isinstance(model, str) or not model or model.startswith("<"):  # "<synthetic>" error stubs
            return
        key = (str(msg.get("id") or entry.get("uuid") or ""), str(entry.get("requestId") or ""))
        tokens = tokens_from_api_usage(usage)
        seen = self.requests.get(key)
        if seen is None:
            req = self.requests[key] = {"key": request_key(*key), "model": model, "ts": ts, "tokens": tokens,
                                        "final": final}
            if bad:
                req["bad_timestamp"] = True
            if ts is None:
                self._orphans.append(req)
        else:
            seen["final"] = seen["final"] or final
            had = seen["tokens"]
            for kind in RECORD_KINDS:
                if tokens[kind] > had[kind]:  # type: ignore[literal-required]
                    had[kind] = tokens[kind]  # type: ignore[literal-required]

    def feed(self, data: bytes, needles: tuple[bytes, ...] = ()) -> None:
        """Add the JSON lines of ``data`` (``fastjson.jsonl``; ``needles``: only lines holding one)."""
        for _, _, entry in jsonl(data, needles):
            if entry is NOT_JSON:
                self.bad_lines += 1
            elif isinstance(entry, dict):
                self.add_entry(entry)

    def request_list(self) -> list[Request]:
        """The requests, in transcript order."""
        return list(self.requests.values())

    def outcome(self) -> str | None:
        """How an agent's run ended, as far as its transcript shows."""
        if self.interrupted:
            return "interrupted"
        if self.api_errors and self.stop_reason in (None, "tool_use"):
            return "error"
        if self.stop_reason in ("end_turn", "stop_sequence"):
            return "completed"
        if self.stop_reason == "max_tokens":
            return "truncated"
        return None


CHUNK = 1 << 20  # bytes read at a time: memory stays at a chunk plus the longest line


def read_transcript(path: str, start: int = 0, main_thread: bool = False,
                    limit: int | None = None) -> tuple[TranscriptUsage, int]:
    """Sum a transcript from byte ``start``, streaming; returns the usage and the offset after the
    last complete line read (a line still being written is left for the next call).  ``limit`` bounds
    the bytes read in one call (at least one whole line is read): the caller catches up on the rest
    later from the returned offset.  ``main_thread`` skips sidechain (subagent) entries, which are
    recorded per agent, and parses only the lines that can hold usage."""
    usage = TranscriptUsage(skip_sidechain=main_thread)
    offset = start
    rest = b""
    with open(path, "rb") as fh:
        if start:
            fh.seek(start)
        while limit is None or offset - start < limit:
            want = CHUNK if limit is None else min(CHUNK, limit - (offset - start) - len(rest))
            if want <= 0:  # past the limit inside a line: finish it, in growing reads
                want = min(CHUNK, max(4096, len(rest)))
            chunk = fh.read(want)
            if not chunk:
                break
            data = rest + chunk
            end = data.rfind(b"\n") + 1
            if not end:  # no line ends in it yet: keep reading the long line
                rest = data
                continue
            usage.feed(data[:end], (b'"usage"',) if main_thread else ())
            offset += end
            rest = data[end:]
    return usage, offset
