"""The figures of many runs: score distributions, the Pareto front, scores against swept values, and the sampled configs of a search."""

import math
import os

import numpy as np
import matplotlib
import matplotlib.ticker
import matplotlib.pyplot as plt

from .html_page import csv_table_html, esc, img_tag
from .output import save
from .runs import _isnum, config_columns, read_csv_rows, score_names


def fig_score_distribution(runs, group, select_by, out):
    names = score_names(runs)
    fig, axes = plt.subplots(1, len(names), figsize=(max(4.2 * len(names), 6.0), 3.3), squeeze=False,
                             constrained_layout=True)
    for k, name in enumerate(names):
        ax = axes[0][k]
        scores = np.array([v["score"] for r in runs for v in r.evaluation["interventions"] if v["name"] == name])
        ax.hist(scores, bins=np.linspace(0, 1, 21), color="crimson" if name == select_by else "0.55",
                edgecolor="white")
        for label, val, ls in (("median", np.median(scores), "-"), ("mean", scores.mean(), "--")):
            ax.axvline(val, color="black", ls=ls, lw=1, label=f"{label} {val:.3f}")
        ax.set_xlim(0, 1)
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel(f"score r\u00b2 ({name}{', selected by' if name == select_by else ''})")
        ax.set_ylabel("runs")
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{group}: score distribution over {len(runs)} runs", fontsize=10)
    return save(fig, out)


def fig_pareto(runs, group, out):
    """Each minimised objective against the score; the front and the best run marked."""
    objs = runs[0].entry["objectives"]["names"]
    minimised = objs[:-1]
    score_name = objs[-1]
    m = len(minimised)
    cols = min(m, 3)
    rows = (m + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.9 * cols, 3.3 * rows + 0.3), squeeze=False,
                             constrained_layout=True)
    for k in range(m, rows * cols):
        axes[k // cols][k % cols].set_axis_off()
    score = np.array([r.entry["objectives"]["score"] for r in runs])
    front = np.array([bool(r.entry.get("front")) for r in runs])
    best = np.array([bool(r.entry.get("best")) for r in runs])
    for k, name in enumerate(minimised):
        ax = axes[k // cols][k % cols]
        x = np.array([r.entry["objectives"]["minimise"][k] for r in runs], dtype=float)
        ax.scatter(x[~front], score[~front], s=18, c="0.6", label="dominated")
        ax.scatter(x[front], score[front], s=24, c="royalblue", label="Pareto front")
        ax.scatter(x[best], score[best], s=200, marker="*", c="gold", edgecolors="black", zorder=5, label="best")
        pos = x[np.isfinite(x)]
        if pos.size and pos.min() > 0 and pos.max() / pos.min() > 20:
            ax.set_xscale("log")
        else:
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
        ax.set_xlabel(f"val {name} (lower is better)")
        ax.set_ylabel(score_name.replace("score:", "score ") + " (higher is better)")
        if k == 0:
            ax.legend(fontsize=7)
    fig.suptitle(f"{group}: Pareto front ({int(front.sum())} of {len(runs)} runs), each objective against the score",
                 fontsize=10)
    return save(fig, out)


def fig_swept(runs, group, swept, out):
    score = np.array([r.entry["objectives"]["score"] for r in runs])
    keys = list(swept)
    n = len(keys)
    cols = min(n, 3)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(max(4.2 * cols, 6.0), 3.3 * rows + 0.3), squeeze=False,
                             constrained_layout=True)
    score_name = runs[0].entry["objectives"]["names"][-1].replace("score:", "")
    for k, key in enumerate(keys):
        ax = axes[k // cols][k % cols]
        vals = swept[key]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)
        levels = sorted(set(vals), key=lambda v: (v if numeric else str(v)))
        pos = {v: i for i, v in enumerate(levels)}
        x = np.array([pos[v] for v in vals], dtype=float)
        jitter = (np.random.default_rng(0).random(len(x)) - 0.5) * 0.25
        ax.scatter(x + jitter, score, s=12, c="0.45")
        med = [np.median(score[x == i]) for i in range(len(levels))]
        ax.plot(range(len(levels)), med, "o-", color="crimson", lw=1.5, label="median")
        ax.set_xticks(range(len(levels)))
        ax.set_xticklabels([f"{v:g}" if numeric else str(v) for v in levels], fontsize=8,
                           rotation=0 if len(levels) < 8 else 90)
        ax.set_xlabel(key, fontsize=8)
        ax.set_ylabel(f"score ({score_name})")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].set_axis_off()
    fig.suptitle(f"{group}: score against each swept value", fontsize=10)
    return save(fig, out)


