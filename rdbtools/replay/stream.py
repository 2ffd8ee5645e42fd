"""Streams for ``rdbtools.replay``: the in-memory stream and the X* commands."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdbtools.events import (
    StreamConsumer,
    StreamEntry,
    StreamGroup,
    StreamId,
    StreamMeta,
    StreamPending,
)
from rdbtools.replay.args import CmdError, parse_int

MAX_ID: StreamId = (2**64 - 1, 2**64 - 1)


@dataclass
class Consumer:
    seen: int
    active: int
    pending: set[StreamId] = field(default_factory=set)


@dataclass
class Pending:
    consumer: bytes | None
    time: int
    count: int


@dataclass
class Group:
    last_id: StreamId
    entries_read: int
    pel: dict[StreamId, Pending] = field(default_factory=dict)
    consumers: dict[bytes, Consumer] = field(default_factory=dict)


@dataclass
class Stream:
    entries: dict[StreamId, tuple[tuple[bytes, bytes], ...]] = field(default_factory=dict)
    last_id: StreamId = (0, 0)
    max_deleted_id: StreamId = (0, 0)
    entries_added: int = 0
    groups: dict[bytes, Group] = field(default_factory=dict)

    def copy(self) -> Stream:
        groups = {
            n: Group(
                g.last_id,
                g.entries_read,
                {i: Pending(p.consumer, p.time, p.count) for i, p in g.pel.items()},
                {n2: Consumer(c.seen, c.active, set(c.pending)) for n2, c in g.consumers.items()},
            )
            for n, g in self.groups.items()
        }
        return Stream(dict(self.entries), self.last_id, self.max_deleted_id,
                      self.entries_added, groups)

    def sorted_ids(self) -> list[StreamId]:
        return sorted(self.entries)

    # ---------------------------------------------------------------- output

    def meta(self) -> StreamMeta:
        ids = self.sorted_ids()
        first = ids[0] if ids else (0, 0)
        return StreamMeta(len(ids), self.last_id, first, self.max_deleted_id,
                          self.entries_added)

    def entry_events(self) -> list[StreamEntry]:
        return [StreamEntry(i, self.entries[i]) for i in self.sorted_ids()]

    def group_events(self) -> list[StreamGroup]:
        out = []
        for name, g in self.groups.items():
            pending = tuple(
                StreamPending(i, p.consumer, p.time, p.count) for i, p in sorted(g.pel.items())
            )
            consumers = tuple(
                StreamConsumer(cn, c.seen, c.active, tuple(sorted(c.pending)))
                for cn, c in g.consumers.items()
            )
            out.append(StreamGroup(name, g.last_id, g.entries_read, pending, consumers))
        return out


def parse_id(b: bytes, *, missing_seq: int = 0) -> StreamId:
    """``ms-seq`` or ``ms`` (then ``missing_seq``), as ``streamParseID``."""
    if b == b"-":
        return (0, 0)
    if b == b"+":
        return MAX_ID
    ms, sep, seq = b.partition(b"-")
    try:
        m = int(ms)
        s = int(seq) if sep else missing_seq
    except ValueError:
        raise CmdError("Invalid stream ID specified as stream command argument") from None
    if not (0 <= m < 2**64 and 0 <= s < 2**64) or not ms.isdigit() or (sep and not seq.isdigit()):
        raise CmdError("Invalid stream ID specified as stream command argument")
    return (m, s)


def parse_strict_id(b: bytes) -> StreamId:
    """``streamParseStrictIDOrReply``: ``ms-seq`` or ``ms`` (seq 0); ``-`` and ``+`` are
    not allowed."""
    if b in (b"-", b"+"):
        raise CmdError("Invalid stream ID specified as stream command argument")
    return parse_id(b)


@dataclass
class TrimArgs:
    """What ``streamParseAddOrTrimArgsOrReply`` (t_stream.c) reads: the strategy
    (``MAXLEN`` / ``MINID`` / none), its threshold, and for ``XADD`` ``NOMKSTREAM`` and
    the id argument. ``LIMIT`` and ``~`` change nothing for an AOF (the server writes
    the exact effect, and ignores ``LIMIT`` for the commands it loads)."""

    maxlen: int | None = None
    minid: StreamId | None = None
    nomkstream: bool = False
    id_index: int = -1


def parse_trim_args(args: list[bytes], xadd: bool) -> TrimArgs:
    """The options of ``XADD key ...`` / ``XTRIM key ...`` (``args`` after the key) with
    the server's errors: both ``MAXLEN`` and ``MINID``, a negative ``MAXLEN`` or
    ``LIMIT``, a bad ``MINID``, ``LIMIT`` without a strategy, ``XTRIM`` without one."""
    t = TrimArgs()
    limit = 0
    i = 0
    while i < len(args):
        more = len(args) - 1 - i
        opt = args[i].upper()
        if xadd and args[i] == b"*":
            break
        if opt in (b"MAXLEN", b"MINID") and more:
            if t.maxlen is not None or t.minid is not None:
                raise CmdError("syntax error, MAXLEN and MINID options at the same time are "
                               "not compatible")
            if more >= 2 and args[i + 1] in (b"~", b"="):
                i += 1
            if opt == b"MAXLEN":
                t.maxlen = parse_int(args[i + 1])
                if t.maxlen < 0:
                    raise CmdError("The MAXLEN argument must be >= 0.")
            else:
                t.minid = parse_strict_id(args[i + 1])
            i += 1
        elif opt == b"LIMIT" and more:
            limit = parse_int(args[i + 1])
            if limit < 0:
                raise CmdError("The LIMIT argument must be >= 0.")
            i += 1
        elif xadd and opt == b"NOMKSTREAM":
            t.nomkstream = True
        elif xadd:
            break
        else:
            raise CmdError("syntax error")
        i += 1
    if limit and t.maxlen is None and t.minid is None:
        raise CmdError("syntax error, LIMIT cannot be used without specifying a trimming "
                       "strategy")
    if not xadd and t.maxlen is None and t.minid is None:
        raise CmdError("syntax error, XTRIM must be called with a trimming strategy")
    if xadd:
        if i >= len(args):
            raise CmdError("wrong number of arguments for 'xadd' command")
        t.id_index = i
    return t


def _trim(s: Stream, t: TrimArgs) -> None:
    """Apply the trim of ``t`` exactly (an approximate trim's exact effect is what the
    server writes into an AOF)."""
    ids = s.sorted_ids()
    if t.maxlen is not None:
        drop = ids[: max(0, len(ids) - t.maxlen)]
    elif t.minid is not None:
        minid = t.minid
        drop = [x for x in ids if x < minid]
    else:
        return
    for x in drop:
        del s.entries[x]


def _next_id(last: StreamId) -> StreamId | None:
    """``streamIncrID``: the id after ``last``, or ``None`` after the last possible one."""
    ms, seq = last
    if seq < 2**64 - 1:
        return (ms, seq + 1)
    if ms < 2**64 - 1:
        return (ms + 1, 0)
    return None


def _xadd_id(s: Stream, id_arg: bytes, now: int) -> StreamId:
    """The id ``XADD`` gives the new entry (``streamAppendItem``): ``*`` the clock or
    the one after the last id, ``ms-*`` the next sequence of ``ms``, else the id given
    (``ms`` alone: sequence 0); it must be above the last id."""
    last = s.last_id
    if id_arg == b"*":
        if last == MAX_ID:
            raise CmdError("The stream has exhausted the last possible ID, unable to add "
                           "more items")
        new = (now, 0) if now > last[0] else _next_id(last)
    elif id_arg.endswith(b"-*"):
        ms = parse_strict_id(id_arg[:-2])[0]
        if ms == last[0]:
            if last[1] == 2**64 - 1:
                raise CmdError("The ID specified in XADD is equal or smaller than the target "
                               "stream top item")
            new = (ms, last[1] + 1)
        else:
            new = (ms, 0)
    else:
        new = parse_strict_id(id_arg)
        if new == (0, 0):
            raise CmdError("The ID specified in XADD must be greater than 0-0")
    if new is None or new <= last:
        raise CmdError("The ID specified in XADD is equal or smaller than the target stream "
                       "top item")
    return new


def xadd(s: Stream | None, args: list[bytes], now: int) -> Stream | None:
    """``XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT n]] id field value
    ...`` (args after key)."""
    t = parse_trim_args(args, True)
    id_arg = args[t.id_index]
    rest = args[t.id_index + 1 :]
    if not rest or len(rest) % 2:
        raise CmdError("wrong number of arguments for 'xadd' command")
    if s is None:
        if t.nomkstream:
            return None
        if id_arg == b"0-0":
            # 5.0 rewrote an empty stream as XADD ... MAXLEN 0 0-0: the append fails but
            # the key was already created
            return Stream()
        new = _xadd_id(Stream(), id_arg, now)  # the checks come before the key is made
        s = Stream()
    else:
        new = _xadd_id(s, id_arg, now)
    s.entries[new] = tuple(zip(rest[0::2], rest[1::2]))
    s.last_id = new
    s.entries_added += 1
    _trim(s, t)
    return s


def xtrim(s: Stream, trim: TrimArgs) -> None:
    """``XTRIM``: apply the options ``parse_trim_args`` read."""
    _trim(s, trim)


def xdel(s: Stream, ids: list[StreamId]) -> None:
    """``XDEL``: ``ids`` (``parse_strict_id``, read before the key is looked up)."""
    for x in ids:
        if x in s.entries:
            del s.entries[x]
            if x > s.max_deleted_id:
                s.max_deleted_id = x


@dataclass
class SetIdArgs:
    """``XSETID key id [ENTRIESADDED n] [MAXDELETEDID id]`` as ``xsetidCommand`` reads
    it, before it looks the key up."""

    last_id: StreamId
    entries_added: int | None = None
    max_deleted: StreamId | None = None


def parse_xsetid(args: list[bytes]) -> SetIdArgs:
    """The arguments after the key, with the server's errors: a bad id, a negative
    ``ENTRIESADDED``, a ``MAXDELETEDID`` above the id, anything else."""
    t = SetIdArgs(parse_strict_id(args[0]))
    i = 1
    while i < len(args):
        opt = args[i].upper()
        if opt == b"ENTRIESADDED" and i + 1 < len(args):
            t.entries_added = parse_int(args[i + 1])
            if t.entries_added < 0:
                raise CmdError("entries_added must be positive")
        elif opt == b"MAXDELETEDID" and i + 1 < len(args):
            t.max_deleted = parse_strict_id(args[i + 1])
            if t.last_id < t.max_deleted:
                raise CmdError("The ID specified in XSETID is smaller than the provided "
                               "max_deleted_entry_id")
        else:
            raise CmdError("syntax error")
        i += 2
    return t


def xsetid(s: Stream, t: SetIdArgs) -> None:
    """Apply ``XSETID``: the id may not go below the last entry, nor ``ENTRIESADDED``
    below the length; a ``MAXDELETEDID`` of 0-0 leaves it as it is."""
    ids = s.sorted_ids()
    if ids and t.last_id < ids[-1]:
        raise CmdError("The ID specified in XSETID is smaller than the target stream top item")
    if ids and t.entries_added is not None and len(ids) > t.entries_added:
        raise CmdError("The entries_added specified in XSETID is smaller than the target "
                       "stream length")
    s.last_id = t.last_id
    if t.entries_added is not None:
        s.entries_added = t.entries_added
    if t.max_deleted is not None and t.max_deleted != (0, 0):
        s.max_deleted_id = t.max_deleted


def _consumer(g: Group, name: bytes, now: int) -> Consumer:
    c = g.consumers.get(name)
    if c is None:
        c = g.consumers[name] = Consumer(now, -1)
    return c


def _release(g: Group, owner: bytes | None, x: StreamId) -> None:
    """``x`` leaves the pending set of its owner (when that consumer still exists)."""
    if owner is not None and owner in g.consumers:
        g.consumers[owner].pending.discard(x)


def _entries_read(arg: bytes) -> int:
    """``ENTRIESREAD n``: an int64 >= 0, or -1 (unknown)."""
    n = parse_int(arg)
    if n < -1:
        raise CmdError("value for ENTRIESREAD must be positive or -1")
    return n


def xgroup(s: Stream | None, sub: bytes, args: list[bytes], now: int) -> Stream | None:
    """``XGROUP sub key group ...`` (``args`` start after the key), as ``xgroupCommand``:
    the options (``MKSTREAM``, ``ENTRIESREAD``) are read first, then the key must exist
    (unless ``MKSTREAM``), and the group for ``SETID``, ``CREATECONSUMER`` and
    ``DELCONSUMER`` (``DESTROY`` of a missing group does nothing); ``CREATE`` takes ``$``
    or a strict id. Returns the stream (created by ``CREATE ... MKSTREAM``)."""
    argc = 3 + len(args)
    mk = False
    entries_read = -1
    i = 2
    while i < len(args):
        opt = args[i].upper()
        if sub == b"CREATE" and opt == b"MKSTREAM":
            mk = True
            i += 1
        elif sub in (b"CREATE", b"SETID") and opt == b"ENTRIESREAD" and i + 1 < len(args):
            entries_read = _entries_read(args[i + 1])
            i += 2
        else:
            raise CmdError("syntax error")
    name = args[0] if args else b""
    g = None
    if argc >= 4 and not mk:
        if s is None:
            raise CmdError("The XGROUP subcommand requires the key to exist")
        g = s.groups.get(name)
        if g is None and sub in (b"SETID", b"CREATECONSUMER", b"DELCONSUMER"):
            raise CmdError("NOGROUP No such consumer group")
    if sub == b"CREATE" and 5 <= argc <= 8:
        if args[1] == b"$":
            gid = s.last_id if s is not None else (0, 0)
        else:
            gid = parse_strict_id(args[1])
        if s is None:
            s = Stream()
        if name in s.groups:
            raise CmdError("BUSYGROUP Consumer Group name already exists")
        s.groups[name] = Group(gid, entries_read)
    elif sub == b"SETID" and argc in (5, 7):
        assert s is not None and g is not None
        g.last_id = s.last_id if args[1] == b"$" else parse_id(args[1])
        g.entries_read = entries_read
    elif sub == b"DESTROY" and argc == 4:
        assert s is not None
        s.groups.pop(name, None)
    elif sub == b"CREATECONSUMER" and argc == 5:
        assert g is not None
        _consumer(g, args[1], now)
    elif sub == b"DELCONSUMER" and argc == 5:
        assert g is not None
        c = g.consumers.pop(args[1], None)
        if c is not None:
            for x in c.pending:
                g.pel.pop(x, None)
    else:
        raise CmdError("syntax error")
    return s


def xack(s: Stream, group: bytes, ids: list[StreamId]) -> None:
    """``XACK``: ``ids`` (``parse_strict_id``, read before the key is looked up) leave
    the group's PEL."""
    g = s.groups.get(group)
    if g is None:
        return
    for x in ids:
        p = g.pel.pop(x, None)
        if p is not None:
            _release(g, p.consumer, x)


