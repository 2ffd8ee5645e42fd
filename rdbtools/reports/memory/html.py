"""The self-contained HTML memory report (``rdbtool memory --html OUT.html``).

One file: the style sheet, the script and the data are inline, nothing is fetched. The
tables (totals, biggest keys, percentiles, prefixes) are HTML written here, every key and
prefix through ``html.escape``; the charts (bars, percentile ranges) and the prefix
treemap are drawn by the inline script from a JSON block whose ``<``, ``>`` and ``&``
are written as ``\\u003c``, ``\\u003e``, ``\\u0026`` so no key can close the block. When
the script has run, ``<body>`` carries ``data-rendered="ok"`` (``"error"`` and a visible
message if it failed).

The treemap holds, per depth, the ``TREE_PREFIXES`` heaviest prefixes of the summary
that have their parent prefix in it; each node's remainder (keys directly under it,
prefixes left out, keys with fewer separators) is one ``(rest)`` cell. Opening
``OUT.html#prefix=user%3A`` starts zoomed into ``user:``.
"""

from __future__ import annotations

import html
import json
from string import Template
from typing import Any

from rdbtools.formats.display import show
from rdbtools.memory.aggregate import (
    Bucket,
    MemorySummary,
    PrefixTotal,
    Total,
    prefix_of,
)
from rdbtools.reports.memory._assets import CSS, JS
from rdbtools.reports.memory._shared import listed_prefixes, model_lines

TREE_PREFIXES = 400
"""Prefixes per depth drawn in the treemap."""
TABLE_PREFIXES = 25
"""Prefixes per depth listed in the prefix tables."""

_PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Memory report: $title</title>
<style>$css</style>
</head>
<body data-rendered="no">
<header>
<h1>Memory report</h1>
<p>$title &middot; $keys keys &middot; $memory estimated in memory &middot; $size serialized</p>
<div id="model">$model</div>
</header>
<main>
<div id="error" hidden></div>
<section id="totals">
<h2>Totals</h2>
<div class="cards">
<div class="card"><b id="total-keys" data-v="$keys_raw">$keys</b><span>keys</span></div>
<div class="card"><b id="total-memory" data-v="$memory_raw">$memory</b>
<span>estimated memory ($memory_raw bytes)</span></div>
<div class="card"><b id="total-size" data-v="$size_raw">$size</b><span>serialized</span></div>
<div class="card"><b>$files</b><span>file(s)</span></div>
</div>
$file_table
<div class="grid">
<div><h3>Types</h3>$type_table</div>
<div><h3>Encodings (in memory)</h3>$encoding_table</div>
<div><h3>Databases</h3>$db_table</div>
</div>
</section>
<section id="prefixes">
<h2>Key prefixes (separator <code>$separator</code>)</h2>
<p class="note">Click a prefix to zoom into it; click the dark bar (or a name below) to zoom
out. Cells are sized by estimated memory. $fold_note</p>
<div id="crumbs"></div>
<svg id="treemap" role="img" aria-label="prefix treemap"></svg>
<div class="grid">$prefix_tables</div>
</section>
<section id="top">
<h2>Biggest keys</h2>
$top_table
</section>
<section id="distributions">
<h2>Distributions</h2>
<div class="grid">
<figure><figcaption>Memory by type</figcaption><svg data-chart="types"></svg></figure>
<figure><figcaption>Memory by encoding</figcaption><svg data-chart="encodings"></svg></figure>
<figure><figcaption>Time to live ($ttl_note)</figcaption><svg data-chart="ttl"></svg></figure>
<figure><figcaption>Memory by database</figcaption><svg data-chart="dbs"></svg></figure>
<figure><figcaption>Elements per key, by type (log scale: line min&ndash;max, box p50&ndash;p99,
tick p90; string: bytes)</figcaption><svg data-chart="elements"></svg></figure>
<figure><figcaption>Memory per key, by type (log scale, as above)</figcaption>
<svg data-chart="memory"></svg></figure>
$idle_chart
$freq_chart
</div>
<h3>Percentiles per type</h3>
$spread_table
</section>
<p class="note">Memory is the estimate of <code>MEMORY USAGE key SAMPLES 0</code> for each
key in the model named at the top; percentiles come from a bounded histogram (exact below
1024, within 0.2% above).</p>
</main>
<script type="application/json" id="report-data">$data</script>
<script>$js</script>
</body>
</html>
"""
)


def human(n: int) -> str:
    """``n`` bytes in binary units (``1.5 MiB``)."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _num(n: int) -> str:
    return f'<td class="n" data-v="{n}">{n:,}</td>'


