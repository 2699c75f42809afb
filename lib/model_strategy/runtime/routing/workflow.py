"""Route the ``agent()`` calls of a ``Workflow`` script.

Claude Code (2.1.332) runs a Workflow script's body inside ``async () => {'use strict'; <body>}`` in a
``vm`` context whose global object holds ``agent``, ``parallel``, ``pipeline`` and ``workflow``
(writable properties).  Its agents never pass through ``PreToolUse(Agent)``; ``PreToolUse(Workflow)``
sees the whole script.  So the hook appends one function declaration to the script::

    function agent(prompt, opts) { ...; return globalThis.agent(prompt, opts with model / effort) }

A function declaration is hoisted to the top of the body: every ``agent(...)`` of the script, before or
after it, calls it; it calls the client's own ``agent`` with the options the routing table says.  The
script's code is not touched.  The table is JSON (data, never code built from the script's text):

* ``calls``: per literal prompt (FNV-1a of its UTF-16 code units, computed the same way in JS and here)
  the decisions made for the calls with that prompt, agent type and requested model / effort;
* ``types`` / ``other``: the rule for calls whose prompt is computed at run time (per literal agent type,
  and for any other type), decided on the type alone.

Scripts that declare or assign ``agent`` themselves are left alone.  ``workflow()`` children (named or
``scriptPath`` sub-workflows) get the client's own ``agent`` and are not routed.  Standard library only.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypedDict

    class Rule(TypedDict):
        """The model and effort to give a call (None: leave it)."""

        m: str
        e: str | None

    class CallRule(Rule):
        """A literal call's decision, for the calls with its agent type and requested model / effort."""

        t: str | None
        rm: str | None
        re: str | None

    class Table(TypedDict):
        """The routing table the appended ``agent`` function reads (see the module's docstring)."""

        calls: dict[str, list[CallRule]]  # per FNV-1a of a literal prompt
        types: dict[str, Rule]  # computed prompts, per literal agent type
        other: Rule  # computed prompts of any other type
        keepModel: bool  # a model the caller set is kept (unless the call was decided one by one)
        keepEffort: bool

#: the agent type Claude Code gives an ``agent()`` call whose options name none
DEFAULT_TYPE = "workflow-subagent"
BEGIN = "// >>> model-strategy: routes the agent() calls above"
END = "// <<< model-strategy"
UNKNOWN = "\x00?"  # an option whose value is computed at run time
MAX_SCRIPT = 524288  # UTF-16 code units: Claude Code refuses a longer script
MAX_CALLS = 100  # literal calls decided one by one; later ones follow the rules for computed calls

_KEYWORDS_BEFORE_EXPR = frozenset(("return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw",
                                   "case", "do", "else", "yield", "await"))


class Call:
    """One ``agent(prompt, opts)`` call as written in the script.  (Plain classes, not dataclasses:
    ``dataclasses`` costs ~12 ms to import, more than a hook may take.)"""

    __slots__ = ("agent_type", "effort", "label", "model", "prompt")

    def __init__(self, prompt: str | None, agent_type: str | None, model: str | None, effort: str | None,
                 label: str | None) -> None:
        self.prompt = prompt  # the literal prompt; None when computed at run time
        self.agent_type = agent_type  # None when computed at run time
        self.model = model  # UNKNOWN when computed
        self.effort = effort  # UNKNOWN when computed
        self.label = label


# ------------------------------------------------------------------ a small JavaScript tokenizer


class _Tok:
    __slots__ = ("kind", "text", "value")

    def __init__(self, kind: str, text: str, value: str | None = None) -> None:
        self.kind = kind  # id, num, str, tmpl, regex, punct
        self.text = text
        self.value = value  # decoded string / template without substitutions


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}


