"""What the text, JSON and HTML memory summaries share: the ``model: …`` lines and the
prefixes listed per depth (the rest summed into one ``(other)`` total)."""

from __future__ import annotations

from rdbtools.memory.aggregate import MemorySummary, PrefixLevel, PrefixTotal
from rdbtools.memory.model import MODEL_HINT


def model_lines(summary: MemorySummary) -> list[str]:
    """``model: …`` lines: each distinct model and where its parts came from (with the
    file names when the files differ), and how to choose another when one was assumed."""
    described = {f.file: f.model.describe() for f in summary.files if f.model is not None}
    distinct = sorted(set(described.values()))
    if len(distinct) == 1:
        lines = [f"model: {distinct[0]}"]
    else:
        lines = [f"model ({file}): {text}" for file, text in described.items()]
    if any(f.model is not None and f.model.assumed for f in summary.files):
        lines.append(f"model assumed: {MODEL_HINT}")
    return lines


def listed_prefixes(
    level: PrefixLevel, limit: int, whole: int
) -> tuple[tuple[PrefixTotal, ...], PrefixTotal | None]:
    """The ``limit`` heaviest prefixes of ``level`` and one ``(other)`` total for the
    rest (folded or not listed), ``None`` when there is no rest."""
    shown = level.prefixes[:limit]
    keys = sum(p.keys for p in level.prefixes[limit:])
    memory = sum(p.memory for p in level.prefixes[limit:])
    if level.other is not None:
        keys += level.other.keys
        memory += level.other.memory
    if not keys:
        return shown, None
    return shown, PrefixTotal(b"(other)", keys, memory, memory / whole if whole else 0.0)
