#!/usr/bin/env python3
"""Two runs, or two sweeps, side by side: tables (printed, and in the page)
and overlaid figures in one self-contained OUT/compare.html.

Called by `sca compare A B`, which writes OUT/manifest.json: {"out", "a", "b"},
each side a manifest as `sca report` makes it. Drawing helpers and the page
come from sca_report/ beside this script.
"""
import argparse
import json
import os
import sys

import sca_report  # noqa: F401  (checks numpy, matplotlib, PyYAML; beside this script)
import numpy as np
import matplotlib.pyplot as plt

from sca_report.html_page import esc, img_tag, page
from sca_report.output import save, write_atomic
from sca_report.runs import Run, colour_error

SIDES = (("A", "-"), ("B", "--"))


def fmt(x):
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "-"
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def table(title, header, rows):
    """(plain text, html) of one table."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    text = f"{title}\n" + "\n".join(line(r) for r in [header, *rows]) + "\n"
    head = "".join(f"<th{' class=l' if i == 0 else ''}>{esc(c)}</th>" for i, c in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{' class=l' if i == 0 else ''}>{esc(c)}</td>" for i, c in enumerate(r)) + "</tr>"
                   for r in rows)
    return text, f"<h2>{esc(title)}</h2><table><tr>{head}</tr>{body}</table>"


def variants_by_name(run):
    return {v["name"]: v for v in run.variants()}


# ------------------------------------------------------------------ two runs


def run_tables(a, b):
    rows = []
    for label, get in [("seed", lambda r: r.config.get("seed")),
                       ("latent K", lambda r: r.evaluation["shape"]["latent"]),
                       ("val recon", lambda r: (r.final_validation() or {}).get("recon"))]:
        rows.append([label, fmt(get(a)), fmt(get(b))])
    regs = [k for k in (a.final_validation() or {}).get("regularizers", {})
            if k in (b.final_validation() or {}).get("regularizers", {})]
    for k in regs:
        rows.append([f"val {k}", fmt(a.final_validation()["regularizers"][k]), fmt(b.final_validation()["regularizers"][k])])
    va, vb = variants_by_name(a), variants_by_name(b)
    shared = [n for n in va if n in vb]
    for n in shared:
        if n != "baseline":
            rows.append([f"score {n}", fmt(va[n]["score"]), fmt(vb[n]["score"])])
        rows.append([f"anchor error {n}", fmt(va[n]["anchor"]["error"]), fmt(vb[n]["anchor"]["error"])])
    summary = table(f"{a.name} (A) against {b.name} (B)", ["", "A", "B"], rows)
    colours = [c["name"] for c in a.evaluation["colours"]]
    header = ["colour"] + [f"{n} {s}" for n in shared for s, _ in SIDES]
    crows = [[c] + [f'{v[c]:.4f}' for n in shared for v in (va[n]["errors"], vb[n]["errors"])] for c in colours]
    errors = table("Named colours: error of each variant", header, crows)
    return [summary, errors], shared


def fig_training(a, b, out):
    fig, ax = plt.subplots(figsize=(9, 4.2), constrained_layout=True)
    for (side, ls), run in zip(SIDES, (a, b)):
        log = run.log
        for name, colour in (("recon", "tab:blue"), ("total", "black")):
            if name in log:
                ax.plot(log["step"], log[name], ls=ls, color=colour, lw=1, label=f"{side} {name}")
        recs = (run.validation or {}).get("records", [])
        ax.plot([r["step"] for r in recs], [r["recon"] for r in recs], "s" if side == "A" else "o", ms=5,
                mfc="yellow", color="black", ls="none", label=f"{side} val recon")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, ncol=3)
    fig.suptitle(f"training: {a.name} (A, solid) against {b.name} (B, dashed)", fontsize=10)
    return save(fig, out)


def fig_error_hue(a, b, shared, out):
    """Error against hue at S = V = 1, each shared variant, A and B overlaid."""
    n = len(shared)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False, constrained_layout=True)
    for k, name in enumerate(shared):
        ax = axes[0][k]
        for (side, ls), run in zip(SIDES, (a, b)):
            v = variants_by_name(run)[name]
            inputs = run.npy(run.evaluation["grids"]["hsv_grid"]["inputs"])
            H, S, V = inputs.shape[:3]
            e = colour_error(run.grid(v, "hsv_grid", "outputs"), inputs)[:, S - 1, V - 1]
            hues = 360.0 * np.arange(H + 1) / H
            label = side if name == "baseline" else f"{side}: r\u00b2 {v['score']:.3f}"
            ax.plot(hues, np.append(e, e[0]), ls=ls, color="black", lw=1.4, label=label)
        ax.set_xlim(0, 360)
        ax.set_xticks(range(0, 361, 60))
        ax.set_xlabel("hue (degrees), S = V = 1")
        ax.set_ylabel("error (MSE)")
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=8)
    fig.suptitle(f"error against hue: {a.name} (A, solid) against {b.name} (B, dashed)", fontsize=10)
    return save(fig, out)


def compare_runs(ma, mb, out):
    a, b = Run(ma["runs"][0]), Run(mb["runs"][0])
    tables, shared = run_tables(a, b)
    figs = [("Training", fig_training(a, b, os.path.join(out, "training.png")))]
    if a.has_grids() and b.has_grids() and shared:
        figs.append(("Error against hue", fig_error_hue(a, b, shared, os.path.join(out, "error_hue.png"))))
    return tables, figs


# ------------------------------------------------------------------ two sweeps


def scored(manifest):
    """(Run, objectives) of every evaluated and scored run."""
    return [(e, e["objectives"]) for e in manifest["runs"] if e.get("objectives")]


def all_scores(manifest, members=None):
    """{score name: array} over the evaluated runs (or those indices), every intervention."""
    out = {}
    for i, e in enumerate(manifest["runs"]):
        if not e.get("evaluated") or (members is not None and i not in members):
            continue
        run = Run(e)
        for v in run.evaluation["interventions"]:
            out.setdefault(v["name"], []).append(v["score"])
    return {k: np.array(v) for k, v in out.items()}


def group_label(manifest, n, g):
    """A setup's name: the collect table's, else the sweep's base files, else "setup N"."""
    if "score:" not in g["name"]:
        return g["name"]
    try:
        with open(os.path.join(manifest["target"], "sweep.json")) as f:
            base = {r["id"]: r["base"] for r in json.load(f)["runs"]}
        names = sorted({os.path.splitext(os.path.basename(base[os.path.basename(manifest["runs"][i]["dir"])]))[0]
                        for i in g["runs"]})
        return "+".join(names)
    except (OSError, KeyError, ValueError):
        return f"setup {n + 1}"


