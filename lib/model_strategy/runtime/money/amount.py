"""One way to make a money amount: ``amount(value)`` is ``decimal.Decimal(value)``, with ``decimal``
imported on its first use.

Importing ``decimal`` costs a hook process about 3 ms (it brings ``collections`` and ``numbers``):
every hook loads the ledger's modules, but money is added up only where a record is written, a
cache takes in new records or a budget level is worked out again -- a spawn that finds all of them
up to date does no arithmetic on money, and so does not import it.  Standard library only (hot
path).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from decimal import Decimal

_decimal: type[Decimal] | None = None  # the class, once imported (an import statement per call costs 4 x the Decimal)


def amount(value: str | int | float | Decimal = 0) -> Decimal:
    """``Decimal(value)``: an exact amount from a decimal string, an int, or a float's exact value."""
    global _decimal
    if _decimal is None:
        from decimal import Decimal

        _decimal = Decimal
    return _decimal(value)