def xclaim(s: Stream, args: list[bytes], now: int, clock: int = 0, *,
           keep_deleted: bool = False) -> None:
    """``XCLAIM key group consumer min-idle id... [IDLE ms] [TIME ms] [RETRYCOUNT n]
    [FORCE] [JUSTID] [LASTID id]`` (args after the key). ``min-idle`` cannot be checked
    without the server's clock: every listed id is claimed. A pending entry whose stream
    entry was deleted leaves the PEL (7.0+), or with ``keep_deleted`` is claimed like
    any other (before 7.0)."""
    group, cname = args[0], args[1]
    g = s.groups.get(group)
    if g is None:
        raise CmdError("NOGROUP")
    parse_int(args[2], "Invalid min-idle-time argument for XCLAIM")
    i = 3
    ids: list[StreamId] = []
    while i < len(args):
        try:
            ids.append(parse_strict_id(args[i]))
        except CmdError:
            break
        i += 1
    deliverytime: int | None = None
    retrycount: int | None = None
    force = justid = False
    lastid: StreamId | None = None
    while i < len(args):
        opt = args[i].upper()
        more = i + 1 < len(args)
        if opt == b"IDLE" and more:
            deliverytime = now - parse_int(args[i + 1])
            i += 2
        elif opt == b"TIME" and more:
            deliverytime = parse_int(args[i + 1])
            i += 2
        elif opt == b"RETRYCOUNT" and more:
            n = parse_int(args[i + 1])
            retrycount = n if n >= 0 else None  # only a count >= 0 is stored
            i += 2
        elif opt == b"FORCE":
            force = True
            i += 1
        elif opt == b"JUSTID":
            justid = True
            i += 1
        elif opt == b"LASTID" and more:
            lastid = parse_strict_id(args[i + 1])
            i += 2
        else:
            raise CmdError("Unrecognized XCLAIM option")
    # a time before 1970 or after the clock is taken as now, as xclaimCommand does (the
    # clock of a server loading the AOF is at least ``clock``, the replay's start)
    if deliverytime is None or not 0 <= deliverytime <= max(now, clock):
        deliverytime = now
    if lastid is not None and lastid > g.last_id:
        g.last_id = lastid
    # the consumer is made at its first claim: an XCLAIM that claims nothing makes none
    consumer = g.consumers.get(cname)
    if consumer is not None:
        consumer.seen = now
    claimed = False
    for x in ids:
        p = g.pel.get(x)
        if p is None:
            if not force or x not in s.entries:
                continue
            p = g.pel[x] = Pending(None, deliverytime, 0)
        if x not in s.entries and not keep_deleted:
            # the entry was deleted: the server drops it from the PEL (7.0+)
            del g.pel[x]
            _release(g, p.consumer, x)
            continue
        if consumer is None:
            consumer = _consumer(g, cname, now)
            consumer.seen = now
        _release(g, p.consumer, x)
        p.consumer = cname
        consumer.pending.add(x)
        p.time = deliverytime
        if retrycount is not None:
            p.count = retrycount
        elif not justid:
            p.count += 1
        claimed = True
    if claimed and consumer is not None:
        consumer.active = now


