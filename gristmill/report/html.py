"""``report/report.html``: one self-contained page (charts embedded as PNG data URIs).

Every number printed from ``stats.json`` carries ``data-stat="<json path>"`` so a test (or
a reader with a script) can check the page against the stats file.
"""

from __future__ import annotations

import base64
import html
import json
from datetime import UTC, datetime
from typing import Any

from gristmill.report.bar_charts import funnel_chart, reasons_chart
from gristmill.report.signal_charts import signal_chart

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1.2em}td,th{border:1px solid #ddd;padding:.25em .6em;font-size:.9em}
th{background:#f4f6f8;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%}.grid{display:flex;flex-wrap:wrap;gap:1em}.grid figure{margin:0}
pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em;max-height:40em}
details{margin:.3em 0}summary{cursor:pointer}.doc{white-space:pre-wrap;font-size:.85em;background:#fafafa;border-left:3px solid #ccc;padding:.4em .8em}
.muted{color:#777}
details.section>summary{list-style:none}details.section>summary h2{display:inline-block}
details.section>summary::before{content:"▸ ";color:#888}details.section[open]>summary::before{content:"▾ "}
.grid figure{width:320px}.grid figcaption{font-size:.8em}.flat{font-size:.85em;color:#555}
.beyond{color:#b00020;font-weight:bold}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em;margin:.5em 0}
"""


def _img(png: bytes | None, alt: str, element_id: str = "") -> str:
    if png is None:
        return ""
    encoded = base64.b64encode(png).decode("ascii")
    ident = f' id="{element_id}"' if element_id else ""
    return f'<img{ident} alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _num(value: Any, path: str, digits: int | None = None) -> str:
    if value is None:
        return f'<td class="n" data-stat="{path}">–</td>'
    shown = f"{value:,.{digits}f}" if digits is not None else f"{value:,}"
    return f'<td class="n" data-stat="{path}">{shown}</td>'


def _when(seconds: float | None) -> str:
    if not isinstance(seconds, int | float):
        return "–"
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if not isinstance(seconds, int | float):
        return "–"
    minutes, rest = divmod(float(seconds), 60)
    hours, minutes = divmod(int(minutes), 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {rest:04.1f} s" if minutes else f"{rest:.1f} s"


def _section(title: str, body: str, open_: bool = True, anchor: str = "") -> str:
    """A section that folds: its heading is the summary of a <details> element."""
    ident = f' id="{anchor}"' if anchor else ""
    state = " open" if open_ else ""
    return (
        f"<details class='section'{ident}{state}><summary><h2>{html.escape(title)}</h2>"
        f"</summary>{body}</details>"
    )


def _kv_table(data: dict[str, Any], path: str) -> str:
    rows = []
    for key, value in data.items():
        here = f"{path}.{key}"
        if key == "started" and isinstance(value, int | float):
            rows.append(f"<tr><th>{html.escape(key)}</th><td>{_when(value)}</td></tr>")
        elif _is_table(value):
            rows.append(f"<tr><th>{html.escape(key)}</th><td>{_rows_table(value, here)}</td></tr>")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
            if len(shown) > 300:
                shown = shown[:300] + " …"
            rows.append(f"<tr><th>{html.escape(key)}</th><td>{html.escape(shown)}</td></tr>")
        else:
            rows.append(f"<tr><th>{html.escape(key)}</th>{_num(value, here)}</tr>")
    return "<table>" + "".join(rows) + "</table>"


def _is_table(value: Any) -> bool:
    return (
        isinstance(value, dict) and bool(value) and all(isinstance(v, dict) for v in value.values())
    )


def _rows_table(rows: dict[str, dict[str, Any]], path: str) -> str:
    """A dict of dicts (per benchmark, per ...) as one table of its numeric entries."""
    columns = list(
        dict.fromkeys(
            key
            for row in rows.values()
            for key, value in row.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        )
    )
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(c)}</th>" for c in columns) + "</tr>"
    body = []
    for name, row in rows.items():
        cells = []
        for column in columns:
            value = row.get(column)
            if "." in name or not isinstance(value, int | float) or isinstance(value, bool):
                cells.append(
                    f"<td class='n'>{'' if value is None else html.escape(str(value))}</td>"
                )
            else:
                cells.append(_num(value, f"{path}.{name}.{column}"))
        body.append(f"<tr><th>{html.escape(name)}</th>{''.join(cells)}</tr>")
    return "<table>" + head + "".join(body) + "</table>"


def render_report(stats: dict[str, Any]) -> tuple[str, dict[str, bytes]]:
    """The page and the PNG charts of the run. The funnel, reasons and mixture charts are
    embedded in the page; the per-signal histograms are files beside it (``signal-*.png``),
    loaded lazily, so the page stays small (well under 1 MB) however many signals a run has.
    """
    charts: dict[str, bytes] = {"funnel.png": funnel_chart(stats)}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>gristmill report · {html.escape(str(stats.get('output')))}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>gristmill run report</h1>",
        f"<p class='muted'>output <code>{html.escape(str(stats.get('output')))}</code> · "
        f"started {_when(stats.get('started'))} · took {_duration(stats.get('wall_s'))} · "
        f"gristmill {html.escape(str(stats.get('gristmill_version')))} · config "
        f"<code>{html.escape(str(stats.get('config_fingerprint', ''))[:16])}</code></p>",
        "<table><tr><th>documents in</th><th>documents out</th><th>MB out</th><th>wall s</th></tr><tr>",
        _num(stats["totals"]["docs_in"], "totals.docs_in"),
        _num(stats["totals"]["docs_out"], "totals.docs_out"),
        f"<td class='n'>{stats['totals']['bytes_out'] / 1e6:,.2f}</td>",
        _num(stats.get("wall_s"), "wall_s", 1),
        "</tr></table>",
    ]
    if stats.get("warnings"):
        items = "".join(f"<li>{html.escape(w)}</li>" for w in stats["warnings"])
        parts.append(_section("Warnings", f"<ul class='beyond'>{items}</ul>", anchor="warnings"))
    mixture = stats.get("mixture")
    parts.append(_section("Funnel", _funnel_body(stats, charts), anchor="funnel-section"))
    parts.append(_section("Removal reasons", _reasons_body(stats, charts), anchor="reasons"))
    languages = _languages_body(stats)
    if languages:
        parts.append(_section("Languages", languages, anchor="languages"))
    pii = _pii_body(stats)
    if pii:
        parts.append(_section("PII found", pii, anchor="pii"))
    parts.append(_section("Signals", _signals_body(stats, charts), open_=False, anchor="signals"))
    if stats.get("global_steps"):
        body = "".join(
            f"<h3>{html.escape(step_id)}</h3>"
            + _kv_table(summary, f"global_steps.{step_id}")
            + _cluster_sizes(summary)
            for step_id, summary in stats["global_steps"].items()
        )
        parts.append(_section("Global steps (dedup, decontamination)", body, anchor="global"))
    parts.append(_section("Tokenizer", _tokenizer_section(stats.get("tokenizer")),
                          anchor="tokenizer"))  # fmt: skip
    parts.append(_section("Mixture", _mixture_body(mixture, charts), anchor="mixture-section"))
    parts.append(_section("Sample documents", _samples_body(stats), open_=False, anchor="samples"))
    config = html.escape(json.dumps(stats.get("config"), indent=2, ensure_ascii=False))
    parts.append(_section("Configuration", f"<pre>{config}</pre>", open_=False, anchor="config"))
    parts.append("</body></html>")
    return "\n".join(parts), charts


def _funnel_body(stats: dict[str, Any], charts: dict[str, bytes]) -> str:
    parts = [_img(charts["funnel.png"], "funnel of documents through the stages", "funnel")]
    for name, source in stats["sources"].items():
        base = f"sources.{name}"
        parts.append(f"<h3>{html.escape(name)}</h3><table><tr><th>stage</th><th>docs in</th>"
                     "<th>docs out</th><th>removed</th><th>bytes in</th><th>bytes out</th>"
                     "<th>wall s</th><th>CPU s</th><th>docs/s</th></tr>")  # fmt: skip
        for index, stage in enumerate(source["stages"]):
            here = f"{base}.stages.{index}"
            parts.append(
                f"<tr><th>{html.escape(stage['stage'])}</th>"
                + _num(stage["docs_in"], f"{here}.docs_in")
                + _num(stage["docs_out"], f"{here}.docs_out")
                + _num(stage["removed_total"], f"{here}.removed_total")
                + _num(stage["bytes_in"], f"{here}.bytes_in")
                + _num(stage["bytes_out"], f"{here}.bytes_out")
                + _num(stage["wall_s"], f"{here}.wall_s", 3)
                + _num(stage["cpu_s"], f"{here}.cpu_s", 3)
                + _num(stage["docs_per_s"], f"{here}.docs_per_s", 1)
                + "</tr>"
            )
        parts.append("</table>")
        if source.get("tokens") is not None:
            parts.append("<p>tokens out: <span data-stat='"
                         f"{base}.tokens'>{source['tokens']:,}</span></p>")  # fmt: skip
    return "".join(parts)


def _reasons_body(stats: dict[str, Any], charts: dict[str, bytes]) -> str:
    parts = []
    reasons_png = reasons_chart(stats)
    if reasons_png is not None:
        charts["reasons.png"] = reasons_png
        parts.append(_img(reasons_png, "removal reasons", "reasons"))
    parts.append("<table><tr><th>source</th><th>stage</th><th>reason</th><th>documents</th></tr>")
    for name, source in stats["sources"].items():
        for index, stage in enumerate(source["stages"]):
            for reason, count in stage["removed"].items():
                path = f"sources.{name}.stages.{index}.removed.{reason}"
                parts.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(stage['stage'])}</td>"
                             f"<td>{html.escape(reason)}</td>{_num(count, path)}</tr>")  # fmt: skip
    parts.append("</table>")
    return "".join(parts)


def _languages_body(stats: dict[str, Any]) -> str:
    """Documents per language (the ``lid`` step's ``lid_lang`` signal), per source."""
    rows = []
    for name, source in stats["sources"].items():
        for stage in source["stages"]:
            for column, summary in stage["signals"].items():
                if not column.endswith("_lang") or summary["kind"] != "categorical":
                    continue
                total = sum(summary["counts"].values()) or 1
                top = sorted(summary["counts"].items(), key=lambda item: -item[1])[:15]
                cells = ", ".join(f"{html.escape(k)} {v:,} ({v / total:.0%})" for k, v in top)
                rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(column)}</td>"
                            f"<td>{total:,}</td><td>{cells}</td></tr>")  # fmt: skip
    if not rows:
        return ""
    return ("<table><tr><th>source</th><th>signal</th><th>documents</th>"
            "<th>languages (most frequent first)</th></tr>" + "".join(rows) + "</table>")  # fmt: skip


def _pii_body(stats: dict[str, Any]) -> str:
    """PII found per entity type and source (the ``pii`` step's ``found:<ENTITY>`` counters)."""
    rows = []
    for name, source in stats["sources"].items():
        for index, stage in enumerate(source["stages"]):
            for counter, count in stage.get("counters", {}).items():
                if counter.startswith("found:"):
                    path = f"sources.{name}.stages.{index}.counters.{counter}"
                    rows.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(stage['stage'])}"
                                f"</td><td>{html.escape(counter[6:])}</td>{_num(count, path)}</tr>")  # fmt: skip
    if not rows:
        return ""
    return ("<table><tr><th>source</th><th>stage</th><th>entity</th><th>found</th></tr>"
            + "".join(rows) + "</table>")  # fmt: skip


def _signals_body(stats: dict[str, Any], charts: dict[str, bytes]) -> str:
    parts = ["<p class='muted'>Histograms over every document a filter measured: kept in blue, "
             "removed by that filter in orange; dashed red lines mark its thresholds; outlines show the "
             "reference text its thresholds were calibrated on, per language. A signal "
             "whose values all fall in one bin is stated instead of drawn.</p>"]  # fmt: skip
    for name, source in stats["sources"].items():
        figures, flat = [], []
        for stage in source["stages"]:
            for column, summary in stage["signals"].items():
                if summary["kind"] not in ("numeric", "categorical"):
                    continue
                png = signal_chart(f"{name} · {column}", summary)
                if png is None:
                    flat.append(f"<li>{html.escape(column)}: {_flat_summary(summary)}</li>")
                    continue
                file_name = f"signal-{name}-{column}.png"
                charts[file_name] = png
                marks = ", ".join(f"{t:g}" for t in summary.get("thresholds", []))
                caption = html.escape(column) + (f" (thresholds {marks})" if marks else "")
                figures.append(f"<figure><img loading='lazy' alt='{html.escape(column)}' "
                               f"src='{html.escape(file_name)}'><figcaption>{caption}"
                               "</figcaption></figure>")  # fmt: skip
        count = len(figures) + len(flat)
        body = "<div class='grid'>" + "".join(figures) + "</div>" if figures else ""
        if flat:
            body += "<ul class='flat'>" + "".join(flat) + "</ul>"
        parts.append(f"<details><summary><b>{html.escape(name)}</b> · {count} signals</summary>"
                     f"{body or '<p>No signal columns.</p>'}</details>")  # fmt: skip
    return "".join(parts)


def _flat_summary(summary: dict[str, Any]) -> str:
    if summary["kind"] == "categorical":
        items = list(summary["counts"].items())
        return f"all {items[0][1]:,} documents: {html.escape(str(items[0][0]))}" if items else "–"
    if summary["n"] == 0:
        return "no values"
    low, high = summary["min"], summary["max"]
    value = f"{low:g}" if low == high else f"{low:g} to {high:g}"
    return f"all {summary['n']:,} documents: {value}"


def _cluster_sizes(summary: dict[str, Any]) -> str:
    sizes = summary.get("cluster_sizes")
    if not isinstance(sizes, dict) or not sizes:
        return ""
    cells = "".join(f"<tr><td class='n'>{html.escape(str(size))}</td><td class='n'>{count:,}</td>"
                    "</tr>" for size, count in sorted(sizes.items(), key=lambda i: int(i[0])))  # fmt: skip
    return ("<table><tr><th>cluster size (documents)</th><th>clusters</th></tr>" + cells
            + "</table>")  # fmt: skip


def _mixture_body(mixture: dict[str, Any] | None, charts: dict[str, bytes]) -> str:
    if not mixture:
        return "<p>No mixture stage in this run.</p>"
    parts = []
    weights, realised = mixture_shares(mixture)
    from gristmill.report.charts import mixture_chart  # matplotlib: only for a mixture

    png = mixture_chart(weights, realised)
    if png is not None:
        charts["mixture.png"] = png
        parts.append(_img(png, "mixture weights vs realised tokens", "mixture"))
    parts.append(_mixture_weights_table(mixture))
    parts.append(_kv_table(mixture, "mixture"))
    return "".join(parts)


def _sample_document(document: dict[str, Any]) -> str:
    """One sampled document; a duplicate beside the document it duplicates."""
    head = (f"<p class='muted'>{html.escape(document['id'])} "
            f"{html.escape(document.get('url') or '')}</p>")  # fmt: skip
    own = f"<div class='doc'>{html.escape(document['text'])}</div>"
    if "duplicate_of_text" not in document:
        return head + own
    other = (f"<div><p class='muted'>kept: {html.escape(document['duplicate_of'])}</p>"
             f"<div class='doc'>{html.escape(document['duplicate_of_text'])}</div></div>")  # fmt: skip
    return f"<div class='pair'><div>{head}{own}</div>{other}</div>"


def _samples_body(stats: dict[str, Any]) -> str:
    parts = []
    for name, source in stats["sources"].items():
        for stage in source["stages"]:
            for key, documents in stage.get("samples", {}).items():
                label = "kept" if key == "kept" else f"removed: {key}"
                parts.append(f"<details><summary>{html.escape(name)} · {html.escape(stage['stage'])} · "
                             f"{html.escape(label)} ({len(documents)})</summary>")  # fmt: skip
                for document in documents:
                    parts.append(_sample_document(document))
                parts.append("</details>")
    return "".join(parts)


def _tokenizer_section(tokenizer: dict[str, Any] | None) -> str:
    """Training parameters, held-back quality per source, and encoded tokens per source."""
    if not tokenizer:
        return "<p>No tokenizer stage in this run.</p>"
    training = tokenizer.get("training") or {}
    quality = training.get("quality") or {}
    encoding = tokenizer.get("encoding") or {}
    head = {
        key: training.get(key)
        for key in ("backend", "path", "sha256", "vocab_size", "threads", "train_s")
        if key in training
    }
    head.update({f"quality.{k}": v for k, v in quality.items() if not isinstance(v, dict)})
    parts = [_kv_table(head, "tokenizer.training")]
    rows = []
    for name, entry in (encoding.get("sources") or {}).items():
        held = (quality.get("sources") or {}).get(name, {})
        base = f"tokenizer.encoding.sources.{name}"
        rows.append(
            f"<tr><th>{html.escape(name)}</th>"
            + _num(entry.get("docs"), f"{base}.docs")
            + _num(entry.get("tokens"), f"{base}.tokens")
            + _num(entry.get("bytes_per_token"), f"{base}.bytes_per_token", 3)
            + _num(
                held.get("bytes_per_token"),
                f"tokenizer.training.quality.sources.{name}.bytes_per_token",
                3,
            )
            + "</tr>"
        )
    if rows:
        parts.append(
            "<table><tr><th>source</th><th>documents</th><th>tokens</th><th>bytes/token</th>"
            "<th>bytes/token (held back)</th></tr>" + "".join(rows) + "</table>"
        )
    return "".join(parts)


def _mixture_weights_table(mixture: dict[str, Any]) -> str:
    """Target vs realised share per source; beyond the plan's tolerance in red, with the
    shortfall policy's note."""
    plan = mixture.get("plan") or {}
    tolerance = plan.get("weight_tolerance")
    if tolerance is None:
        return ""
    rows = []
    for name, entry in plan.get("sources", {}).items():
        beyond = abs(entry["deviation"]) > tolerance
        css = " class='beyond'" if beyond else ""
        path = f"mixture.plan.sources.{name}"
        rows.append(
            f"<tr{css}><th>{html.escape(name)}</th>"
            + _num(entry["weight"], f"{path}.weight", 4)
            + _num(entry["realised_weight"], f"{path}.realised_weight", 4)
            + _num(entry["deviation"], f"{path}.deviation", 4)
            + f"<td>{html.escape(entry.get('note', ''))}</td></tr>"
        )
    return (
        f"<p class='muted'>target vs realised token shares (tolerance {tolerance})</p>"
        "<table><tr><th>source</th><th>target</th><th>realised</th><th>difference</th>"
        "<th>note</th></tr>" + "".join(rows) + "</table>"
    )


def mixture_shares(mixture: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """Configured weights and realised token shares from a mixture summary, if present."""
    plan = mixture.get("plan") or {}
    sources = plan.get("sources", plan) if isinstance(plan, dict) else {}
    weights: dict[str, float] = {}
    taken: dict[str, float] = {}
    for name, entry in sources.items() if isinstance(sources, dict) else []:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("weight"), int | float):
            weights[name] = float(entry["weight"])
        for key in ("tokens_taken", "tokens_planned", "tokens"):
            if isinstance(entry.get(key), int | float):
                taken[name] = float(entry[key])
                break
    total = sum(taken.values())
    realised = {name: value / total for name, value in taken.items()} if total else {}
    return weights, realised