def groups_by_name(manifest):
    return {group_label(manifest, n, g): g for n, g in enumerate(manifest.get("groups", []))}


def score_rows(sa, sb, prefix=""):
    rows = []
    for n in [n for n in sa if n in sb]:
        for stat, f in (("min", np.min), ("median", np.median), ("mean", np.mean), ("max", np.max)):
            rows.append([f"{prefix}score {n} {stat}", fmt(float(f(sa[n]))), fmt(float(f(sb[n])))])
    return rows


def best_cell(m, g):
    if "best" not in g:
        return "-"
    e = m["runs"][g["best"]]
    return f'{e["name"]} ({e["objectives"]["score"]:.4f}, front {g["front_size"]})'


def sweep_tables(ma, mb):
    sa, sb = all_scores(ma), all_scores(mb)
    shared = [n for n in sa if n in sb]
    rows = [["run directories", len(ma["runs"]), len(mb["runs"])],
            ["evaluated", sum(bool(e.get("evaluated")) for e in ma["runs"]), sum(bool(e.get("evaluated")) for e in mb["runs"])]]
    ga, gb = groups_by_name(ma), groups_by_name(mb)
    if len(ga) <= 1 and len(gb) <= 1:
        rows += score_rows(sa, sb)
        rows.append(["best (score, front size)", best_cell(ma, next(iter(ga.values()), {})),
                     best_cell(mb, next(iter(gb.values()), {}))])
    else:
        # Several setups: compare each setup both sides have, never pooled across setups.
        for name in [n for n in ga if n in gb]:
            rows += score_rows(all_scores(ma, set(ga[name]["runs"])), all_scores(mb, set(gb[name]["runs"])), f"{name}: ")
            rows.append([f"{name}: best (score, front size)", best_cell(ma, ga[name]), best_cell(mb, gb[name])])
        only = [n for n in ga if n not in gb] + [n for n in gb if n not in ga]
        if only:
            rows.append(["setups on one side only", ", ".join(n for n in ga if n not in gb) or "-",
                         ", ".join(n for n in gb if n not in ga) or "-"])
    return [table(f"{os.path.basename(ma['target'])} (A) against {os.path.basename(mb['target'])} (B)",
                  ["", "A", "B"], rows)], shared, sa, sb