def _decode(body: str) -> str | None:
    """The value of a string literal's body (between the quotes); None for what strict mode refuses."""
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            return None
        c = body[i]
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
            i += 1
        elif c == "0" and not (i + 1 < n and body[i + 1].isdigit()):
            out.append("\0")
            i += 1
        elif c.isdigit():
            return None  # legacy octal: a SyntaxError in strict code
        elif c == "x":
            hexa = body[i + 1:i + 3]
            if len(hexa) != 2 or any(h not in "0123456789abcdefABCDEF" for h in hexa):
                return None
            out.append(chr(int(hexa, 16)))
            i += 3
        elif c == "u":
            if body[i + 1:i + 2] == "{":
                close = body.find("}", i + 2)
                digits = body[i + 2:close] if close > 0 else ""
                if not digits or any(h not in "0123456789abcdefABCDEF" for h in digits) or int(digits, 16) > 0x10FFFF:
                    return None
                out.append(chr(int(digits, 16)))
                i = close + 1
            else:
                hexa = body[i + 1:i + 5]
                if len(hexa) != 4 or any(h not in "0123456789abcdefABCDEF" for h in hexa):
                    return None
                out.append(chr(int(hexa, 16)))
                i += 5
        elif c == "\r":  # line continuation
            i += 2 if body[i + 1:i + 2] == "\n" else 1
        elif c in "\n\u2028\u2029":
            i += 1
        else:
            out.append(c)
            i += 1
    text = "".join(out)
    # \uD83D\uDE00 written as two escapes is one character in JS: join surrogate pairs
    try:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        return text


def _tokens(src: str) -> list[_Tok]:
    """Tokens of a script, comments dropped.  Good enough to find calls; never used to change code."""
    toks: list[_Tok] = []
    braces: list[str] = []  # "{" or "${" (a template substitution)
    i, n = 0, len(src)

    def regex_allowed() -> bool:
        if not toks:
            return True
        last = toks[-1]
        if last.kind in ("num", "str", "tmpl", "regex"):
            return False
        if last.kind == "id":
            return last.text in _KEYWORDS_BEFORE_EXPR
        return last.text not in (")", "]", "}")

    def template(start: int) -> int:
        """Scan a template from just after ` (or after the } closing a substitution)."""
        j = start
        while j < n:
            c = src[j]
            if c == "\\":
                j += 2
            elif c == "`":
                return j + 1
            elif c == "$" and src[j + 1:j + 2] == "{":
                braces.append("${")
                return j + 2
            else:
                j += 1
        return n

    while i < n:
        c = src[i]
        if c in " \t\n\r\ufeff\u00a0\u2028\u2029\v\f":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c in "'\"":
            j = i + 1
            while j < n and src[j] != c and src[j] != "\n":
                j += 2 if src[j] == "\\" else 1
            toks.append(_Tok("str", src[i:j + 1], _decode(src[i + 1:j])))
            i = j + 1
        elif c == "`":
            j = template(i + 1)
            whole = src[i:j]
            plain = not (braces and braces[-1] == "${" and whole.endswith("${"))
            value = _decode(src[i + 1:j - 1].replace("\r\n", "\n").replace("\r", "\n")) if plain else None
            toks.append(_Tok("tmpl", whole, value))
            i = j
        elif c == "}" and braces and braces[-1] == "${":
            braces.pop()
            j = template(i + 1)  # the rest of the template: the whole template is computed
            toks.append(_Tok("tmpl", src[i:j]))
            i = j
        elif c == "/" and regex_allowed():
            j, in_class = i + 1, False
            while j < n and src[j] != "\n":
                if src[j] == "\\":
                    j += 2
                    continue
                if src[j] == "[":
                    in_class = True
                elif src[j] == "]":
                    in_class = False
                elif src[j] == "/" and not in_class:
                    break
                j += 1
            j += 1
            while j < n and (src[j].isalnum() or src[j] in "_$"):
                j += 1
            toks.append(_Tok("regex", src[i:j]))
            i = j
        elif c.isdigit() or (c == "." and src[i + 1:i + 2].isdigit()):
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] in "._"):
                j += 1
            toks.append(_Tok("num", src[i:j]))
            i = j
        elif c.isalpha() or c in "_$\\" or ord(c) > 127:
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] in "_$\\" or ord(src[j]) > 127) \
                    and src[j] not in "\u2028\u2029\u00a0\ufeff":
                j += 1
            toks.append(_Tok("id", src[i:j]))
            i = j
        else:
            for p in ("...", "?.", "=>", "===", "!==", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "||=",
                      "&&=", "??="):
                if src.startswith(p, i):
                    break
            else:
                p = c
            if p == "{":
                braces.append("{")
            elif p == "}" and braces:
                braces.pop()
            toks.append(_Tok("punct", p))
            i += len(p)
    return toks


