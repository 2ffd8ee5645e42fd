"""The ``rdbtool memory`` outputs of what ``rdbtools.ops.memory`` returns: per-key rows as
JSON Lines or CSV (``rows.py``), the summary as text (``text.py``), as one JSON document
(``summary_json.py``) or as a self-contained HTML page (``html.py``, its style sheet and
script in ``_assets.py``). The Parquet file of the rows is ``rdbtools.memory.arrow``'s."""
