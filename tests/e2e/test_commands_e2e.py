"""The slash commands in the real Claude Code client (offline, fake API): the report produced by the
``!`` command must reach the prompt the API receives.

Runs ``claude -p "/model-strategy:<command> ..." --plugin-dir <repo>`` with the plugin's hooks active
(``MODEL_STRATEGY_PYTHON`` points them and the launcher at the test venv).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PY = os.environ.get("MODEL_STRATEGY_PYTHON") or sys.executable
TODAY = "2026-11-26"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "ms-data"
    d.mkdir()
    return d


def plugin_env(data: Path) -> dict[str, str]:
    return {"MODEL_STRATEGY_PYTHON": PY, "MODEL_STRATEGY_DATA_DIR": str(data), "MODEL_STRATEGY_NOW": TODAY}


def prompt_of(api, n_before: int) -> str:
    reqs = api.messages_requests()
    assert len(reqs) > n_before, "no request reached the fake API"
    return str(reqs[-1]["user_text"])


def test_plugin_command_report_reaches_the_prompt(claude_env, fake_api, data: Path) -> None:
    api = fake_api({"main": []})
    run = claude_env.run("/model-strategy:model-strategy code review", api=api, plugin_dir=REPO,
                         env=plugin_env(data))
    assert run.ok, run.describe()
    prompt = prompt_of(api, 0)
    assert "<command-name>/model-strategy:model-strategy</command-name>" in prompt
    assert "Model strategy — code review" in prompt
    assert "Recommendations" in prompt and "claude-sonnet-5-5 (sonnet)" in prompt
    assert "Basis: assumptions" in prompt
    assert "Summarise it for the user" in prompt  # the command's instructions follow the report


def test_dashboard_and_compare_use_the_records(claude_env, fake_api, data: Path) -> None:
    env = {**os.environ, **plugin_env(data), "PYTHONPATH": f"{REPO / 'lib'}:{REPO / 'tests'}"}
    script = ("import synthrecords, datetime; from model_strategy.commands.knowledge import catalog; "
              "from model_strategy.runtime.books.ledger import Ledger; "
              f"synthrecords.generate(Ledger(), catalog.load(), datetime.date.fromisoformat('{TODAY}'), 10, (5, 8))")
    subprocess.run([PY, "-c", script], check=True, env=env, timeout=120)
    api = fake_api({"main": []})
    run = claude_env.run("/model-strategy:dashboard", api=api, plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    prompt = prompt_of(api, 0)
    assert "Usage dashboard" in prompt and "Spend per day (UTC)" in prompt and "By model" in prompt
    assert "routing saved" in prompt
    n = len(api.messages_requests())
    run = claude_env.run("/model-strategy:efficiency Explore --days 10", api=api, plugin_dir=REPO,
                         env=plugin_env(data))
    assert run.ok, run.describe()
    prompt = prompt_of(api, n)
    assert "Agent efficiency" in prompt and "in the last 10" in prompt and "refactor-bot" not in prompt
    n = len(api.messages_requests())
    run = claude_env.run("/model-strategy:compare sonnet gpt-6.1-sol", api=api, plugin_dir=REPO,
                         env=plugin_env(data))
    assert run.ok, run.describe()
    prompt = prompt_of(api, n)
    assert "Your last 30 days" in prompt and "gpt-6.1-sol" in prompt


def test_bad_input_is_explained_not_aborted(claude_env, fake_api, data: Path) -> None:
    api = fake_api({"main": []})
    run = claude_env.run("/model-strategy:compare gpt-99", api=api, plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    assert "model-strategy: unknown model 'gpt-99'" in prompt_of(api, 0)


def test_errors_and_names_in_the_session(claude_env, fake_api, data: Path) -> None:
    """In a session: hints name the slash command, a bad budget setting is one line (no terminal usage
    block), and a name that looks like rich markup reaches the prompt literally, without a traceback."""
    api = fake_api({"main": []})
    run = claude_env.run("/model-strategy:compare nosuchmodel", api=api, plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    assert "see /model-strategy:catalog for ids and aliases" in prompt_of(api, 0)
    n = len(api.messages_requests())
    run = claude_env.run("/model-strategy:budget set daily abc", api=api, plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    prompt = prompt_of(api, n)
    assert "model-strategy: daily budget must be an amount in USD, e.g. 15 (got 'abc')" in prompt
    assert "usage: model-strategy budget" not in prompt
    env = {**os.environ, **plugin_env(data), "PYTHONPATH": f"{REPO / 'lib'}:{REPO / 'tests'}"}
    script = ("import random, datetime; import synthrecords; from model_strategy.commands.knowledge import catalog; "
              "from model_strategy.runtime.books.ledger import Ledger; l = Ledger(); "
              "r = synthrecords.record(catalog.load(), random.Random(1), "
              f"datetime.datetime.fromisoformat('{TODAY}T09:00:00+00:00'), 's1', 0, agent='Explore'); "
              "r.update(agent_type='reviewer[/strict]', project='[link=https://evil.example]notes[/link]'); "
              "r['decision']['agent_type'] = 'reviewer[/strict]'\n"
              "with l.transaction(): l.commit(r)")
    subprocess.run([PY, "-c", script], check=True, env=env, timeout=120)
    n = len(api.messages_requests())
    run = claude_env.run("/model-strategy:dashboard", api=api, plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    prompt = prompt_of(api, n)
    assert "reviewer[/strict]" in prompt and "[link=https://evil.example]notes[/link]" in prompt
    assert "Traceback" not in prompt and "MarkupError" not in prompt


def test_arguments_with_quotes_and_shell_characters(claude_env, fake_api, data: Path) -> None:
    api = fake_api({"main": []})
    run = claude_env.run("/model-strategy:model-strategy what's best for code review; echo INJECTED", api=api,
                         plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    prompt = prompt_of(api, 0)
    assert "Model strategy — what's best for code review; echo INJECTED" in prompt
    assert "\nINJECTED\n" not in prompt


def test_plain_model_strategy_via_the_installed_shortcut(claude_env, fake_api, data: Path) -> None:
    """/model-strategy:shortcut installs a user command; then plain /model-strategy works.  Without the
    plugin loaded it still runs, but its arguments cannot reach it (they travel through the plugin's
    slash_args hook, never the shell line), and it says so."""
    api = fake_api({"main": []})
    run = claude_env.run("/model-strategy:shortcut", api=api, plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    cmd = claude_env.home / ".claude" / "commands" / "model-strategy.md"
    assert f"installed /model-strategy: {cmd}" in prompt_of(api, 0)
    n = len(api.messages_requests())
    run = claude_env.run("/model-strategy code review", api=api, env=plugin_env(data))  # no --plugin-dir
    assert run.ok, run.describe()
    prompt = prompt_of(api, n)
    assert "<command-name>/model-strategy</command-name>" in prompt
    assert "model-strategy: the arguments of this command did not reach model-strategy" in prompt
    assert "Recommendations" in prompt and "ARGUMENTS: code review" in prompt
    n = len(api.messages_requests())
    run = claude_env.run("/model-strategy code review", api=api, plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    assert "Model strategy — code review" in prompt_of(api, n)


def test_history_imports_sessions_run_without_the_plugin(claude_env, fake_api, data: Path) -> None:
    """A session run before the plugin was there is in Claude Code's transcripts; /model-strategy:history
    imports it (once) and its report reaches the prompt."""
    api = fake_api({"main": []})
    before = claude_env.run("hello without the plugin", api=api)
    assert before.ok, before.describe()
    served = len(api.messages_requests())
    assert served >= 1 and before.transcript_paths()
    run = claude_env.run("/model-strategy:history", api=api, plugin_dir=REPO, env=plugin_env(data))
    assert run.ok, run.describe()
    prompt = prompt_of(api, served)
    assert "<command-name>/model-strategy:history</command-name>" in prompt
    assert "Usage history — daily" in prompt and "Import:" in prompt
    env = {**os.environ, **plugin_env(data), "PYTHONPATH": str(REPO / "lib")}
    script = ("from model_strategy.runtime.books.ledger import Ledger; "
              "print(sum(r['requests'] for r in Ledger().iter_records() if r['source'] == 'import'))")
    imported = subprocess.run([PY, "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert int(imported) == served  # the session without the plugin, each request once
