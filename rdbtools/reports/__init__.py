"""Reports for people and machines: the text and JSON that ``rdbtool check`` and
``rdbtool info`` print for an operation's summary (``check.py``, ``info.py``).

This layer sits above ``ops``: it reads the summaries operations return and is used by
the command-line tools only.
"""
