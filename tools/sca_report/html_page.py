"""The self-contained HTML page: styles, tables, captions and embedded images."""

import base64
import csv
import html
import os


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;
color:#222;padding:0 16px}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:1.8em}
h3{margin-top:1.4em}img{max-width:100%;height:auto;display:block;margin:8px 0;border:1px solid #eee}
table{border-collapse:collapse;font-size:0.88em;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f5f5f5}
td.l,th.l{text-align:left}.sw{display:inline-block;width:16px;height:16px;border:1px solid #999;
vertical-align:middle;margin-right:6px}.bad{color:#b00020;font-weight:bold}.muted{color:#777}
code{background:#f4f4f4;padding:1px 4px}
"""


def esc(x):
    return html.escape(str(x))


def img_tag(path, alt):
    with open(path, "rb") as f:
        data = f.read()
    w = int.from_bytes(data[16:20], "big")
    h = int.from_bytes(data[20:24], "big")
    b64 = base64.b64encode(data).decode("ascii")
    return (f'<img src="data:image/png;base64,{b64}" width="{w}" height="{h}" alt="{esc(alt)}" '
            f'data-file="{esc(os.path.basename(path))}">')


def css_rgb(rgb):
    return "rgb({},{},{})".format(*(int(round(255 * max(0.0, min(1.0, c)))) for c in rgb))


def run_summary_html(run):
    ev = run.evaluation
    parts = []
    last = run.final_validation()
    rows = [("directory", f"<code>{esc(run.dir)}</code>"), ("seed", esc(run.config.get("seed", "?")))]
    if ev:
        sh = ev["shape"]
        rows.append(("model", f'latent K = {sh["latent"]}, hidden {sh["hidden"]}, layers {sh["layers"]}'))
    if last:
        regs = ", ".join(f"{esc(k)} {v:.4g}" for k, v in last["regularizers"].items())
        rows.append(("final validation", f'step {last["step"]}: recon {last["recon"]:.3g}; {regs}'))
    parts.append("<table>" + "".join(f'<tr><th class="l">{k}</th><td class="l">{v}</td></tr>' for k, v in rows)
                 + "</table>")
    if ev and run.has_concepts():
        parts.append(concept_table_html(run))
    elif ev and ev["interventions"]:
        head = "<tr><th class=l>intervention</th><th class=l>kind</th><th>score r\u00b2</th><th>q</th>" \
               "<th>anchor error</th><th>bound</th><th>mean grid error</th></tr>"
        body = ""
        for v in ev["interventions"]:
            sel = " (selects)" if v["name"] == ev.get("select_by") else ""
            body += (f'<tr><td class=l>{esc(v["name"])}{sel}</td><td class=l>{esc(v["kind"])}</td>'
                     f'<td>{v["score"]:.4f}</td><td>{v["q"]:g}</td><td>{v["anchor"]["error"]:.4f}</td>'
                     f'<td>{v["anchor"]["bound"]:.4f}</td><td>{v["mean_grid_error"]:.4f}</td></tr>')
        parts.append(f"<table>{head}{body}</table>")
    return "\n".join(parts)


def named_table_html(run):
    ev = run.evaluation
    variants = run.variants()
    head = "<tr><th class=l>colour</th><th>similarity</th>" + "".join(f"<th>{esc(v['name'])}</th>" for v in variants) \
           + "</tr>"
    body = ""
    for c in ev["colours"]:
        cells = ""
        for v in variants:
            e = v["errors"][c["name"]]
            b = v["anchor"].get("bound")
            cls = ' class="bad"' if b is not None and e > 0.5 * b else ""
            cells += f"<td{cls}>{e:.4f}</td>"
        body += (f'<tr><td class=l><span class="sw" style="background:{css_rgb(c["rgb"])}"></span>{esc(c["name"])}'
                 f'</td><td>{c["similarity"]:.3f}</td>{cells}</tr>')
    return f"<table>{head}{body}</table><p class=muted>Per-colour error (MSE of the clamped reconstruction); " \
           f"bold red: over half the intervention's geometric bound.</p>"


def concept_table_html(run):
    variants = run.variants()
    head = "<tr><th class=l>concept</th>" + "".join(f"<th>{esc(v['name'])}</th>" for v in variants) + "</tr>"
    body = ""
    for name in variants[0]["concepts"]:
        for what in ("error_on", "error_off", "ratio"):
            cells = "".join(f"<td>{'inf' if v['concepts'][name][what] is None else format(v['concepts'][name][what], '.4g')}</td>"
                            for v in variants)
            body += f"<tr><td class=l>{esc(name)} {what}</td>{cells}</tr>"
    return f"<table>{head}{body}</table><p class=muted>error_on: mean reconstruction MSE over the held-out samples " \
           f"with the concept's label; error_off: over samples with no label; ratio: error_on / error_off.</p>"


CAPTIONS = {
    "Latent space": "Projections of the bottleneck sphere onto pairs of latent dims, each point a colour of a "
                    "16\u00b3 RGB grid drawn in its own colour; arrows: the anchor and anti-anchor directions; "
                    "star: the anchor colour.",
    "Reconstructions": "Each cell is the reconstruction, with the true colour in its centre: a visible square "
                       "means the model got that colour wrong.",
    "Error against hue": "Every colour of the HSV grid at its hue; the line follows the fully saturated, full-value "
                         "colours; dashed red: the geometric bound on the anchor colour's error.",
    "Error against similarity": "The score is r\u00b2 of this fit (on the training grid): damage in proportion "
                                "to similarity to the anchor colour scores near 1.",
    "Named colours": "The 17 colours of docs/method.md §8.",
    "Concept damage": "Held-out reconstruction error of each concept's samples (error_on) and of the unlabelled "
                      "samples (error_off), before and after each intervention (docs/data.md).",
    "Schedule": "Learning rate and regularizer weights as trained (from train_log.csv), keyed values circled.",
    "Training": "Training losses per step and the validation reconstruction loss.",
}


def run_section_html(run, figs, level=2):
    h = f"h{level}"
    out = [run_summary_html(run)]
    for title, path in figs:
        out.append(f"<{h}>{esc(title)}</{h}>")
        if title in CAPTIONS:
            out.append(f"<p class=muted>{esc(CAPTIONS[title])}</p>")
        if title == "Named colours":
            out.append(named_table_html(run))
        out.append(img_tag(path, f"{run.name}: {title}"))
    return "\n".join(out)


def page(title, body):
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body>\n<h1>{esc(title)}</h1>\n{body}\n</body></html>\n")


def csv_table_html(path, limit=300):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return ""
    head = "".join(f"<th>{esc(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows[1:limit + 1])
    more = f"<p class=muted>first {limit} of {len(rows) - 1} rows</p>" if len(rows) - 1 > limit else ""
    return (f"<details><summary>The collected table, <code>{esc(path)}</code> ({len(rows) - 1} rows)</summary>"
            f'<div style="overflow-x:auto"><table><tr>{head}</tr>{body}</table></div>{more}</details>')
