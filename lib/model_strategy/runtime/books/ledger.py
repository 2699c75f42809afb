"""The ledger: the user's financial record, and the only source of truth.

* ``daily/YYYY-MM-DD.json`` -- JSON Lines, append-only, one record per agent run, agent continuation
  or main-thread slice, filed by the UTC date of the record's ``ts`` (when the usage happened).
  Records carry stable ids (``records.py``); ``commit`` never writes an id, or a request (its key),
  twice -- the key checked against the whole ledger, every day file and archived month.
* Everything else is a cache derived from those files and rebuilt from them whenever it is
  missing, cut, corrupt, of another schema or behind:

  - ``index/YYYY-MM-DD.ids`` -- the ids and request keys of a day file (``dayfiles.py``);
  - ``index/keys/`` -- every request key in the ledger, sharded (``keys.py``);
  - ``monthly/YYYY-MM.json``, ``totals.json`` and the other folded caches (``folds.py``);
  - ``sessions/<id>.json`` -- per-session working state (``sessions.py``).

* Writers take one lock; a recording hook that cannot get it parks its write in ``spool/``, and
  whoever holds the lock next merges it (``journal.py``).
* Months past the retention move into ``archive/YYYY-MM.jsonl.gz`` (``archive.py`` writes them,
  ``archived.py`` reads them); nothing is lost.

``Ledger`` is the ledger as hooks and commands open it: the ``journal.Journal`` (files, indexes,
lock, commits, spool, session state) with the caches folded from it, and the recorder's appliers
of parked writes.  Standard library only (hot path).
"""

from __future__ import annotations

from . import folds
from .journal import Journal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from .records import Record

    T = TypeVar("T")


class Ledger(Journal):
    def apply_spooled(self, kind: str, payload: dict[str, Any]) -> None:
        """Commit one parked write (inside a transaction).  The recorder is imported only when the
        spool holds something: it brings pricing and the transcript reader, which most hooks never need."""
        from . import recorder

        recorder.apply_spooled(self, kind, payload)

    # ------------------------------------------------------------------ derived caches (folds.py)

    def fold(self, name: str, since: str | None, until: str | None, fresh: Callable[[], T],
             add: Callable[[T, Record], None], schema: int, key: Any = None,
             prune: Callable[[T, str], None] | None = None,
             valid: Callable[[T], bool | str] | None = None) -> T:
        """A cache file ``name`` folded from the records of the day files in [since, until]: ``folds.fold``."""
        return folds.fold(self, name, since, until, fresh, add, schema, key, prune, valid)

    def rollup(self, month: str) -> dict[str, Any]:
        """The roll-up of a month (``YYYY-MM``): totals by model, agent type, day and project."""
        return folds.rollup(self, month)

    def monthly(self, month: str) -> dict[str, Any] | None:
        data = self.rollup(month)
        return data if data.get("total") else None
