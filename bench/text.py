"""Small helpers shared by bench.py, imports.py and profile.py: summaries, formatting, and the
targets' verdicts."""

from __future__ import annotations

import statistics
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence


def say(message: str) -> None:
    """A progress line on stderr."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def ms(seconds: Optional[float]) -> str:
    """*seconds* in milliseconds, with 3 significant figures or so."""
    if seconds is None:
        return "—"
    value = seconds * 1e3
    return (
        f"{value:.2f} ms"
        if value < 10
        else f"{value:.1f} ms"
        if value < 1000
        else f"{value:.0f} ms"
    )


def us(seconds: Optional[float], sign: bool = True) -> str:
    """*seconds* in whole microseconds (with its sign: an overhead)."""
    if seconds is None:
        return "—"
    return f"{seconds * 1e6:+.0f} µs" if sign else f"{seconds * 1e6:.0f} µs"


def ratio(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.2f}×"


def verdict(ok: Optional[bool]) -> str:
    return "n/a" if ok is None else "PASS" if ok else "MISS"


def summary(samples: Sequence[float]) -> Dict[str, Any]:
    """Median, p10, p90 and minimum of *samples* (at least one)."""
    ordered = sorted(samples)
    n = len(ordered)
    return {
        "n": n,
        "median": statistics.median(ordered),
        "p10": ordered[int(0.1 * (n - 1))],
        "p90": ordered[int(0.9 * (n - 1))],
        "min": ordered[0],
    }


def attempt(what: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Return ``fn(*args)``; on an exception, say so and return ``{"error": ...}``."""
    try:
        return fn(*args)
    except Exception as exc:  # a benchmark reports a failing client and goes on
        say(f"{what}: {type(exc).__name__}: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"}


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table, columns as wide as their widest cell."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    return "\n".join(
        [fmt(headers), "  ".join("-" * w for w in widths), *(fmt(row) for row in rows)]
    )


class Verdicts:
    """The targets checked in one run, in order, each with its issue."""

    def __init__(self) -> None:
        self.rows: List[Dict[str, Any]] = []

    def check(
        self,
        issue: int,
        name: str,
        figure: Optional[float],
        limit: float,
        shown: str,
        wanted: str,
        at_least: bool = False,
        floor_shown: str = "",
    ) -> str:
        """Record one target: *figure* must be ≤ *limit* (≥ with *at_least*); return
        ``"<wanted> PASS|MISS"`` for a table cell."""
        ok = None if figure is None else figure >= limit if at_least else figure <= limit
        self.rows.append(
            {
                "issue": issue,
                "target": name,
                "figure": figure,
                "limit": limit,
                "shown": shown,
                "wanted": wanted,
                "pass": ok,
                "floor": floor_shown,
            }
        )
        return f"{wanted} {verdict(ok)}"

    def report(self, issue: int) -> str:
        """The table of *issue*'s targets ("" when none was checked)."""
        rows = [
            [row["target"], row["shown"], row["floor"] or "—", verdict(row["pass"])]
            for row in self.rows
            if row["issue"] == issue
        ]
        if not rows:
            return ""
        return f"Targets (issue {issue})\n" + table(
            ["target", "measured", "floor", "verdict"], rows
        )