def fig_config_distributions(configs, results, out, limit=30):
    """Each configuration's scores over its seeds (best ranked first), the ranking statistic marked."""
    stat = [k for k in configs[0] if k.startswith("statistic_")][0]
    shown = sorted(configs, key=lambda c: (c["setup"], int(c["rank"])))[:limit]
    by_config = {}
    for r in results:
        if r.get("status") == "finished":
            by_config.setdefault(r["config"], []).append(r)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * len(shown) + 2), 3.8), constrained_layout=True)
    for i, c in enumerate(shown):
        column = "score_" + c["scored_by"]
        scores = [float(r[column]) for r in by_config.get(c["config"], []) if r.get(column) not in (None, "", "nan")]
        if scores:
            ax.boxplot([scores], positions=[i], widths=0.6, showfliers=False)
            ax.scatter(np.full(len(scores), i) + (np.random.default_rng(i).random(len(scores)) - 0.5) * 0.3, scores,
                       s=6, c="0.4", zorder=3)
        ax.scatter([i], [float(c[stat])], marker="_", s=220, c="crimson" if c["error_ok"] == "1" else "orange", zorder=4)
    ax.set_xticks(range(len(shown)))
    ax.set_xticklabels([f"#{c['rank']}" for c in shown], fontsize=7)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("configuration, by rank")
    ax.scatter([], [], marker="_", s=220, c="crimson", label="ranking statistic")
    ax.scatter([], [], marker="_", s=220, c="orange", label="... anchor error outside the band")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_ylabel("score r\u00b2")
    ax.set_title(f"Per-configuration score distributions ({len(shown)} of {len(configs)}, by {stat[10:]})", fontsize=10)
    return save(fig, out)


def heat_levels(values, bins=8):
    """Cell labels for one key: its values, or (numeric with many levels, as a sample gives) bins."""
    distinct = sorted(set(values), key=lambda v: (float(v) if _isnum(v) else math.inf, v))
    if len(distinct) <= 10 or not all(_isnum(v) for v in distinct):
        return distinct, list(values)
    x = np.array([float(v) for v in values])
    log = x.min() > 0 and x.max() / x.min() > 20
    t = np.log(x) if log else x
    edges = np.linspace(t.min(), t.max(), bins + 1)
    which = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, bins - 1)
    fmt = (lambda e: f"{math.exp(e):.3g}") if log else (lambda e: f"{e:.3g}")
    labels = [f"{fmt(edges[b])}-{fmt(edges[b + 1])}" for b in range(bins)]
    return labels, [labels[b] for b in which]


def fig_config_heatmap(configs, keys, out):
    """The ranking statistic over two swept keys: the mean over configurations sharing a cell."""
    stat = [k for k in configs[0] if k.startswith("statistic_")][0]
    xs, xcell = heat_levels([c[keys[0]] for c in configs])
    ys, ycell = heat_levels([c[keys[1]] for c in configs])
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros_like(total)
    for c, xc, yc in zip(configs, xcell, ycell):
        v = float(c[stat])
        if math.isfinite(v):
            total[ys.index(yc), xs.index(xc)] += v
            count[ys.index(yc), xs.index(xc)] += 1
    grid = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.5 * len(xs) + 2.5), max(3.2, 0.4 * len(ys) + 1.8)), constrained_layout=True)
    im = ax.imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=1, aspect="auto")
    if len(xs) <= 16 and len(ys) <= 16:
        for i in range(len(ys)):
            for j in range(len(xs)):
                if np.isfinite(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if grid[i, j] < 0.6 else "black")
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(xs, fontsize=7, rotation=90 if len(xs) > 6 else 0)
    ax.set_yticks(range(len(ys)))
    ax.set_yticklabels(ys, fontsize=7)
    ax.set_xlabel(keys[0], fontsize=8)
    ax.set_ylabel(keys[1], fontsize=8)
    fig.colorbar(im, ax=ax, label=f"{stat[10:]} score (mean over a cell's configurations)")
    ax.set_title("Configurations: the ranking statistic over two swept keys", fontsize=10)
    return save(fig, out)


def report_configs(manifest, fig_dir, say):
    """Figures and a table from configs.csv (sca collect); [] when there is none."""
    path = manifest.get("configs_csv")
    if not path:
        return [], []
    configs = read_csv_rows(path)
    if not configs:
        return [], []
    results = read_csv_rows(manifest["collect_csv"]) if manifest.get("collect_csv") else []
    keys = config_columns(configs)
    body, figs = [f"<h2>Configurations: {len(configs)}</h2>",
                  f"<p>From <code>{esc(path)}</code>: every swept value but the seed, ranked by the "
                  f"{esc([k for k in configs[0] if k.startswith('statistic_')][0][10:])} score.</p>"], []
    f = ("Per-configuration score distributions", fig_config_distributions(configs, results, os.path.join(fig_dir, "configs-distributions.png")))
    figs.append(f)
    body += [f"<h3>{esc(f[0])}</h3>", img_tag(f[1], f[0])]
    wanted = [k for k in (manifest.get("heatmap") or "").split(",") if k]
    if wanted and (len(wanted) != 2 or any(k not in keys for k in wanted)):
        raise SystemExit(f"report: --heatmap needs two swept keys of {path} ({', '.join(keys)}), got {','.join(wanted)}")
    pair = wanted or keys[:2]
    if len(pair) == 2:
        f = (f"Heatmap: {pair[0]} x {pair[1]}", fig_config_heatmap(configs, pair, os.path.join(fig_dir, "configs-heatmap.png")))
        figs.append(f)
        body += [f"<h3>{esc(f[0])}</h3>", img_tag(f[1], f[0])]
    body.append(csv_table_html(path, limit=50))
    say(f"report: {len(configs)} configurations")
    return body, figs
