"""Helpers to drive the real Claude Code client (``claude -p``) against :mod:`fakeapi` offline.

Typical use::

    with FakeAPI(scenario) as api:
        run = run_claude("[[SCENARIO:x]] go", plugin_dir=plugin, api=api,
                         project_dir=make_project(tmp / "proj"), home=make_home(tmp / "home"))
        assert run.returncode == 0, run.describe()
        run.result["total_cost_usd"]

Facts this relies on (Claude Code 2.1.332, see FACTS.md): an empty HOME works without any onboarding /
trust prompt in ``-p`` mode; ``CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`` removes the ``HEAD /api/hello``
probe; ``CLAUDE_CODE_TMPDIR`` relocates ``/tmp/claude-<uid>/`` (task output files, sockets).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import textwrap
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ALLOWED_TOOLS = "Agent Read"

#: env vars of the outer environment that must never leak into the client under test
#: (MODEL_STRATEGY_* too: the plugin under test gets its data dir only if a test passes it explicitly)
_SCRUB_PREFIXES = ("ANTHROPIC_", "CLAUDE", "AWS_", "GOOGLE_", "VERTEX", "OTEL_", "MODEL_STRATEGY_")
_SCRUB_EXACT = {
    "DISABLE_TELEMETRY",
    "DISABLE_AUTOUPDATER",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "ALL_PROXY",
}


# --------------------------------------------------------------------------------------------
# locating the client
# --------------------------------------------------------------------------------------------


def find_claude() -> str | None:
    """``$CLAUDE_BIN``, else ``<repo>/.cache/cc/node_modules/.bin/claude``, else ``claude`` on PATH."""
    env = os.environ.get("CLAUDE_BIN")
    if env:
        p = Path(env)
        return str(p) if p.exists() else shutil.which(env)
    local = REPO_ROOT / ".cache" / "cc" / "node_modules" / ".bin" / "claude"
    if local.exists():
        return str(local)
    return shutil.which("claude")


def expected_claude_version() -> str | None:
    """The client version the facts/tests were pinned against (``tests/e2e/CLAUDE_CODE_VERSION``)."""
    f = Path(__file__).resolve().parent / "CLAUDE_CODE_VERSION"
    return f.read_text().strip() if f.exists() else None


def claude_version(claude: str | None = None, timeout: float = 30) -> str:
    claude = claude or find_claude()
    if not claude:
        raise FileNotFoundError("claude not found")
    out = subprocess.run(
        [claude, "--version"], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return out.stdout.strip()


# --------------------------------------------------------------------------------------------
# fresh HOME / project
# --------------------------------------------------------------------------------------------


def make_home(
    path: Path | str, *, project_dirs: Iterable[Path | str] = (), settings: Mapping[str, Any] | None = None
) -> Path:
    """Create a fresh HOME for the client.

    An empty directory is already enough for ``-p`` (no onboarding, trust dialog skipped in print mode);
    we additionally mark onboarding done and the given project dirs trusted so that nothing interactive
    can ever be triggered, and optionally write ``~/.claude/settings.json``.
    """
    home = Path(path)
    (home / ".claude").mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {
        "hasCompletedOnboarding": True,
        "bypassPermissionsModeAccepted": False,
        "projects": {
            str(Path(p).resolve()): {"hasTrustDialogAccepted": True, "hasCompletedProjectOnboarding": True}
            for p in project_dirs
        },
    }
    (home / ".claude.json").write_text(json.dumps(state, indent=2))
    if settings is not None:
        (home / ".claude" / "settings.json").write_text(json.dumps(settings, indent=2))
    return home


def make_project(path: Path | str, *, readme: str = "hello\n", files: Mapping[str, str] | None = None) -> Path:
    """Create a project dir with a README.md (so ``Read README.md`` works) and optional extra files."""
    proj = Path(path)
    proj.mkdir(parents=True, exist_ok=True)
    (proj / "README.md").write_text(readme)
    for rel, text in (files or {}).items():
        f = proj / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return proj


def make_env(
    api_url: str,
    home: Path | str,
    *,
    tmpdir: Path | str | None = None,
    extra: Mapping[str, str] | None = None,
    disable_nonessential: bool = True,
) -> dict[str, str]:
    """A minimal, scrubbed environment for the client (no credentials of the outer env leak in)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES) and k not in _SCRUB_EXACT}
    env.update(
        {
            "HOME": str(home),
            "ANTHROPIC_BASE_URL": api_url,
            "ANTHROPIC_API_KEY": "dummy",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "DISABLE_AUTOUPDATER": "1",
        }
    )
    if disable_nonessential:
        env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1"
    if tmpdir is not None:
        Path(tmpdir).mkdir(parents=True, exist_ok=True)
        env["CLAUDE_CODE_TMPDIR"] = str(tmpdir)
    if extra:
        env.update(extra)
    return env


