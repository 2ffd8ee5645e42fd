"""Reports for people and machines: the text and JSON the commands print for what an
operation returns — ``rdbtool check`` (``check.py``), ``rdbtool info`` (``info.py``),
``rdbtool diff`` (``diff.py``), ``aoftool check``, ``fix`` and ``stats`` (``aof.py``).

This layer sits above ``ops``: it reads the summaries operations return and is used by
the command-line tools only.
"""
