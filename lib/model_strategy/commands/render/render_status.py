"""The plain-text views of the data home: ``model-strategy status`` and ``model-strategy doctor`` (no
tables: one line per fact, as a terminal or a slash command shows it)."""

from __future__ import annotations

import io

from model_strategy.commands.base.words import plural
from model_strategy.commands.usage.ledger_cli import Doctor
from model_strategy.commands.usage.status import Status


def status(d: Status) -> str:
    """``status``: the data home and why, the plugin, the environment, hook health, records, config."""
    home, env, hooks, plugin = d["data_home"], d["environment"], d["hooks"], d["plugin"]
    interp = env["hook_interpreter"]
    lines = [
        f"data home    {home['path']}",
        f"             picked by: {home['why']}",
        *(f"             also found: {p} (not used)" for p in home["other_candidates"]),
        *([f"             legacy dir {home['legacy_dir']} (earlier terminal default) is not used; "
           "move its config.json here if you want its settings"] if home["legacy_dir"] else []),
        f"plugin       {plugin['version'] or '?'} at {plugin['root']}",
        f"venv         {env['venv']}" + (f" (last setup failed: {env['venv_setup_failed']})"
                                         if env["venv_setup_failed"] and env["venv"] != "ready" else ""),
        f"hooks run on {interp['path'] or '-'}" + (f" ({interp['version']})" if interp.get("version") else "")
        + f": {interp['why']}",
    ]
    last = hooks["last_error"]
    if last:
        lines.append(f"hook health  {plural(hooks['errors_24h'], 'error')} in the last 24 h; last {last['time']} in "
                     f"{last['hook']}: {last['error'] or '?'}")
    else:
        lines.append("hook health  no internal errors logged")
    lines.append(f"records      {d['records']}")
    unpriced = d["unpriced_models"]
    lines.append("unpriced     " + (", ".join(f"{m} ({plural(n, 'record')})" for m, n in unpriced.items()) if unpriced
                                   else "none"))
    for layer in d["config"]:
        state = layer["state"] + (f": {layer['reason']}" if layer["reason"] else "")
        lines.append(f"config       {layer['layer']:<9}{state:<9} {layer['file']}" if layer["state"] != "invalid"
                     else f"config       {layer['layer']:<9}{layer['file']}: {state}")
    return "\n".join(lines) + "\n"


def doctor(result: Doctor) -> str:
    """``doctor``: every check, one line each, and what to do about a problem."""
    buf = io.StringIO()
    buf.write(f"model-strategy doctor: {result['data_home']}\n")
    for c in result["checks"]:
        mark = "ok " if c["ok"] and not c["repaired"] else "fix" if c["repaired"] else "BAD"
        buf.write(f"  [{mark}] {c['name']}: {c['detail']}\n")
    for w in result["warnings"]:
        buf.write(f"  warning: {w}\n")
    if result["ok"]:
        buf.write("all good\n")
    elif any(not c["ok"] and c.get("repairable", True) for c in result["checks"]):
        buf.write("problems found; run `model-strategy doctor --repair`\n")
    else:  # say so rather than send the user to a repair that changes nothing
        buf.write("problems found that --repair does not change (the ledger's records are never rewritten)\n")
    return buf.getvalue()
