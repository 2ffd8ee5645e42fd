"""The lines ``rdbtool restore`` writes on standard error for the ``RestoreSummary`` it
returns: what was written (or would be, with ``--dry-run``) and what was skipped, and the
keys of databases the server does not have."""

from __future__ import annotations

from rdbtools.ops.restore import RestoreSummary


def restore_text(summary: RestoreSummary, *, dry_run: bool, primaries: int | None) -> str:
    """The one summary line; ``primaries``: how many primaries a cluster has (``None``
    for a single server)."""
    verb = "would write" if dry_run else "wrote"
    where = f" on {primaries} primaries" if summary.cluster and primaries is not None else ""
    missing = (f", {summary.skipped_missing_db} of missing databases"
               if summary.missing_db else "")
    return (
        f"{verb} {summary.keys_written} keys (RDB {summary.target_version}: "
        f"{summary.by_payload} by RESTORE, {summary.by_commands} by commands), "
        f"{summary.functions} functions{where}; skipped {summary.skipped_expired} expired, "
        f"{summary.skipped_existing} existing{missing}; {len(summary.losses)} losses"
    )


def missing_text(summary: RestoreSummary) -> str:
    """One line on the keys of missing databases: how many, from which database, why;
    empty when there are none."""
    by_reason: dict[str, list[str]] = {}
    for db, n in sorted(summary.missing_db.items()):
        by_reason.setdefault(summary.missing_reason[db], []).append(f"{n} of db {db}")
    return "; ".join(f"{', '.join(counts)} ({reason})" for reason, counts in by_reason.items())
