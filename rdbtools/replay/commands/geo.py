"""Geo for ``rdbtools.replay``: the 52-bit geohash scores of ``GEOADD`` and the searches
of ``GEORADIUS[BYMEMBER] ... STORE|STOREDIST`` and ``GEOSEARCHSTORE``, computed in doubles
as ``geohash.c`` / ``geohash_helper.c`` / ``geo.c`` compute them, so stored scores are
bit-equal to the server's.

A search walks the cells the server walks (``geohashCalculateAreasByShapeWGS84``: the
centre cell at a step estimated from the radius and its eight neighbours, some excluded),
so the members it can find, and the ones ``ANY`` stops at, are the server's; for large
radii that is fewer than every member within the distance.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdbtools.replay.args import CmdError, parse_float, parse_int, pqsort
from rdbtools.replay.commands.zsets import zadd
from rdbtools.replay.keyspace import Obj

if TYPE_CHECKING:
    from rdbtools.replay.keyspace import Handler, Keyspace

GEO_STEP_MAX = 26
GEO_LAT_MIN, GEO_LAT_MAX = -85.05112878, 85.05112878
GEO_LONG_MIN, GEO_LONG_MAX = -180.0, 180.0
EARTH_RADIUS_IN_METERS = 6372797.560856
D_R = math.pi / 180.0
UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}


def lonlat(lon_arg: bytes, lat_arg: bytes) -> tuple[float, float]:
    """``extractLongLatOrReply``: two doubles within the indexable range."""
    lon, lat = parse_float(lon_arg), parse_float(lat_arg)
    if not (GEO_LONG_MIN <= lon <= GEO_LONG_MAX and GEO_LAT_MIN <= lat <= GEO_LAT_MAX):
        raise CmdError(f"invalid longitude,latitude pair {lon:f},{lat:f}")
    return lon, lat


def _spread(v: int) -> int:
    """The bits of a 32-bit value moved to the even positions (``interleave64``)."""
    out = 0
    for i in range(32):
        out |= ((v >> i) & 1) << (2 * i)
    return out


def _squash(v: int) -> int:
    """The even-position bits of ``v`` packed together (``deinterleave64``)."""
    out = 0
    for i in range(32):
        out |= ((v >> (2 * i)) & 1) << i
    return out


def encode(lon: float, lat: float) -> float:
    """``geohashEncodeWGS84`` at step 26 then ``geohashAlign52Bits``: each offset in
    [0, 1) scaled by 2^26 and truncated to an integer; latitude bits at even positions,
    longitude bits at odd ones; the integer as the score."""
    return float(_encode_step(lon, lat, GEO_STEP_MAX))


def decode(score: float) -> tuple[float, float]:
    """``decodeGeohash``: the centre of the step-26 cell of a score, clamped to the
    indexable range."""
    lon_min, lon_max, lat_min, lat_max = _area(int(score), GEO_STEP_MAX)
    lon = min(max((lon_min + lon_max) / 2, GEO_LONG_MIN), GEO_LONG_MAX)
    lat = min(max((lat_min + lat_max) / 2, GEO_LAT_MIN), GEO_LAT_MAX)
    return lon, lat


def lat_distance(lat1: float, lat2: float) -> float:
    """``geohashGetLatDistance``: the distance along a meridian."""
    return EARTH_RADIUS_IN_METERS * abs(lat2 * D_R - lat1 * D_R)


def distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """``geohashGetDistance``: haversine on a sphere of radius 6372797.560856 m; when
    ``sin`` of half the longitude difference is 0, the latitude distance alone."""
    lon1r = lon1 * D_R
    lon2r = lon2 * D_R
    v = math.sin((lon2r - lon1r) / 2)
    if v == 0.0:
        return lat_distance(lat1, lat2)
    lat1r = lat1 * D_R
    lat2r = lat2 * D_R
    u = math.sin((lat2r - lat1r) / 2)
    a = u * u + math.cos(lat1r) * math.cos(lat2r) * v * v
    return 2.0 * EARTH_RADIUS_IN_METERS * math.asin(math.sqrt(a))


@dataclass(frozen=True, slots=True)
class Search:
    """A parsed search: centre (a member or a point), shape in metres, options."""

    member: bytes | None
    lon: float
    lat: float
    radius: float | None  # in the search unit; None for a box
    width: float
    height: float
    conversion: float  # metres per unit
    count: int
    any: bool
    order: int  # 0 none, 1 ASC, -1 DESC
    store: bytes
    storedist: bool


def _unit(b: bytes) -> float:
    u = UNITS.get(b.lower())
    if u is None:
        raise CmdError("unsupported unit provided. please use M, KM, FT, MI")
    return u


def parse_search(args: list[bytes], *, radius_cmd: bool, bymember: bool) -> Search:
    """Arguments after the source key of ``GEORADIUS`` (``lon lat radius unit``),
    ``GEORADIUSBYMEMBER`` (``member radius unit``) or after ``dest src`` of
    ``GEOSEARCHSTORE`` (``FROMMEMBER|FROMLONLAT``, ``BYRADIUS|BYBOX``), then ``WITH*``,
    ``ASC|DESC``, ``COUNT n [ANY]``, ``STORE|STOREDIST key`` (``STOREDIST`` as a flag for
    ``GEOSEARCHSTORE``). Raises ``CmdError`` where the server answers an error."""
    member: bytes | None = None
    lon = lat = 0.0
    radius: float | None = None
    width = height = 0.0
    conv = 1.0
    i = 0
    if radius_cmd:
        if bymember:
            member = args[0]
            i = 1
        else:
            lon, lat = lonlat(args[0], args[1])
            i = 2
        radius = parse_float(args[i])
        if radius < 0:
            raise CmdError("radius cannot be negative")
        conv = _unit(args[i + 1])
        i += 2
    count = 0
    anyflag = False
    order = 0
    store = b""
    storedist = False
    have_from = have_by = False
    withx = False
    while i < len(args):
        opt = args[i].upper()
        if opt in (b"WITHDIST", b"WITHHASH", b"WITHCOORD"):
            withx = True
        elif opt == b"ANY":
            anyflag = True
        elif opt == b"ASC":
            order = 1
        elif opt == b"DESC":
            order = -1
        elif opt == b"COUNT":
            count = parse_int(args[i + 1])
            if count <= 0:
                raise CmdError("COUNT must be > 0")
            i += 1
        elif opt in (b"STORE", b"STOREDIST") and radius_cmd:
            store = args[i + 1]
            storedist = opt == b"STOREDIST"
            i += 1
        elif opt == b"STOREDIST":
            storedist = True
        elif opt == b"FROMMEMBER" and not radius_cmd and not have_from:
            member = args[i + 1]
            have_from = True
            i += 1
        elif opt == b"FROMLONLAT" and not radius_cmd and not have_from:
            lon, lat = lonlat(args[i + 1], args[i + 2])
            have_from = True
            i += 2
        elif opt == b"BYRADIUS" and not radius_cmd and not have_by:
            radius = parse_float(args[i + 1])
            if radius < 0:
                raise CmdError("radius cannot be negative")
            conv = _unit(args[i + 2])
            have_by = True
            i += 2
        elif opt == b"BYBOX" and not radius_cmd and not have_by:
            width, height = parse_float(args[i + 1]), parse_float(args[i + 2])
            if width < 0 or height < 0:
                raise CmdError("height or width cannot be negative")
            conv = _unit(args[i + 3])
            have_by = True
            i += 3
        else:
            raise CmdError("syntax error")
        i += 1
    if not radius_cmd and not (have_from and have_by):
        raise CmdError("exactly one of FROMMEMBER or FROMLONLAT and BYRADIUS or BYBOX")
    if withx and (store or not radius_cmd):
        raise CmdError("STORE option is not compatible with WITHDIST, WITHHASH and WITHCOORD")
    if anyflag and not count:
        raise CmdError("the ANY argument requires COUNT argument")
    if count and not order and not anyflag:
        order = 1
    return Search(member, lon, lat, radius, width, height, conv, count, anyflag, order, store,
                  storedist)


# ---------------------------------------------------------------- the server's area walk

_EVEN = 0x5555555555555555
_ODD = 0xAAAAAAAAAAAAAAAA
_M64 = (1 << 64) - 1
MERCATOR_MAX = 20037726.37


def _encode_step(lon: float, lat: float, step: int) -> int:
    """``geohashEncode`` at ``step`` bits per coordinate (the truncation of an offset of
    exactly 1.0 gives ``2^step``, a bit past the hash, as in C)."""
    lat_off = (lat - GEO_LAT_MIN) / (GEO_LAT_MAX - GEO_LAT_MIN) * (1 << step)
    lon_off = (lon - GEO_LONG_MIN) / (GEO_LONG_MAX - GEO_LONG_MIN) * (1 << step)
    return _spread(int(lat_off) & 0xFFFFFFFF) | (_spread(int(lon_off) & 0xFFFFFFFF) << 1)


def _area(bits: int, step: int) -> tuple[float, float, float, float]:
    """``geohashDecode``: (lon min, lon max, lat min, lat max) of a cell."""
    ilat = _squash(bits)
    ilon = _squash(bits >> 1)
    div = float(1 << step)
    lat_scale = GEO_LAT_MAX - GEO_LAT_MIN
    lon_scale = GEO_LONG_MAX - GEO_LONG_MIN
    return (GEO_LONG_MIN + (ilon * 1.0 / div) * lon_scale,
            GEO_LONG_MIN + ((ilon + 1) * 1.0 / div) * lon_scale,
            GEO_LAT_MIN + (ilat * 1.0 / div) * lat_scale,
            GEO_LAT_MIN + ((ilat + 1) * 1.0 / div) * lat_scale)


def _move(bits: int, step: int, dx: int, dy: int) -> int:
    """``geohash_move_x`` then ``geohash_move_y``: one cell east/west (odd bits) and
    north/south (even bits), wrapping, in 64-bit arithmetic."""
    for d, own, other in ((dx, _ODD, _EVEN), (dy, _EVEN, _ODD)):
        if d == 0:
            continue
        x = bits & own
        y = bits & other
        zz = (other >> (64 - step * 2)) & _M64
        if d > 0:
            x = (x + (zz + 1)) & _M64
        else:
            x = ((x | zz) - (zz + 1)) & _M64
        x &= own >> (64 - step * 2)
        bits = x | y
    return bits


def _steps_by_radius(range_m: float, lat: float) -> int:
    """``geohashEstimateStepsByRadius``."""
    if range_m == 0:
        return 26
    step = 1
    while range_m < MERCATOR_MAX:
        range_m *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return min(max(step, 1), 26)


# neighbors[] order of membersOfAllNeighbors: centre, N, S, E, W, NE, NW, SE, SW
_DIRS = ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1))


def _cells(s: Search, lon: float, lat: float) -> list[tuple[int, int] | None]:
    """``geohashCalculateAreasByShapeWGS84``: the centre cell and its 8 neighbours (in
    ``_DIRS`` order; ``None`` for the ones excluded) at the step estimated from the
    radius (the half diagonal for a box)."""
    if s.radius is not None:
        height = width = s.conversion * s.radius
        radius_m = s.radius * s.conversion
    else:
        height = s.conversion * (s.height / 2)
        width = s.conversion * (s.width / 2)
        radius_m = math.sqrt((s.width / 2) * (s.width / 2)
                             + (s.height / 2) * (s.height / 2)) * s.conversion
    lat_delta = (height / EARTH_RADIUS_IN_METERS) / D_R
    top = (width / EARTH_RADIUS_IN_METERS / math.cos((lat + lat_delta) * D_R)) / D_R
    bottom = (width / EARTH_RADIUS_IN_METERS / math.cos((lat - lat_delta) * D_R)) / D_R
    south = lat < 0
    min_lon = lon - bottom if south else lon - top
    max_lon = lon + bottom if south else lon + top
    min_lat, max_lat = lat - lat_delta, lat + lat_delta
    step = _steps_by_radius(radius_m, lat)
    bits = _encode_step(lon, lat, step)
    n = _area(_move(bits, step, 0, 1), step)
    so = _area(_move(bits, step, 0, -1), step)
    e = _area(_move(bits, step, 1, 0), step)
    w = _area(_move(bits, step, -1, 0), step)
    if step > 1 and (n[3] < max_lat or so[2] > min_lat or e[1] < max_lon or w[0] > min_lon):
        step -= 1
        bits = _encode_step(lon, lat, step)
    cells: list[tuple[int, int] | None] = [(_move(bits, step, dx, dy), step)
                                           for dx, dy in _DIRS]
    if step >= 2:
        a_lon_min, a_lon_max, a_lat_min, a_lat_max = _area(bits, step)
        drop: set[int] = set()
        if a_lat_min < min_lat:
            drop |= {2, 7, 8}
        if a_lat_max > max_lat:
            drop |= {1, 5, 6}
        if a_lon_min < min_lon:
            drop |= {4, 8, 6}
        if a_lon_max > max_lon:
            drop |= {3, 7, 5}
        for i in drop:
            cells[i] = None
    return cells


def _within(s: Search, lon: float, lat: float, x: float, y: float) -> float | None:
    """``geoAppendIfWithinShape``: the distance in metres, or ``None`` when outside."""
    if s.radius is not None:
        d = distance(lon, lat, x, y)
        return None if d > s.radius * s.conversion else d
    lon_d = distance(x, y, lon, y)
    lat_d = distance(x, y, x, lat)
    if lon_d > s.width * s.conversion / 2 or lat_d > s.height * s.conversion / 2:
        return None
    return distance(lon, lat, x, y)


def search(z: dict[bytes, float], s: Search) -> dict[bytes, float]:
    """The stored result: member -> score (its geohash score, or its distance in the
    search unit with ``STOREDIST``), as ``georadiusGeneric`` builds it: the members of
    each of the nine cells (score range ``[min, max)`` in score order, a cell equal to
    the last one visited skipped), those inside the shape kept; with ``ANY`` the walk
    stops at ``COUNT`` matches; sorted by distance when asked (or for ``COUNT``), then
    the first ``COUNT``."""
    if s.member is not None:
        if s.member not in z:
            raise CmdError("could not decode requested zset member")
        lon, lat = decode(z[s.member])
    else:
        lon, lat = s.lon, s.lat
    ordered = sorted(z.items(), key=lambda p: (p[1], p[0]))
    scores = [sc for _, sc in ordered]
    found: list[tuple[float, bytes, float]] = []
    limit = s.count if s.any else 0
    last: tuple[int, int] | None = None
    for i, cell in enumerate(_cells(s, lon, lat)):
        if cell is None or cell == (0, 0):
            continue
        if last is not None and cell == last:
            continue
        if found and limit and len(found) >= limit:
            break
        bits, step = cell
        lo = float((bits << (52 - step * 2)) & _M64)
        hi = float(((bits + 1) << (52 - step * 2)) & _M64)
        for j in range(bisect.bisect_left(scores, lo), bisect.bisect_left(scores, hi)):
            m, score = ordered[j]
            x, y = decode(score)
            d = _within(s, lon, lat, x, y)
            if d is None:
                continue
            found.append((d, m, score))
            if limit and len(found) >= limit:
                break
        if i > 0:
            last = cell
    if s.order:
        def cmp(i: int, j: int) -> int:
            a, b = found[i][0], found[j][0]
            c = 1 if a > b else (0 if a == b else -1)
            return -c if s.order < 0 else c

        if not s.count or len(found) <= s.count:  # glibc's qsort: stable
            found.sort(key=lambda t: t[0], reverse=s.order < 0)
        else:
            found = [found[i] for i in pqsort(len(found), cmp, 0, s.count - 1)]
    if s.count:
        found = found[: s.count]
    out: dict[bytes, float] = {}
    for d, m, score in found:
        out.setdefault(m, d / s.conversion if s.storedist else score)
    return out


# ---------------------------------------------------------------- handlers


def _geoadd(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    """``GEOADD key [NX|XX] [CH] lon lat member ...``: ``ZADD`` of the geohash scores."""
    i = 1
    flags: list[bytes] = []
    while i < len(a) and a[i].upper() in (b"NX", b"XX", b"CH"):
        flags.append(a[i].upper())
        i += 1
    rest = a[i:]
    if not rest or len(rest) % 3:
        raise CmdError("syntax error. Try GEOADD key [x1] [y1] [name1] [x2] [y2] [name2] ... ")
    if b"NX" in flags and b"XX" in flags:
        raise CmdError("XX and NX options at the same time are not compatible")
    zargs = [a[0], *flags]
    for j in range(0, len(rest), 3):
        lon, lat = lonlat(rest[j], rest[j + 1])
        zargs += [str(int(encode(lon, lat))).encode(), rest[j + 2]]
    zadd(r, db, zargs, off)


def _geostore(r: Keyspace, db: int, dest: bytes, src: bytes, s: Search) -> None:
    o = r.get(db, src, "zset")
    if o is None:
        return  # the server answers 0 and leaves the destination alone
    res = search(o.value, s)
    if res:
        r.put(db, dest, Obj("zset", res))
    else:
        r.delete(db, dest)


def _georadius(bymember: bool) -> Handler:
    def h(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
        s = parse_search(a[1:], radius_cmd=True, bymember=bymember)
        if not s.store:
            return  # a plain query
        _geostore(r, db, s.store, a[0], s)

    return h


def _geosearchstore(r: Keyspace, db: int, a: list[bytes], off: int) -> None:
    s = parse_search(a[2:], radius_cmd=False, bymember=False)
    _geostore(r, db, a[0], a[1], s)


COMMANDS: dict[bytes, Handler] = {
    b"GEOADD": _geoadd,
    b"GEORADIUS": _georadius(False),
    b"GEORADIUSBYMEMBER": _georadius(True),
    b"GEOSEARCHSTORE": _geosearchstore,
}