# ------------------------------------------------------------------ finding the calls


def _skip_expr(toks: list[_Tok], i: int, stops: tuple[str, ...]) -> int:
    """The index of the first top-level token in ``stops`` from ``i`` (or len)."""
    depth = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "punct":
            if t.text in ("(", "[", "{"):
                depth += 1
            elif t.text in (")", "]", "}"):
                if depth == 0:
                    return i
                depth -= 1
            elif depth == 0 and t.text in stops:
                return i
        i += 1
    return i


def _literal(toks: list[_Tok], i: int) -> tuple[str | None, bool]:
    """(value, is a literal) of a string/template token followed by nothing but the end of its argument."""
    t = toks[i] if i < len(toks) else None
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if t is None or t.kind not in ("str", "tmpl") or t.value is None:
        return None, False
    if nxt is None or nxt.kind != "punct" or nxt.text not in (",", ")", "}"):
        return None, False
    return t.value, True


def _options(toks: list[_Tok], i: int) -> tuple[dict[str, str], bool]:
    """The literal string options of an object literal at ``toks[i]`` ("{"), and whether any option
    may be set at run time (spread, computed key, not a literal)."""
    found: dict[str, str] = {}
    if i >= len(toks) or toks[i].text != "{" or toks[i].kind != "punct":
        return found, True
    dynamic = False
    i += 1
    while i < len(toks) and not (toks[i].kind == "punct" and toks[i].text == "}"):
        t = toks[i]
        if t.kind == "id" or (t.kind == "str" and t.value is not None):
            key = t.text if t.kind == "id" else str(t.value)
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is not None and nxt.kind == "punct" and nxt.text == ":":
                value, ok = _literal(toks, i + 2)
                if ok and value is not None:
                    found[key] = value
                    i += 3
                else:
                    found[key] = UNKNOWN
                    i = _skip_expr(toks, i + 2, (",",))
            else:  # shorthand `{ model }`, a method, a getter...
                found[key] = UNKNOWN
                i = _skip_expr(toks, i + 1, (",",))
        else:  # `...spread`, `[computed]: v`
            dynamic = True
            i = _skip_expr(toks, i + 1, (",",))
        if i < len(toks) and toks[i].kind == "punct" and toks[i].text == ",":
            i += 1
    return found, dynamic


class Script:
    __slots__ = ("calls", "children", "own")

    def __init__(self, calls: list[Call], own: bool, children: bool) -> None:
        self.calls = calls
        self.own = own  # the script declares or assigns ``agent`` itself (then it is left alone)
        self.children = children  # it starts child workflows (``workflow(...)``), whose calls are not routed


def parse(script: str) -> Script:
    """The ``agent(...)`` calls of a script in source order, and what else routing must know."""
    toks = _tokens(script)
    calls: list[Call] = []
    own = children = False
    for i, t in enumerate(toks):
        if t.kind != "id" or t.text not in ("agent", "workflow"):
            continue
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if prev is not None and prev.kind == "punct" and prev.text in (".", "?."):
            continue  # a property: x.agent(...)
        if t.text == "workflow":
            children = children or (nxt is not None and nxt.kind == "punct" and nxt.text == "(")
            continue
        if prev is not None and prev.kind == "id" and prev.text in ("function", "class", "const", "let", "var"):
            own = True
            continue
        if nxt is not None and nxt.kind == "punct" and nxt.text in ("=", "+=", "||=", "&&=", "??="):
            own = True
            continue
        if nxt is None or nxt.kind != "punct" or nxt.text != "(":
            continue
        prompt, literal = _literal(toks, i + 2)
        end = i + 3 if literal else _skip_expr(toks, i + 2, (",",))
        opts: dict[str, str] = {}
        dynamic = False
        if end + 1 < len(toks) and toks[end].kind == "punct" and toks[end].text == "," \
                and not (toks[end + 1].kind == "punct" and toks[end + 1].text == ")"):
            opts, dynamic = _options(toks, end + 1)
        agent_type = opts.get("agentType", None if dynamic else DEFAULT_TYPE)
        calls.append(Call(
            prompt=prompt if literal else None,
            agent_type=None if agent_type == UNKNOWN else agent_type,
            model=opts.get("model", UNKNOWN if dynamic else None),
            effort=opts.get("effort", UNKNOWN if dynamic else None),
            label=opts.get("label") if opts.get("label") != UNKNOWN else None))
    return Script(calls, own, children)


