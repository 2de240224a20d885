"""What a dedup job counts (plain numbers in its results, no content) and the line that tells them."""

from __future__ import annotations

from collections.abc import Mapping

from forge_tui.i18n import _

EXAMPLES, CLUSTERS, DROPPED = "examples", "clusters", "dropped"


def is_dedup_results(results: Mapping[str, float]) -> bool:
    return CLUSTERS in results


def dedup_line(results: Mapping[str, float]) -> str:
    """'71 examples, 11 clusters, 11 dropped'."""
    n = {name: int(results.get(name, 0)) for name in (EXAMPLES, CLUSTERS, DROPPED)}
    return _("{examples} examples, {clusters} clusters, {dropped} dropped").format(
        examples=n[EXAMPLES], clusters=n[CLUSTERS], dropped=n[DROPPED]
    )