# --------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------


@dataclass
class ClaudeRun:
    """Outcome of one ``claude -p`` run."""

    args: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    duration: float
    output: str
    timed_out: bool = False
    result: dict[str, Any] | None = None  # the (last) ``result`` object
    events: list[dict[str, Any]] | None = None  # stream-json events (output="stream-json")
    home: Path | None = None
    project_dir: Path | None = None

    @property
    def ok(self) -> bool:
        return (
            self.returncode == 0 and not self.timed_out and self.result is not None and not self.result.get("is_error")
        )

    @property
    def results(self) -> list[dict[str, Any]]:
        """All ``result`` events (stream-json emits one per turn-set, e.g. a second one after a
        background task notification); for ``json`` output just ``[result]``."""
        if self.events is not None:
            return [e for e in self.events if e.get("type") == "result"]
        return [self.result] if self.result else []

    def system_events(self, subtype: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events or []
            if e.get("type") == "system" and (subtype is None or e.get("subtype") == subtype)
        ]

    def hook_responses(self, event: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.system_events("hook_response") if event is None or e.get("hook_event") == event]

    def transcript_paths(self) -> list[Path]:
        if self.home is None:
            return []
        return sorted((self.home / ".claude" / "projects").glob("*/*.jsonl"))

    def agent_transcript_paths(self) -> list[Path]:
        if self.home is None:
            return []
        return sorted((self.home / ".claude" / "projects").glob("*/*/subagents/agent-*.jsonl"))

    def describe(self) -> str:
        return (
            f"claude exited {self.returncode} after {self.duration:.1f}s (timed_out={self.timed_out})\n"
            f"args: {self.args}\n--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-4000:]}"
        )


def _parse(output: str, stdout: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]] | None]:
    if output == "json":
        for line in reversed(stdout.strip().splitlines() or [""]):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj, None
            if isinstance(obj, list):  # some versions print an array of messages
                res = [e for e in obj if isinstance(e, dict) and e.get("type") == "result"]
                return (res[-1] if res else None), obj
        try:
            return json.loads(stdout), None
        except ValueError:
            return None, None
    if output == "stream-json":
        events = []
        for line in stdout.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
        res = [e for e in events if e.get("type") == "result"]
        return (res[-1] if res else None), events
    return None, None


def run_claude(
    prompt: str,
    *,
    plugin_dir: Path | str | Sequence[Path | str] | None,
    api: Any,
    project_dir: Path | str,
    home: Path | str,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    output: str = "json",
    timeout: float = 120,
    allowed_tools: str | None = DEFAULT_ALLOWED_TOOLS,
    include_hook_events: bool = True,
    tmpdir: Path | str | None = None,
    claude: str | None = None,
) -> ClaudeRun:
    """Run ``claude -p <prompt>`` against the fake API.

    ``api`` is a :class:`fakeapi.FakeAPI` (or anything with ``.url``) or a base-URL string.
    ``plugin_dir`` may be one dir, several, or None; paths are made absolute.
    ``output`` = ``"json"`` (parsed into ``.result``), ``"stream-json"`` (``--verbose`` and, by default,
    ``--include-hook-events`` are added; parsed into ``.events``; ``.result`` = last result event)
    or ``"text"``.  ``env`` entries are added on top of :func:`make_env`.
    The whole process group is killed on timeout (``.timed_out`` is set; no exception).
    """
    claude = claude or find_claude()
    if not claude:
        raise FileNotFoundError("claude binary not found (set CLAUDE_BIN)")
    url = api if isinstance(api, str) else api.url
    home = Path(home)
    project_dir = Path(project_dir)
    if tmpdir is None:
        tmpdir = home.parent / (home.name + "-tmp")
    full_env = make_env(url, home, tmpdir=tmpdir, extra=env)

    args = [claude, "-p", prompt, "--output-format", output]
    if plugin_dir is not None:
        dirs = [plugin_dir] if isinstance(plugin_dir, (str, Path)) else list(plugin_dir)
        for d in dirs:
            args += ["--plugin-dir", str(Path(d).resolve())]
    if output == "stream-json":
        args.append("--verbose")
        if include_hook_events:
            args.append("--include-hook-events")
    if allowed_tools:
        args += ["--allowedTools", allowed_tools]
    args += list(extra_args)

    t0 = time.monotonic()
    proc = subprocess.Popen(
        args,
        cwd=str(project_dir),
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # own process group, so a timeout can kill hooks/children too
    )
    timed_out = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        stdout, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            _kill_group(proc)
            proc.wait(timeout=10)
    duration = time.monotonic() - t0
    result, events = _parse(output, stdout or "")
    return ClaudeRun(
        args=args,
        returncode=proc.returncode,
        stdout=stdout or "",
        stderr=stderr or "",
        duration=duration,
        output=output,
        timed_out=timed_out,
        result=result,
        events=events,
        home=home,
        project_dir=project_dir,
    )


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group created by start_new_session for this child only
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            proc.kill()


