"""The parts of ``rdbtool diff`` (``rdbtools.ops.diff`` is the entry point).

``_change``: the ``Change`` and ``DiffSummary`` records; ``_canon``: a key's value folded
into one canonical, encoding-independent form; ``_compare``: two canonical values turned
into ``Change`` records; ``_spill``: the partitioned join by ``(db, key)`` within a
memory budget; ``_prefixes``: the ``--summary`` counts by key prefix and type;
``_sort``: the ``--sort`` external merge sort; ``jsonl-schema.md``: the JSON Lines
schema ``rdbtool diff --schema`` prints. The text and JSON Lines output is
``rdbtools.reports.diff``.
"""

from rdbtools.diff._canon import canonical_rows
from rdbtools.diff._change import CHANGE_KINDS, Change, DiffSummary
from rdbtools.diff._compare import Options, compare_rows
from rdbtools.diff._prefixes import PrefixCounts, PrefixRow
from rdbtools.diff._sort import Item, sorted_items
from rdbtools.diff._spill import Join

__all__ = [
    "CHANGE_KINDS",
    "Change",
    "DiffSummary",
    "Item",
    "Join",
    "Options",
    "PrefixCounts",
    "PrefixRow",
    "canonical_rows",
    "compare_rows",
    "sorted_items",
]
