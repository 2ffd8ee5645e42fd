"""What ``check`` and ``info`` both take from the file-level records: the header's
magic and version, the AUX fields, the function libraries and module AUX records
counted, and the checksum state of the EOF trailer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from rdbtools.events import Aux, End, Function, Header, ModuleAux


class FileLevel(Protocol):
    """A summary with the file-level fields ``check`` and ``info`` share."""

    version: int | None
    magic: str | None
    aux: list[tuple[bytes, bytes]]
    functions: int
    module_aux: int
    checksum_state: str | None


def file_level_handlers(summary: FileLevel) -> dict[type, Callable[[Any], None]]:
    """Handlers, by event type, that record the file-level events into ``summary``."""

    def header(ev: Header) -> None:
        summary.version, summary.magic = ev.version, ev.magic

    def aux(ev: Aux) -> None:
        summary.aux.append((ev.name, ev.value))

    def function(ev: Function) -> None:
        summary.functions += 1

    def module_aux(ev: ModuleAux) -> None:
        summary.module_aux += 1

    def end(ev: End) -> None:
        summary.checksum_state = ev.checksum_state

    return {Header: header, Aux: aux, Function: function, ModuleAux: module_aux, End: end}