# --------------------------------------------------------------------------------------------
# transcripts
# --------------------------------------------------------------------------------------------


def read_jsonl(path: Path | str) -> list[dict[str, Any]]:
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
    return out


def assistant_entries(path: Path | str) -> list[dict[str, Any]]:
    return [e for e in read_jsonl(path) if e.get("type") == "assistant"]


# --------------------------------------------------------------------------------------------
# throwaway probe plugin
# --------------------------------------------------------------------------------------------

PROBE_EVENTS: dict[str, str | None] = {
    "PreToolUse": "Agent|Task",
    "PostToolUse": None,
    "SubagentStart": None,
    "SubagentStop": None,
    "Stop": None,
    "SessionStart": None,
}

_PROBE_SCRIPT = textwrap.dedent(
    r'''
    """Probe hook: append stdin (+ CLAUDE_* env, + transcript snapshots) to a JSONL log, then act."""
    import json, os, sys, time

    LOG = {log!r}
    ACTIONS = {actions_file!r}

    def snap(p):
        try:
            with open(p, encoding="utf-8") as fh:
                lines = [json.loads(x) for x in fh if x.strip()]
        except Exception as e:
            return {{"path": p, "exists": os.path.exists(p), "error": repr(e)}}
        asst = [x for x in lines if x.get("type") == "assistant"]
        return {{"path": p, "exists": True, "n_lines": len(lines), "n_assistant": len(asst),
                 "message_ids": sorted({{(x.get("message") or {{}}).get("id") for x in asst}} - {{None}}),
                 "has_cost_state": any(x.get("type") == "cost-state" for x in lines)}}

    raw = sys.stdin.read()
    try:
        data = json.loads(raw)
    except Exception:
        data = {{"_raw_stdin": raw}}
    rec = dict(data)
    rec["_env"] = {{k: v for k, v in os.environ.items() if k.startswith("CLAUDE")}}
    rec["_time"] = time.time()
    rec["_pid"] = os.getpid()
    rec["_cwd"] = os.getcwd()
    pdata = os.environ.get("CLAUDE_PLUGIN_DATA")
    rec["_plugin_data_exists"] = bool(pdata) and os.path.isdir(pdata)
    if data.get("transcript_path") and data.get("hook_event_name") in ("Stop", "SubagentStop", "PostToolUse"):
        rec["_transcript"] = snap(data["transcript_path"])
    if data.get("agent_transcript_path"):
        rec["_agent_transcript"] = snap(data["agent_transcript_path"])
    if data.get("agent_id") and str(data.get("transcript_path", "")).endswith(".jsonl"):
        meta = data["transcript_path"][:-6] + "/subagents/agent-" + data["agent_id"] + ".meta.json"
        try:
            with open(meta, encoding="utf-8") as fh:
                rec["_agent_meta"] = json.load(fh)
        except Exception as e:
            rec["_agent_meta"] = {{"error": repr(e)}}
    tr = data.get("tool_response")
    if isinstance(tr, dict) and tr.get("agentId") and str(data.get("transcript_path", "")).endswith(".jsonl"):
        derived = data["transcript_path"][:-6] + "/subagents/agent-" + tr["agentId"] + ".jsonl"
        rec["_agent_transcript_derived"] = snap(derived)
    with open(LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(rec) + "\n")

    try:
        with open(ACTIONS, encoding="utf-8") as fh:
            actions = json.load(fh)
    except Exception:
        actions = {{}}
    act = actions.get(data.get("hook_event_name", ""))
    if not act:
        sys.exit(0)
    if act.get("tool") and act["tool"] != data.get("tool_name"):
        sys.exit(0)
    if act.get("sleep"):
        time.sleep(float(act["sleep"]))
    out = None
    if act.get("set_model"):
        ti = dict(data.get("tool_input") or {{}})
        ti["model"] = act["set_model"]
        out = {{"hookSpecificOutput": {{"hookEventName": "PreToolUse", "permissionDecision": "allow",
                                       "updatedInput": ti}}}}
    if act.get("json") is not None:
        out = dict(out or {{}})
        out.update(act["json"])
    if act.get("system_message"):
        out = dict(out or {{}})
        out["systemMessage"] = act["system_message"]
    if out is not None:
        sys.stdout.write(json.dumps(out))
    if act.get("stdout"):
        sys.stdout.write(act["stdout"])
    if act.get("stderr"):
        sys.stderr.write(act["stderr"])
    sys.stdout.flush()
    sys.exit(int(act.get("exit", 0)))
    '''
)