def meta_name(script: str) -> str:
    """The ``name`` of a script's ``export const meta = {name: '…'}`` ("" when not a literal)."""
    toks = _tokens(script[:4000])
    for i, t in enumerate(toks[:-2]):
        if t.kind == "id" and t.text == "meta" and toks[i + 1].text == "=":
            return _options(toks, i + 2)[0].get("name", "").replace(UNKNOWN, "")
    return ""


# ------------------------------------------------------------------ the rewrite


def fnv(text: str) -> str:
    """FNV-1a (32 bit) over UTF-16 code units, as hex: the JS prelude computes the same."""
    h = 0x811C9DC5
    data = text.encode("utf-16-le", "surrogatepass")
    for k in range(0, len(data), 2):
        h = ((h ^ (data[k] | data[k + 1] << 8)) * 0x01000193) & 0xFFFFFFFF
    return format(h, "x")


def strip(script: str) -> str:
    """The script without a routing block an earlier run appended (a persisted script run again)."""
    start = script.find("\n" + BEGIN)
    if start < 0:
        return script
    stop = script.find(END, start)
    if stop < 0:
        return script
    return script[:start] + script[stop + len(END):].removeprefix("\n")


_PRELUDE = """
{begin} (added by the model-strategy plugin; regenerated on every run)
function agent(prompt, opts) {{
  const r = {table};
  if (opts != null && typeof opts !== 'object') return globalThis.agent(prompt, opts);
  const type = opts == null || opts.agentType == null ? {default_type} : String(opts.agentType);
  const m = opts == null || opts.model == null ? null : String(opts.model);
  const e = opts == null || opts.effort == null ? null : String(opts.effort);
  let hit = null;
  if (typeof prompt === 'string') {{
    let x = 0x811c9dc5;
    for (let i = 0; i < prompt.length; i++) x = Math.imul(x ^ prompt.charCodeAt(i), 0x01000193);
    hit = (r.calls[(x >>> 0).toString(16)] || []).find((c) => c.t === type && c.rm === m && c.re === e) || null;
  }}
  const rule = hit || r.types[type] || r.other;
  const model = rule.m && (hit || m === null || !r.keepModel) ? rule.m : null;
  const effort = rule.e && (hit || e === null || !r.keepEffort) ? rule.e : null;
  if (model === null && effort === null) return globalThis.agent(prompt, opts);
  const o = Object.assign({{}}, opts);
  if (model !== null) o.model = model;
  if (effort !== null) o.effort = effort;
  return globalThis.agent(prompt, o);
}}
{end}
"""


def rewrite(script: str, table: Table) -> str:
    """``script`` (without an earlier routing block) plus the routing function for ``table``."""
    from model_strategy.runtime.base.fastjson import dumps_ascii

    body = strip(script)
    if not body.endswith("\n"):
        body += "\n"
    # ASCII JSON: no character of the table can end a line or a string early in JS
    return body + _PRELUDE.format(begin=BEGIN, end=END, table=dumps_ascii(table),
                                  default_type=dumps_ascii(DEFAULT_TYPE))[1:]


def printable(text: str, limit: int = 40) -> str:
    """A label from the script, safe to show on one line of the user's terminal."""
    cleaned = "".join(c if c.isprintable() else " " for c in text).strip()
    return cleaned if len(cleaned) <= limit else cleaned[:limit - 1] + "…"

