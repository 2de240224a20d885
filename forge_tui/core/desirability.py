"""KTO desirability of an example (ExampleMeta.desirability) as the Examples table shows and filters it."""

from __future__ import annotations

from enum import StrEnum


class DesirabilityFilter(StrEnum):
    """Which examples a view shows, by their desirability; `cycled` goes through them in this order."""

    ALL = "all"
    DESIRABLE = "desirable"
    UNDESIRABLE = "undesirable"
    UNLABELLED = "unlabelled"

    def cycled(self) -> DesirabilityFilter:
        order = list(DesirabilityFilter)
        return order[(order.index(self) + 1) % len(order)]

    def admits(self, desirability: bool | None) -> bool:
        if self is DesirabilityFilter.ALL:
            return True
        if self is DesirabilityFilter.UNLABELLED:
            return desirability is None
        return desirability is (self is DesirabilityFilter.DESIRABLE)


def mark(desirability: bool | None) -> str:
    """The table's cell: ✓ desirable, ✗ undesirable, blank when not labelled."""
    return "" if desirability is None else "✓" if desirability else "✗"
