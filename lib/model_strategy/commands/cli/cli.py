"""``model-strategy``: the command line (what the slash commands and the README run).

    model-strategy [--plugin-data DIR] COMMAND [options]      `model-strategy --help` lists every command

The commands, their options and their help are one argparse tree (``parser.tree``); each leaf names the
function that runs it.  ``main`` is the one way in: it picks the data home, takes a slash command's
words, parses, runs the command and reports any problem as one line (``base/errors.fail``).

Each report takes ``--json`` and ``--width N`` (default: the terminal's width on a terminal, else 100).
Messages name commands the way the user runs them there (``base/errors.command``). Exit codes: 0 ok, 1
internal problem, 2 bad input (one line on stderr). ``--plugin-data`` is the ``${CLAUDE_PLUGIN_DATA}`` Claude
Code gives the hooks; slash commands pass it because their shell does not have it (``runtime/base/paths.py``
has the whole rule for the data home: ``MODEL_STRATEGY_DATA_DIR`` > ``--plugin-data`` > ``CLAUDE_PLUGIN_DATA``
> the installed plugin's dir > the default). It also marks a slash-command run: Claude Code aborts a command
whose ``!`` script exits non-zero (the model never sees why), so there a problem is printed on stdout as the
same one line, with exit 0, for Claude to explain.
"""

from __future__ import annotations

import os
import sys

from model_strategy.commands.base.errors import BadInput, fail, set_slash
from model_strategy.runtime.base.store import LockTimeout

from .parser import PROG, split_words, tree


def _slash_argv(argv: list[str]) -> tuple[list[str], str]:
    """A slash command's argv (after ``--plugin-data DIR``): its words come from the hook that saw the
    command's arguments (``<subcommand> --slash-args``, see ``runtime/entry/slashargs.py``), never from the shell
    line.  Options that write where the caller chooses are refused here.  Returns (argv, note)."""
    from model_strategy.runtime.entry import slashargs

    if slashargs.FLAG in argv:
        if len(argv) != 2 or argv[1] != slashargs.FLAG or argv[0] not in slashargs.TAKES_WORDS:
            raise BadInput(f"{slashargs.FLAG} goes right after one of: {', '.join(slashargs.TAKES_WORDS)}")
        sub = argv[0]
        text = slashargs.take(sub)
        if text is None:
            return [sub], ("the arguments of this command did not reach model-strategy (its slash_args hook did not "
                           "run: is the plugin enabled in this session?); this is the output without them")
        if len(text) > slashargs.MAX_CHARS:
            raise BadInput(f"the arguments are too long ({len(text):,} characters; at most "
                           f"{slashargs.MAX_CHARS:,}): describe the use case in a sentence or two")
        words = slashargs.words(text)
        refused = [w for w in words if w.split("=", 1)[0] in slashargs.REFUSED]
        if refused and sub in slashargs.OPTION_WORDS:
            raise BadInput(f"{refused[0].split('=', 1)[0]} is not available in a slash command; run "
                           f"`model-strategy {sub}` in a terminal for it")
        if sub == "catalog":  # `/model-strategy:catalog --vendor openai`: the filters are found among the words
            words = [w for w in words if w not in ("--vendor", "--category")]
        return ([sub, *words] if sub in slashargs.OPTION_WORDS else [sub, "--", *words]), ""
    if argv[:1] in (["install-statusline"], ["uninstall-statusline"]) and argv[1:]:
        raise BadInput(f"{argv[0]} takes no options in a slash command; run it from a terminal for --settings")
    if argv[:1] in (["install-shortcut"], ["uninstall-shortcut"]) and argv[1:]:
        raise BadInput(f"{argv[0]} takes no options in a slash command; run it from a terminal for --project/--force")
    return argv, ""


def _remember_root() -> None:
    import contextlib

    from model_strategy.runtime.base import paths

    from . import shortcut

    with contextlib.suppress(OSError):  # best effort: the shortcut falls back to its install-time root
        shortcut.remember_root(paths.data_dir())
    with contextlib.suppress(Exception):  # best effort: replace an old shortcut that passed $ARGUMENTS to a shell
        shortcut.upgrade_old()


def main(argv: list[str] | None = None) -> int:
    """Every command, with one error path: bad input, a full, read-only or inaccessible data home (or any
    other file a command needs), a lock held too long, a broken catalog: one line naming what failed
    (exit 2 for bad input, else 1; in a slash command on stdout with exit 0), never a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    slash = argv[:1] == ["--plugin-data"]
    try:
        return _main(argv, slash)
    except (BadInput, ValueError, OSError, LockTimeout) as exc:
        return fail(exc, slash)


def _main(argv: list[str], slash: bool) -> int:
    os.umask(0o077)  # the data home is private: files 0600, directories 0700
    set_slash(slash)  # messages name the command the way the user runs it there
    if slash:
        if len(argv) >= 2 and argv[1]:
            from model_strategy.runtime.base import paths

            paths.use_plugin_data(argv[1])
            _remember_root()
        try:
            argv, note = _slash_argv(argv[2:])
        except BadInput as exc:
            print(f"{PROG}: {exc}")
            return 0
        if note:
            print(f"{PROG}: {note}")
    try:
        args, extra = tree().parse_known_args(split_words(argv, slash))
    except SystemExit as exc:  # --help printed
        return 0 if exc.code is None else int(exc.code)
    if extra:
        args.parser.unrecognized(extra)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
