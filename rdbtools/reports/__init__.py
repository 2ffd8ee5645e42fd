"""Reports for people and machines: the text, JSON, CSV and HTML the commands write for
what an operation returns — ``rdbtool check`` (``check.py``), ``rdbtool info``
(``info.py``), ``rdbtool diff`` (``diff.py``), ``rdbtool memory`` (``memory/``),
``rdbtool restore`` (``restore.py``), ``aoftool check``, ``fix``, ``stats`` and
``rewrite`` (``aof.py``).

This layer sits above ``ops``: it reads the summaries operations return and is used by
the command-line tools only.
"""