XAUTOCLAIM_MAX_COUNT = (2**63 - 1) // 16
"""``LONG_MAX / max(sizeof(streamID), attempts_factor)``: the largest ``COUNT``."""


def xautoclaim(s: Stream | None, args: list[bytes], now: int) -> None:
    """``XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID]`` (args after the
    key): from ``start`` (``(id`` exclusive) up to ``n`` (default 100) pending entries,
    scanning at most ``10 * n``, are given to ``consumer`` when idle at least
    ``min-idle`` at ``now`` (the command's ``#TS:`` time or the replay's start); entries
    deleted from the stream leave the PEL and count toward ``n``. The delivery count
    grows unless ``JUSTID``. The arguments are read before the key and the group must
    exist (``s`` is ``None`` for a missing key)."""
    group, cname = args[0], args[1]
    minidle = max(0, parse_int(args[2]))
    start_arg = args[3]
    exclusive = start_arg[:1] == b"("
    start = parse_id(start_arg[1:] if exclusive else start_arg)
    if exclusive:
        if start == MAX_ID:
            raise CmdError("invalid start ID for the interval")
        start = (start[0], start[1] + 1) if start[1] < 2**64 - 1 else (start[0] + 1, 0)
    count = 100
    justid = False
    i = 4
    while i < len(args):
        opt = args[i].upper()
        if opt == b"COUNT" and i + 1 < len(args):
            count = parse_int(args[i + 1], "COUNT must be > 0")
            if not 1 <= count <= XAUTOCLAIM_MAX_COUNT:
                raise CmdError("COUNT must be > 0")
            i += 2
        elif opt == b"JUSTID":
            justid = True
            i += 1
        else:
            raise CmdError("syntax error")
    g = s.groups.get(group) if s is not None else None
    if s is None or g is None:
        raise CmdError("NOGROUP No such key or consumer group")
    consumer = _consumer(g, cname, now)
    consumer.seen = now
    attempts = count * 10
    for x in sorted(i for i in g.pel if i >= start):
        if attempts == 0 or count == 0:
            break
        attempts -= 1
        p = g.pel[x]
        if x not in s.entries:
            del g.pel[x]
            _release(g, p.consumer, x)
            count -= 1
            continue
        if minidle and now - p.time < minidle:
            continue
        if p.consumer != cname:
            _release(g, p.consumer, x)
            p.consumer = cname
            consumer.pending.add(x)
        p.time = now
        if not justid:
            p.count += 1
        consumer.active = now
        count -= 1