@dataclass
class ProbePlugin:
    """A generated plugin whose hooks log everything they receive (see :func:`make_probe_plugin`)."""

    root: Path
    name: str
    log_path: Path
    actions_path: Path
    events: dict[str, str | None] = field(default_factory=dict)

    def records(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        recs = read_jsonl(self.log_path)
        return [r for r in recs if event is None or r.get("hook_event_name") == event]

    def sequence(self) -> list[str]:
        """``["SessionStart", "PreToolUse:Agent", "SubagentStart", ...]`` in firing order."""
        out = []
        for r in self.records():
            ev = r.get("hook_event_name", "?")
            if r.get("tool_name"):
                ev += ":" + r["tool_name"]
            out.append(ev)
        return out

    def set_actions(self, actions: Mapping[str, Mapping[str, Any]]) -> None:
        """Per-event behaviour, e.g. ``{"PreToolUse": {"tool": "Agent", "set_model": "haiku"}}``.

        Keys per event: ``tool`` (only act for this tool_name), ``sleep`` (seconds), ``set_model``
        (PreToolUse allow + updatedInput = original input + model), ``json`` (object merged into the
        JSON printed), ``system_message``, ``stdout`` / ``stderr`` (raw text), ``exit`` (code)."""
        self.actions_path.write_text(json.dumps(actions))

    def add_command(self, name: str, text: str) -> Path:
        p = self.root / "commands" / f"{name}.md"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        return p


def make_probe_plugin(
    path: Path | str,
    *,
    name: str = "probe",
    events: Mapping[str, str | None] | None = None,
    actions: Mapping[str, Mapping[str, Any]] | None = None,
    timeouts: Mapping[str, int] | None = None,
    python: str = "python3",
) -> ProbePlugin:
    """Generate a throwaway plugin: ``.claude-plugin/plugin.json`` + ``hooks/hooks.json`` whose hooks
    (default: PreToolUse[Agent|Task], PostToolUse, SubagentStart, SubagentStop, Stop, SessionStart)
    append their stdin + CLAUDE_* env to ``<root>/hook-log.jsonl``."""
    root = Path(path).resolve()
    (root / ".claude-plugin").mkdir(parents=True, exist_ok=True)
    (root / "hooks").mkdir(parents=True, exist_ok=True)
    log_path = root / "hook-log.jsonl"
    actions_path = root / "hooks" / "actions.json"
    (root / ".claude-plugin" / "plugin.json").write_text(
        json.dumps(
            {"name": name, "version": "0.0.1", "description": "throwaway probe plugin", "author": {"name": "e2e"}},
            indent=2,
        )
    )
    (root / "hooks" / "probe_hook.py").write_text(
        _PROBE_SCRIPT.format(log=str(log_path), actions_file=str(actions_path))
    )
    evs = dict(PROBE_EVENTS if events is None else events)
    cmd = f'{python} "${{CLAUDE_PLUGIN_ROOT}}/hooks/probe_hook.py"'
    hooks: dict[str, list[dict[str, Any]]] = {}
    for ev, matcher in evs.items():
        h: dict[str, Any] = {"type": "command", "command": cmd}
        if timeouts and ev in timeouts:
            h["timeout"] = timeouts[ev]
        entry: dict[str, Any] = {"hooks": [h]}
        if matcher:
            entry["matcher"] = matcher
        hooks[ev] = [entry]
    (root / "hooks" / "hooks.json").write_text(json.dumps({"hooks": hooks}, indent=2))
    plugin = ProbePlugin(root=root, name=name, log_path=log_path, actions_path=actions_path, events=evs)
    plugin.set_actions(actions or {})
    return plugin
