"""The text ``rdbtool check`` prints for a ``CheckSummary``."""

from __future__ import annotations

from rdbtools.formats.display import show
from rdbtools.ops.check import CheckSummary

CHECKSUM_NOTES = {
    "ok": "ok (CRC64 verified)",
    "zero": "not written (all-zero trailer; rdbchecksum was off)",
    "absent": "none (RDB version < 5 has no checksum)",
    "skipped": "not verified (--no-verify)",
}


def check_text(source: str, summary: CheckSummary) -> str:
    """A one-screen summary; the first line is ``SOURCE: ok``."""
    lines = [f"{source}: ok"]
    if summary.magic is not None:
        lines.append(f"  format      {summary.magic}, RDB version {summary.version}")
    if summary.aux:
        lines.append("  aux         " + "  ".join(f"{show(n)}={show(v)}" for n, v in summary.aux))
    dbs = ", ".join(f"db{db}: {n} keys" for db, n in summary.dbs.items()) or "none"
    lines.append(f"  databases   {dbs}")
    per_type = ", ".join(f"{tp} {n}" for tp, n in summary.types.items())
    lines.append(
        f"  keys        {summary.keys} ({summary.expires} with a TTL)"
        + (f": {per_type}" if per_type else "")
    )
    lines.append(f"  functions   {summary.functions} libraries")
    lines.append(f"  module aux  {summary.module_aux} records")
    if summary.slot_info:
        lines.append(f"  slot info   {summary.slot_info} records")
    if summary.slot_imports:
        lines.append(f"  slot import {summary.slot_imports} records")
    if summary.checksum_state is not None:
        note = CHECKSUM_NOTES.get(summary.checksum_state, summary.checksum_state)
        if summary.checksum is not None and summary.checksum_state == "ok":
            note += f" {summary.checksum:016x}"
        lines.append(f"  checksum    {note}")
    return "\n".join(lines) + "\n"
