"""Configuration: shipped defaults < global file (data dir) < project file (``<project>/.claude/``).

Each file is validated (``config_rules``: the rules of ``models.Config`` in the standard library, so
a hook needs no pydantic) -- but only when one of them changed: the merged, validated result is cached
with the files' (mtime, size) signature, so a hook reads one small JSON file.  A bad file gives a one-line
message naming the file and the field, and the plugin keeps running on that file's last good content
(or without it).
"""

from __future__ import annotations

import os
import zlib

from model_strategy.runtime.base import paths, store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Literal, TypedDict

    from model_strategy.runtime.settings.values import Config

    class FileState(TypedDict):
        """How one configuration file fared: read and valid, missing, or invalid (``reason``)."""

        file: str
        state: Literal["ok", "missing", "invalid"]
        reason: str | None

    class LayerState(FileState):
        layer: Literal["defaults", "global", "project"]

CACHE_SCHEMA = 4  # 3: amounts have a range; 4: sealed over its bytes (a config compiled before is checked again)


def _sources(cwd: str | None) -> list[str]:
    out = [paths.defaults_file(), paths.global_config_file()]
    proj = paths.project_config_file(cwd)
    if proj is not None:
        out.append(proj)
    return out


def _signature(files: list[str]) -> list[list[Any]]:
    sig = []
    for f in files:
        try:
            st = os.stat(f)
            sig.append([str(f), st.st_mtime_ns, st.st_size])
        except (OSError, ValueError):  # ValueError: a path the file system cannot encode
            sig.append([str(f), None, None])
    return sig


def _cache_path(files: list[str]) -> str:
    key = f"{zlib.crc32('|'.join(files).encode('utf-8', 'surrogatepass')):08x}{len(''.join(files)):04x}"
    return os.path.join(paths.data_dir(), "cache", f"config-{key}.json")


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load(cwd: str | None = None) -> tuple[Config, list[str]]:
    """The effective configuration (a plain dict) and any new one-line warnings."""
    files = _sources(cwd)
    sig = _signature(files)
    cache_file = _cache_path(files)
    try:  # sealed: a cache edited or damaged into other types is compiled again
        cached, sealed = store.read_sealed(cache_file)
    except store.StoreError:
        cached, sealed = None, False
    if (sealed and cached.get("schema") == CACHE_SCHEMA and cached.get("sig") == sig
            and isinstance(cached.get("config"), dict)):
        config: Config = cached["config"]
        return config, []
    if not isinstance(cached, dict) or not isinstance(cached.get("last_good"), dict):
        cached = {}
    last_good = {k: v for k, v in cached.get("last_good", {}).items() if isinstance(v, dict)}
    config, warnings, good = compile_config(files, last_good)
    with store.locked(cache_file + ".lock"):
        store.atomic_write_sealed(cache_file, {"schema": CACHE_SCHEMA, "sig": sig, "config": config, "last_good": good})
    return config, warnings


def compile_config(
    files: list[str], last_good: dict[str, Any]
) -> tuple[Config, list[str], dict[str, Any]]:
    """Validate each file and the merge (slow path, still standard library only)."""
    config, warnings, good, _ = _validate_layers(files, last_good)
    return config, warnings, good


def file_states(cwd: str | None = None) -> list[LayerState]:
    """Each configuration layer in force: ``{"layer", "file", "state": ok|missing|invalid, "reason"}``."""
    files = _sources(cwd)
    states = _validate_layers(files, {})[3]
    layers: tuple[Literal["defaults", "global", "project"], ...] = ("defaults", "global", "project")
    return [{"layer": layer, **st} for layer, st in zip(layers, states, strict=False)]


def _validate_layers(
    files: list[str], last_good: dict[str, Any]
) -> tuple[Config, list[str], dict[str, Any], list[FileState]]:
    import json

    from . import config_rules  # only when a file changed: a hook with a fresh cache skips the rules

    warnings: list[str] = []
    states: list[FileState] = []
    merged: dict[str, Any] = {}
    good: dict[str, Any] = {}
    for f in files:
        try:
            with open(f, "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            states.append({"file": f, "state": "missing", "reason": None})
            continue
        except OSError as exc:
            warnings.append(f"config {f}: cannot read ({exc.strerror}); ignored")
            states.append({"file": f, "state": "invalid", "reason": f"cannot read ({exc.strerror})"})
            continue
        try:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise ValueError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                                 "save it as UTF-8") from None
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("the file must hold a JSON object")
            config_rules.validate(deep_merge(merged, data))
        except ValueError as exc:
            fallback = last_good.get(str(f))
            if fallback is not None:  # good by an older rule (an amount saved before it had a range)?
                try:
                    config_rules.validate(deep_merge(merged, fallback))
                except ValueError:
                    fallback = None
            kept = "its last good version" if fallback is not None else "defaults for it"
            warnings.append(f"config {f}: {_one_line(exc)} — using {kept}")
            states.append({"file": f, "state": "invalid", "reason": _one_line(exc)})
            if fallback is not None:
                merged = deep_merge(merged, fallback)
                good[str(f)] = fallback
            continue
        merged = deep_merge(merged, data)
        good[str(f)] = data
        states.append({"file": f, "state": "ok", "reason": None})
    return config_rules.validate(merged), warnings, good, states


def _one_line(exc: Exception) -> str:
    import json

    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ())) or "(top level)"
        msg = first.get("msg", "invalid")
        value = first.get("input")
        shown = f" (got {json.dumps(value)[:40]})" if isinstance(value, (str, int, float)) else ""
        return f"{loc}: {msg}{shown}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    return str(exc).splitlines()[0]