def fig_scores(shared, sa, sb, names, out):
    n = len(shared)
    fig, axes = plt.subplots(2, n, figsize=(4.2 * n, 6), squeeze=False, constrained_layout=True)
    for k, name in enumerate(shared):
        bins = np.linspace(0, 1, 21)
        for (side, ls), s, colour in zip(SIDES, (sa[name], sb[name]), ("tab:blue", "tab:orange")):
            axes[0][k].hist(s, bins=bins, histtype="step", ls=ls, color=colour, lw=1.5, label=f"{side} ({len(s)} runs)")
            xs = np.sort(s)
            axes[1][k].step(xs, np.arange(1, len(xs) + 1) / len(xs), where="post", ls=ls, color=colour, label=side)
        axes[0][k].set_title(f"score {name}", fontsize=10)
        axes[0][k].set_xlabel("score r\u00b2")
        axes[0][k].set_ylabel("runs")
        axes[0][k].legend(fontsize=8)
        axes[1][k].set_xlabel("score r\u00b2")
        axes[1][k].set_ylabel("fraction of runs at or below")
        axes[1][k].set_xlim(0, 1)
    fig.suptitle(f"score distributions: {names[0]} (A) against {names[1]} (B)", fontsize=10)
    return save(fig, out)


def fig_recon_score(ma, mb, out):
    fig, ax = plt.subplots(figsize=(6, 4.2), constrained_layout=True)
    for (side, _), m, colour in zip(SIDES, (ma, mb), ("tab:blue", "tab:orange")):
        runs = scored(m)
        recon = np.array([o["minimise"][0] for _, o in runs])
        score = np.array([o["score"] for _, o in runs])
        front = np.array([bool(e.get("front")) for e, _ in runs])
        ax.scatter(recon[~front], score[~front], s=14, color=colour, alpha=0.5, label=f"{side}")
        ax.scatter(recon[front], score[front], s=30, color=colour, edgecolors="black", label=f"{side} Pareto front")
    ax.set_xscale("log")
    ax.set_xlabel("final validation recon")
    ax.set_ylabel("score (select_by)")
    ax.legend(fontsize=8)
    fig.suptitle("reconstruction against score, every run", fontsize=10)
    return save(fig, out)


def compare_sweeps(ma, mb, out):
    tables, shared, sa, sb = sweep_tables(ma, mb)
    names = (os.path.basename(ma["target"]), os.path.basename(mb["target"]))
    figs = []
    if shared:
        figs.append(("Score distributions", fig_scores(shared, sa, sb, names, os.path.join(out, "scores.png"))))
    if scored(ma) and scored(mb):
        figs.append(("Reconstruction against score", fig_recon_score(ma, mb, os.path.join(out, "recon_score.png"))))
    return tables, figs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", required=True, help="OUT/manifest.json as `sca compare` writes it")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    with open(a.manifest) as f:
        manifest = json.load(f)
    out, ma, mb = manifest["out"], manifest["a"], manifest["b"]
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10})
    tables, figs = (compare_runs if ma["kind"] == "run" else compare_sweeps)(ma, mb, out)
    for text, _ in tables:
        print(text)
    body = [f"<p class=muted>Generated by <code>sca compare {esc(ma['target'])} {esc(mb['target'])}</code>.</p>"]
    for g in ma.get("groups", []) + mb.get("groups", []):
        if "warning" in g:
            body.append(f"<p class=bad>warning: {esc(g['warning'])}</p>")
    body += [h for _, h in tables]
    for title, path in figs:
        body.append(f"<h2>{esc(title)}</h2>" + img_tag(path, title))
    html_path = os.path.join(out, "compare.html")
    write_atomic(html_path, page(f"SCA compare: {os.path.basename(ma['target'])} and {os.path.basename(mb['target'])}",
                                 "\n".join(body)))
    if not a.quiet:
        for _, path in figs:
            print(f"compare: {path}")
        print(f"compare: {html_path} ({len(figs)} figures)")


if __name__ == "__main__":
    sys.exit(main())
