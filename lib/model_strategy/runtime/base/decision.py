"""The routing decision for one spawn as a typed value: ``selector.decide`` builds it, learning
(``routing/learning.route``) and the budget and window policies (``limits``) change it in place, the
session state keeps it as it is (``tool_use_id``, ``ts`` and ``denied`` added) and the agent's record
carries it.  ``models.Decision`` is the same shape, strict, for the commands.

Type-checking only -- a ``TypedDict`` is a plain dict at run time, so the hooks pay nothing to import
it.  It lives in ``base`` because every room on the hook path handles it: the budget policy (``limits``)
and the records (``books``) as much as ``routing`` and ``entry``.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

Source = Literal["explicit", "agent", "complexity", "budget", "default", "fork"]


class Decision(TypedDict):
    agent_type: str
    requested: str | None  # the model the caller set
    chosen: str  # the model the spawn runs on ("inherit" for a fork)
    source: Source
    profile: str
    confidence: float
    complexity: float
    reasons: list[str]
    budget_level: str  # the worst budget or window level acting on it ("ok")
    prompt_hash: str
    background: bool
    effort: str | None  # the effort the spawn runs at (None: the agent's usual effort)
    requested_effort: str | None
    summary: NotRequired[str]  # the routing line's short why; dropped when the decision is kept
    # set when the session state keeps it
    tool_use_id: NotRequired[str]  # the spawn's tool_use_id (``<Workflow id>#<n>`` for a workflow's calls)
    ts: NotRequired[str]
    denied: NotRequired[bool]
    agent_id: NotRequired[str | None]  # the agent this decision was joined to
    # a Workflow's agent() calls
    workflow: NotRequired[str | None]  # the Workflow call's tool_use_id
    shared: NotRequired[bool]  # the rule for calls with a computed prompt (joins many agents)
    # routing that learns: agent type × complexity band × profile, the static rule's tier, the
    # probability the policy gave the tier it picked, why learning moved it, exploration
    bucket: NotRequired[list[str]]
    static: NotRequired[str]
    p: NotRequired[float]
    learned: NotRequired[str | None]
    explored: NotRequired[bool]
    escalated: NotRequired[bool]  # the caller re-spawned the task on a higher tier: this run failed


class Verdict(TypedDict, total=False):
    """The budget and window policies' verdict on a decision (``budget.apply_policy``); empty: nothing
    acts on it."""

    deny: bool  # refuse the spawn
    reason: str  # why it is denied
    note: str  # the limit that acted (said after the routing line)
    picked: str  # the model the selector picked before a policy took it down