def _mem(n: int) -> str:
    return f'<td class="n" data-v="{n}" title="{n} bytes">{_e(human(n))}</td>'


def _totals_table(table_id: str, head: str, totals: tuple[Total, ...], whole: int) -> str:
    rows = "".join(
        f'<tr><td class="name">{_e(t.name)}</td>{_num(t.keys)}{_mem(t.memory)}'
        f'<td class="n">{_pct(t.memory, whole)}</td></tr>'
        for t in totals
    )
    return (
        f'<table id="{table_id}"><thead><tr><th>{_e(head)}</th><th class="n">keys</th>'
        f'<th class="n">memory</th><th class="n">share</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _file_table(summary: MemorySummary) -> str:
    rows = "".join(
        f'<tr><td class="key">{_e(f.file)}</td>{_num(f.keys)}{_mem(f.memory)}'
        f'{_mem(f.size)}<td class="n">{_pct(f.memory, summary.memory)}</td></tr>'
        for f in summary.files
    )
    return (
        '<h3>Files</h3><table id="file-totals"><thead><tr><th>file</th><th class="n">keys</th>'
        '<th class="n">memory</th><th class="n">serialized</th><th class="n">share</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _top_table(summary: MemorySummary) -> str:
    many = len(summary.files) > 1
    head = "".join(
        f'<th class="{c}">{h}</th>'
        for h, c in (("memory", "n"), ("key", ""), ("type", ""), ("encoding", ""),
                     ("elements", "n"), ("largest element", "n"), ("db", "n"),
                     ("expires (unix ms)", "n"))
    ) + ("<th>file</th>" if many else "")
    rows = []
    for r in summary.top:
        rows.append(
            f"<tr>{_mem(r.memory)}<td class=\"key\">{_e(show(r.key))}</td>"
            f"<td>{_e(r.type)}</td><td>{_e(r.encoding)}</td>{_num(r.elements)}"
            f"{_num(r.largest_element)}{_num(r.db)}"
            f'<td class="n">{"-" if r.expire_at_ms is None else r.expire_at_ms}</td>'
            + (f'<td class="key">{_e(r.file)}</td>' if many else "")
            + "</tr>"
        )
    return (
        f'<table id="top-keys"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _spread_table(summary: MemorySummary) -> str:
    rows = []
    for s in summary.spreads:
        for what, sp in (("elements", s.elements), ("memory", s.memory)):
            cells = [sp.min, *(v for _, v in sp.percentiles), sp.max]
            rows.append(
                f'<tr data-type="{_e(s.type)}" data-what="{what}"><td>{_e(s.type)}</td>'
                f"<td>{what}</td>{_num(s.keys)}" + "".join(_num(v) for v in cells) + "</tr>"
            )
    qs = "".join(f'<th class="n">p{q}</th>' for q, _ in
                 (summary.spreads[0].elements.percentiles if summary.spreads else ()))
    return (
        '<table id="spreads"><thead><tr><th>type</th><th></th><th class="n">keys</th>'
        f'<th class="n">min</th>{qs}<th class="n">max</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _prefix_tables(summary: MemorySummary) -> str:
    out = []
    for level in summary.prefixes:
        shown, other = listed_prefixes(level, TABLE_PREFIXES, summary.memory)
        rows = [
            f'<tr><td class="key">{_e(show(p.prefix))}</td>{_num(p.keys)}{_mem(p.memory)}'
            f'<td class="n">{_pct(p.memory, summary.memory)}</td></tr>'
            for p in shown
        ]
        extra: list[tuple[str, PrefixTotal | None]] = [
            ("(other)", other),
            (f"(fewer than {level.depth} "
             f"{'segments' if summary.patterns else 'separators'})", level.without),
        ]
        for name, p in extra:
            if p is not None and p.keys:
                rows.append(
                    f"<tr><td><i>{_e(name)}</i></td>{_num(p.keys)}{_mem(p.memory)}"
                    f'<td class="n">{_pct(p.memory, summary.memory)}</td></tr>'
                )
        out.append(
            f"<div><h3>Depth {level.depth}</h3>"
            f'<table class="prefixes" data-depth="{level.depth}"><thead><tr><th>prefix</th>'
            '<th class="n">keys</th><th class="n">memory</th><th class="n">share</th></tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return "".join(out)


def prefix_tree(summary: MemorySummary, per_depth: int = TREE_PREFIXES) -> dict[str, Any]:
    """The treemap's tree: ``{"n": name, "v": memory, "k": keys, "c": children}``,
    children heaviest first, each node's remainder as a ``(rest)`` leaf."""
    root: dict[str, Any] = {"n": "(all keys)", "v": summary.memory, "k": summary.keys, "c": []}
    by_prefix: dict[bytes, dict[str, Any]] = {}
    sep = summary.separator
    for level in summary.prefixes:
        for p in level.prefixes[:per_depth]:
            if level.depth == 1:
                parent = root
            else:
                up = prefix_of(p.prefix, sep, level.depth - 1)
                found = by_prefix.get(up) if up is not None else None
                if found is None:
                    continue
                parent = found
            node = {"n": show(p.prefix), "v": p.memory, "k": p.keys, "c": []}
            by_prefix[p.prefix] = node
            parent["c"].append(node)
    _finish(root)
    return root


def _finish(node: dict[str, Any]) -> None:
    children = node["c"]
    for child in children:
        _finish(child)
    if not children:
        del node["c"]
        return
    mem = sum(c["v"] for c in children)
    keys = sum(c["k"] for c in children)
    # After a fold a prefix's own numbers are a lower bound (PrefixTable): never draw a
    # node smaller than its children.
    node["v"] = max(node["v"], mem)
    node["k"] = max(node["k"], keys)
    if node["v"] > mem:
        children.append({"n": "(rest)", "v": node["v"] - mem, "k": node["k"] - keys, "rest": 1})
    children.sort(key=lambda c: -c["v"])


def _chart(items: tuple[Total, ...] | tuple[Bucket, ...]) -> list[dict[str, Any]]:
    return [{"name": i.name, "keys": i.keys, "memory": i.memory} for i in items]


def _script_json(data: object) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(summary: MemorySummary, *, title: str | None = None) -> str:
    """The report page for ``summary``; ``title`` defaults to the file names."""
    name = title if title is not None else ", ".join(f.file for f in summary.files) or "-"
    data = {
        "memory": summary.memory,
        "keys": summary.keys,
        "charts": {
            "types": _chart(summary.types),
            "encodings": _chart(summary.encodings),
            "dbs": _chart(summary.dbs),
            "ttl": _chart(summary.ttl),
            "idle": _chart(summary.idle),
            "freq": _chart(summary.freq),
        },
        "spreads": [
            {
                "type": s.type,
                "keys": s.keys,
                **{
                    what: {"min": sp.min, "max": sp.max}
                    | {f"p{q}": v for q, v in sp.percentiles}
                    for what, sp in (("elements", s.elements), ("memory", s.memory))
                },
            }
            for s in summary.spreads
        ],
        "tree": prefix_tree(summary),
    }
    nows = sorted({(f.now_ms, f.now_from) for f in summary.files})
    ttl_note = "relative to " + (", ".join(f"{ms} ({src})" for ms, src in nows) or "-")
    folds = sum(level.folds for level in summary.prefixes)
    fold_note = (
        f"More than {2 * summary.max_prefixes} distinct prefixes at a depth: the lightest "
        "were folded into (other), and the numbers of the prefixes kept are lower bounds."
        if folds else ""
    )
    idle = '<figure><figcaption>Idle time (LRU)</figcaption><svg data-chart="idle"></svg></figure>'
    freq = ('<figure><figcaption>Access frequency (LFU counter)</figcaption>'
            '<svg data-chart="freq"></svg></figure>')
    return _PAGE.substitute(
        title=_e(name),
        css=CSS,
        js=JS,
        data=_script_json(data),
        keys=f"{summary.keys:,}",
        keys_raw=summary.keys,
        memory=_e(human(summary.memory)),
        memory_raw=summary.memory,
        size=_e(human(summary.size)),
        size_raw=summary.size,
        files=len(summary.files),
        file_table=_file_table(summary),
        type_table=_totals_table("type-totals", "type", summary.types, summary.memory),
        encoding_table=_totals_table(
            "encoding-totals", "type/encoding", summary.encodings, summary.memory
        ),
        db_table=_totals_table("db-totals", "db", summary.dbs, summary.memory),
        top_table=_top_table(summary),
        ttl_note=_e(ttl_note),
        idle_chart=idle if summary.idle else "",
        freq_chart=freq if summary.freq else "",
        spread_table=_spread_table(summary),
        separator=_e(show(summary.separator)),
        fold_note=_e(fold_note),
        prefix_tables=_prefix_tables(summary),
        model="".join(f'<p class="note">{_e(line)}</p>' for line in model_lines(summary)),
    )
