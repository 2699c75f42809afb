"""``install-statusline`` / ``uninstall-statusline``: put the plugin into Claude Code's ``statusLine``
without losing the user's own.

Installing keeps the user's previous ``statusLine`` value in ``<data dir>/statusline-original.json``;
the plugin's status line runs that command first (same stdin, a timeout) and appends its segment.
The settings file is edited as text: only the ``statusLine`` value changes (or is added) -- its
``command`` (and ``type``) only: the entry's other keys, such as ``"padding": 0``, stay -- every other
byte stays as it was, so uninstalling puts back exactly the original value -- byte for byte -- or
removes the entry again when there was none.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, NotRequired, TypedDict

from model_strategy.runtime.base import paths, store
from model_strategy.runtime.entry.statusline import ORIGINAL

KEY = "statusLine"


class Original(TypedDict):
    """The user's ``statusLine`` before ``install`` (``statusline-original.json``): its exact text, or
    that there was none (and whether the file existed; what install inserted, to take it out again)."""
    schema: NotRequired[int]
    settings: NotRequired[str]
    absent: bool
    file_existed: bool
    raw: str | None
    value: Any
    inserted: NotRequired[str]
_WS = " \t\n\r"


class SettingsError(ValueError):
    pass


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def top_level(text: str) -> tuple[dict[str, tuple[int, int, int]], int, int]:
    """Spans of a JSON object's top-level members: ``{key: (key start, value start, value end)}``,
    plus the positions of its ``{`` and ``}``.  Raises ``SettingsError`` when it is not an object."""
    dec = json.JSONDecoder()
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        raise SettingsError("expected a JSON object")
    open_at = i
    out: dict[str, tuple[int, int, int]] = {}
    i = _skip(text, i + 1)
    if i < len(text) and text[i] == "}":
        return out, open_at, i
    while True:
        if i >= len(text) or text[i] != '"':
            raise SettingsError(f"not valid JSON near character {i}")
        key, j = scanstring(text, i + 1)
        j = _skip(text, j)
        if j >= len(text) or text[j] != ":":
            raise SettingsError(f"not valid JSON near character {j}")
        j = _skip(text, j + 1)
        try:
            _value, end = dec.raw_decode(text, j)
        except ValueError as exc:
            raise SettingsError(f"not valid JSON ({exc})") from None
        out[key] = (i, j, end)
        i = _skip(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if i < len(text) and text[i] == "}":
            if text[i + 1:].strip(_WS):
                raise SettingsError("extra data after the JSON object")
            return out, open_at, i
        raise SettingsError(f"not valid JSON near character {i}")


def is_ours(value: Any) -> bool:
    cmd = value.get("command") if isinstance(value, dict) else None
    return isinstance(cmd, str) and "hooks/run" in cmd and cmd.rstrip().endswith(" statusline") \
        and paths.DATA_ENV in cmd


def our_command(data: str) -> str:
    return (f"{paths.DATA_ENV}={shlex.quote(data)} "
            f"{shlex.quote(os.path.join(paths.plugin_root(), 'hooks', 'run'))} statusline")


def _read(path: str) -> str | None:
    if os.path.islink(path):  # checked before anything is written: the file is replaced whole, never a link
        raise ValueError(f"{path} is a symbolic link; nothing was changed (pass --settings with its target)")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def _write(path: str, text: str) -> None:
    """The settings file, replaced whole (``store.atomic_write_bytes``: 0600, never through a link)."""
    store.atomic_write_bytes(path, text.encode("utf-8"))


def default_settings() -> str:
    return os.path.join(os.path.expanduser("~"), ".claude", "settings.json")


def install(settings_path: str | None = None) -> str:
    """Point ``statusLine`` at the plugin, keeping the previous value for the composed line and for
    ``uninstall``.  Returns the one-line result."""
    from .shortcut import install_data_dir

    settings_path = settings_path or default_settings()
    data, hint = install_data_dir()
    ours = {"type": "command", "command": our_command(data)}
    ours_text = json.dumps(ours)
    keep = os.path.join(data, ORIGINAL)
    with store.locked(settings_path + ".lock"):
        text = _read(settings_path)
        if text is None or not text.strip():
            original: Original | None = {"absent": True, "file_existed": text is not None, "raw": None,
                                               "value": None}
            new = "{\n  " + json.dumps(KEY) + ": " + ours_text + "\n}\n"
        else:
            try:
                json.loads(text)
                spans, _open, _close = top_level(text)
            except (ValueError, SettingsError) as exc:
                raise ValueError(f"{settings_path}: {str(exc).splitlines()[0]}; fix it first, nothing was changed") \
                    from None
            if KEY in spans:
                _k, vs, ve = spans[KEY]
                raw = text[vs:ve]
                value = json.loads(raw)
                original = None if is_ours(value) else {"absent": False, "file_existed": True, "raw": raw,
                                                        "value": value}
                if isinstance(value, dict):  # keep every other key of the entry ("padding": 0, ...)
                    ours_text = json.dumps({**value, **ours})
                new = text[:vs] + ours_text + text[ve:]
            else:
                if spans:
                    at = max(ve for _k, _vs, ve in spans.values())
                    inserted = ",\n  " + json.dumps(KEY) + ": " + ours_text
                else:
                    at = _open + 1
                    inserted = "\n  " + json.dumps(KEY) + ": " + ours_text + "\n"
                new = text[:at] + inserted + text[at:]
                original = {"absent": True, "file_existed": True, "raw": None, "value": None, "inserted": inserted}
        if original is not None:
            kept_first = {"schema": 1, "settings": os.path.abspath(settings_path), **original}
            store.atomic_write_json(keep, kept_first, indent=2)
        _write(settings_path, new)
    kept = store.read_json(keep, {}) or {}
    prev = kept.get("raw")
    note = f"; your previous status line ({_short(prev)}) runs first, then the plugin's" if prev else ""
    return f"model-strategy: statusLine set in {settings_path}{note}; data home {data} ({hint})"


def _short(raw: str) -> str:
    try:
        value = json.loads(raw)
    except ValueError:
        return raw[:60]
    cmd = value.get("command") if isinstance(value, dict) else None
    shown = cmd if isinstance(cmd, str) else raw
    return shown if len(shown) <= 60 else shown[:57] + "..."


def uninstall(settings_path: str | None = None) -> str:
    """Put back the ``statusLine`` value from before ``install`` (byte for byte), or remove the
    plugin's entry when there was none."""
    from .shortcut import install_data_dir

    data, _hint = install_data_dir()
    keep = os.path.join(data, ORIGINAL)
    kept = store.read_json(keep, None)
    if settings_path is None:
        settings_path = kept.get("settings") if isinstance(kept, dict) and kept.get("settings") else None
        settings_path = settings_path or default_settings()
    with store.locked(settings_path + ".lock"):
        text = _read(settings_path)
        if text is None:
            return f"model-strategy: no {settings_path}; nothing to undo"
        try:
            spans, open_at, close = top_level(text)
        except SettingsError as exc:
            raise ValueError(f"{settings_path}: {exc}; fix it first, nothing was changed") from None
        if KEY not in spans or not is_ours(json.loads(text[spans[KEY][1]:spans[KEY][2]])):
            return f"model-strategy: the statusLine in {settings_path} is not the plugin's; left as it is"
        ks, vs, ve = spans[KEY]
        if isinstance(kept, dict) and kept.get("raw"):
            new = text[:vs] + str(kept["raw"]) + text[ve:]
            done = "restored your previous statusLine"
        elif isinstance(kept, dict) and kept.get("inserted") and text.count(str(kept["inserted"])) == 1:
            new = text.replace(str(kept["inserted"]), "")  # exactly what install added
            done = "removed the plugin's statusLine"
        else:
            ordered = sorted(spans.values())
            idx = ordered.index((ks, vs, ve))
            if idx > 0:  # remove from the end of the previous member (its comma goes with us)
                new = text[:ordered[idx - 1][2]] + text[ve:]
            elif len(ordered) > 1:  # first member: up to the next member's key
                new = text[:ks] + text[ordered[1][0]:]
            else:
                new = text[:open_at + 1] + text[close:]
                if isinstance(kept, dict) and kept.get("file_existed") is False:
                    os.unlink(settings_path)
                    _drop(keep)
                    return f"model-strategy: removed {settings_path} (it held only the plugin's statusLine)"
            done = "removed the plugin's statusLine"
        _write(settings_path, new)
    _drop(keep)
    return f"model-strategy: {done} in {settings_path}"


def _drop(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def install_command(args: argparse.Namespace) -> int:
    """``model-strategy install-statusline [--settings FILE]``: one line, what changed (a settings file
    that cannot be changed: one line, exit 1)."""
    print(install(args.settings))
    return 0


def uninstall_command(args: argparse.Namespace) -> int:
    """``model-strategy uninstall-statusline``."""
    print(uninstall())
    return 0
