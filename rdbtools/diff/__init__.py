"""The parts of ``rdbtool diff`` (``rdbtools.ops.diff`` is the entry point).

``_change``: the ``Change`` and ``DiffSummary`` records; ``_canon``: a key's value folded
into one canonical, encoding-independent form; ``_compare``: two canonical values turned
into ``Change`` records; ``_spill``: the partitioned join by ``(db, key)`` within a
memory budget; ``_prefixes``: the ``--summary`` counts by key prefix and type;
``_sort``: the ``--sort`` external merge sort; ``jsonl-schema.md``: the JSON Lines
schema ``rdbtool diff --schema`` prints. The text and JSON Lines output is
``rdbtools.reports.diff``.
"""