def _estimate_read(s: Stream, ids: list[StreamId], x: StreamId) -> int:
    """``streamEstimateDistanceFromFirstEverEntry``: the entries-read counter of ``x``
    (``ids``: the stream's ids, ascending), or -1 when it cannot be known."""
    if not s.entries_added:
        return 0
    if not ids and x <= s.last_id:
        return s.entries_added
    if x == s.last_id:
        return s.entries_added
    if x > s.last_id:
        return -1
    first = ids[0] if ids else (0, 0)
    if s.max_deleted_id == (0, 0) or s.max_deleted_id < first:
        if x < first:
            return s.entries_added - len(ids)
        if x == first:
            return s.entries_added - len(ids) + 1
    return -1


def _tombstone_after(s: Stream, ids: list[StreamId], x: StreamId) -> bool:
    """``streamRangeHasTombstones(s, x, NULL)``: the last deleted id is at or after
    ``x`` and not before the first entry."""
    if not ids or s.max_deleted_id == (0, 0) or ids[0] > s.max_deleted_id:
        return False
    return x <= s.max_deleted_id


def xreadgroup(streams: list[tuple[Stream, bytes]], args: list[bytes], now: int) -> None:
    """``XREADGROUP GROUP g consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key... id...``
    (``args`` after ``GROUP``; ``streams``: each key's stream, in order, and its id
    argument). ``>`` delivers the entries after the group's last id (up to ``n``):
    each advances the last id and the entries-read counter (+1 while valid and no
    deleted entry lies ahead, else re-estimated) and, unless ``NOACK``, enters the PEL
    of the group and the consumer (time ``now``, count 1). Another id re-reads the
    consumer's own PEL after it (ids greater than it): each entry still in the stream
    gets time ``now`` and count + 1."""
    group, cname = args[0], args[1]
    count = 0
    noack = False
    i = 2
    while i < len(args) and args[i].upper() != b"STREAMS":
        opt = args[i].upper()
        if opt == b"COUNT":
            count = max(0, parse_int(args[i + 1]))
            i += 2
        elif opt == b"BLOCK":
            parse_int(args[i + 1])
            i += 2
        elif opt == b"NOACK":
            noack = True
            i += 1
        else:
            raise CmdError("syntax error")
    groups = []
    for s, id_arg in streams:
        g = s.groups.get(group)
        if g is None:
            raise CmdError("NOGROUP No such key or consumer group")
        start = None if id_arg == b">" else parse_strict_id(id_arg)
        groups.append((s, g, start))
    for s, g, start in groups:
        consumer = _consumer(g, cname, now)
        consumer.seen = now
        if start is None:
            ids = s.sorted_ids()
            todo = [x for x in ids if x > g.last_id]
            if count:
                todo = todo[:count]
            for x in todo:
                if g.entries_read != -1 and not _tombstone_after(s, ids, x):
                    g.entries_read += 1
                elif s.entries_added:
                    g.entries_read = _estimate_read(s, ids, x)
                g.last_id = x
                consumer.active = now
                if noack:
                    continue
                old = g.pel.get(x)
                if old is not None:
                    _release(g, old.consumer, x)
                g.pel[x] = Pending(cname, now, 1)
                consumer.pending.add(x)
        else:
            mine = sorted(x for x in consumer.pending if x > start)
            if count:
                mine = mine[:count]
            for x in mine:
                if x in s.entries:  # a deleted entry is answered as nil, not redelivered
                    p = g.pel[x]
                    p.time = now
                    p.count += 1
