"""File-level events as JSON objects with a ``"record"`` field (and no ``"key"``).

``SelectDb`` and ``ResizeDb`` have no record: every key object names its database, and
``rdbtool info`` reports the counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rdbtools.events import (
    Aux,
    End,
    Event,
    Function,
    Header,
    ModuleAux,
    SlotImport,
    SlotInfo,
)
from rdbtools.formats.jsontext import b64, jbytes, jopt_bytes, quote


def header_json(ev: Header) -> str:
    """``{"magic": "REDIS", "version": 10}``."""
    return f'{{"magic":{quote(ev.magic)},"version":{ev.version}}}'


def end_json(ev: End) -> str:
    """The checksum trailer: stored and computed CRC64 (16 hex digits or null) and state."""
    stored = "null" if ev.checksum is None else f'"{ev.checksum:016x}"'
    computed = "null" if ev.computed is None else f'"{ev.computed:016x}"'
    state = quote(ev.checksum_state)
    return f'{{"checksum":{stored},"computed":{computed},"checksum_state":{state}}}'


def _aux(ev: Aux) -> str:
    return f'{{"record":"aux","name":{jbytes(ev.name)},"value":{jbytes(ev.value)}}}'


def _function(ev: Function) -> str:
    text = f'{{"record":"function","code":{jbytes(ev.code)}'
    if ev.pre_ga:
        text += (
            f',"name":{jopt_bytes(ev.name)},"engine":{jopt_bytes(ev.engine)},'
            f'"description":{jopt_bytes(ev.description)},"pre_ga":true'
        )
    return text + "}"


def _module_aux(ev: ModuleAux) -> str:
    return (
        f'{{"record":"module_aux","module":{quote(ev.module_name)},'
        f'"module_version":{ev.module_version},"when":{ev.when},"payload":{b64(ev.payload)}}}'
    )


def _slot_info(ev: SlotInfo) -> str:
    return f'{{"record":"slot_info","slot":{ev.slot},"keys":{ev.keys},"expires":{ev.expires}}}'


def _slot_import(ev: SlotImport) -> str:
    ranges = ",".join(f"[{a},{b}]" for a, b in ev.ranges)
    return f'{{"record":"slot_import","job_name":{jbytes(ev.job_name)},"ranges":[{ranges}]}}'


def _header(ev: Header) -> str:
    return '{"record":"header",' + header_json(ev)[1:]


def _end(ev: End) -> str:
    return '{"record":"end",' + end_json(ev)[1:]


_RECORDS: dict[type[Event], Callable[[Any], str]] = {
    Aux: _aux, Function: _function, ModuleAux: _module_aux, SlotInfo: _slot_info,
    SlotImport: _slot_import, Header: _header, End: _end,
}
"""The record writer of each file-level event class."""


def record_json(ev: Event) -> str | None:
    """The record object for a file-level event, or ``None`` for events without one."""
    write = _RECORDS.get(type(ev))
    return None if write is None else write(ev)
