#!/usr/bin/env python3
"""Figures and one self-contained report.html for an SCA run or a set of runs.

Called by `sca report DIR`, which finds the runs, resolves their schedules and
selects among them, and writes DIR/report/manifest.json; this script reads
that manifest and each run's own files (config.yaml, train_log.csv,
validation.json, evaluation.json, evaluation/*.npy) and writes
DIR/report/*.png and DIR/report.html (every image embedded, so the page opens
from disk with no server and no network). Needs numpy, matplotlib and yaml
(Debian: python3-numpy python3-matplotlib python3-yaml).
"""
import argparse
import base64
import csv
import html
import io
import json
import math
import os
import sys
import tempfile

try:
    import numpy as np
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: E402
    import yaml  # noqa: E402
except ImportError as e:
    sys.exit(f"error: sca report needs numpy, matplotlib and PyYAML in {sys.executable} ({e.name} is missing): "
             "install python3-numpy python3-matplotlib python3-yaml (Debian), or pass sca report --python PYTHON")

from spec_colour import rgb_to_hsv, similarity  # noqa: E402  (beside this script)

DPI = 100
PANEL = 2.8  # inches per latent panel side

# ------------------------------------------------------------------ colour maths (docs/method.md §8)


def colour_error(outputs, inputs):
    return np.mean((np.clip(outputs, 0.0, 1.0) - inputs) ** 2, axis=-1)


# ------------------------------------------------------------------ reading a run


def read_csv_columns(path):
    """A CSV as {column: float array}; blank cells are NaN."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return {}
    header, body = rows[0], rows[1:]
    cols = {}
    for i, name in enumerate(header):
        vals = []
        for r in body:
            try:
                vals.append(float(r[i]) if i < len(r) and r[i] != "" else math.nan)
            except ValueError:
                vals.append(math.nan)
        cols[name] = np.array(vals)
    return cols


class Run:
    def __init__(self, entry):
        self.entry = entry
        self.dir = entry["dir"]
        self.name = entry["name"]
        with open(self.path("config.yaml")) as f:
            self.config = yaml.safe_load(f) or {}
        # `sca report` re-evaluates with grids into grid_dir where the run has none.
        self.eval_dir = entry.get("grid_dir") or self.dir
        self.evaluation = self.load_json(os.path.join(self.eval_dir, "evaluation.json"))
        self.validation = self.load_json("validation.json")
        self.log = read_csv_columns(self.path("train_log.csv")) if os.path.exists(self.path("train_log.csv")) else {}
        self.schedule = entry.get("schedule")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def load_json(self, name):
        p = self.path(name)
        if not os.path.exists(p):
            return None
        with open(p) as f:
            return json.load(f)

    def variants(self):
        """The baseline, then each intervention, as evaluation.json has them."""
        return [self.evaluation["baseline"]] + list(self.evaluation["interventions"])

    def has_concepts(self):
        """A data-from-files run: concepts.NAME.error_on/off per variant (docs/data.md)."""
        return bool(self.evaluation) and "concepts" in self.evaluation["baseline"]

    def has_grids(self):
        return "grids" in self.evaluation and "files" in self.evaluation["baseline"]

    def npy(self, rel):
        return np.load(os.path.join(self.eval_dir, rel))

    def grid(self, variant, set_name, what):
        return self.npy(variant["files"][f"{set_name}.{what}"])

    def regularizer_directions(self):
        """(label, unit direction) of each anchor and anti-anchor regularizer."""
        out = []
        for r in self.config.get("regularizers", []) or []:
            if r.get("kind") in ("anchor", "anti-anchor") and r.get("direction") is not None:
                d = np.asarray(r["direction"], dtype=float)
                n = np.linalg.norm(d)
                if n > 0:
                    out.append((r.get("name", r["kind"]), r["kind"], d / n))
        return out

    def anchor_dim(self):
        for _, kind, d in self.regularizer_directions():
            if kind == "anchor":
                return int(np.argmax(np.abs(d)))
        for v in self.evaluation["interventions"]:
            p = v.get("parameters", {})
            if "direction" in p:
                return int(np.argmax(np.abs(p["direction"])))
            if p.get("dims"):
                return int(p["dims"][0])
        return 0

    def final_validation(self):
        if not self.validation or not self.validation.get("records"):
            return None
        return self.validation["records"][-1]


# ------------------------------------------------------------------ figures of a run


def save(fig, path):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    write_atomic(path, buf.getvalue())
    return path


def latent_pairs(run, requested):
    K = run.evaluation["shape"]["latent"]
    if requested:
        pairs = []
        for text in requested:
            i, j = (int(x) for x in text.split(","))
            if not (0 <= i < K and 0 <= j < K and i != j):
                raise SystemExit(f"report: --dims {text}: need two different dims in [0, {K})")
            pairs.append((i, j))
        return pairs
    if K < 2:
        return []
    a = run.anchor_dim()
    lat = run.grid(run.evaluation["baseline"], "rgb_grid", "latents").reshape(-1, K)
    var = lat.var(axis=0)
    others = [int(d) for d in np.argsort(-var) if d != a]
    if K == 2:
        return [(a, others[0])]
    return [(a, others[0]), (a, others[1]), (others[0], others[1])]


def anchor_point(run, v, inputs):
    """The latent of the run's anchor colour (evaluation.anchor_colour) in variant v,
    and its label: the named colour of that RGB if there is one, else the
    nearest colour of the RGB grid."""
    anchor = np.asarray(run.evaluation["anchor_colour"]["rgb"], dtype=np.float64)
    for c in run.evaluation["colours"]:
        if np.abs(np.asarray(c["rgb"]) - anchor).max() < 1e-6 and c["name"] in v["latents"]:
            return np.asarray(v["latents"][c["name"]]), c["name"]
    lat = run.grid(v, "rgb_grid", "latents").reshape(-1, v["latent"])
    nearest = int(np.argmin(((inputs - anchor) ** 2).sum(axis=1)))
    rgb = ", ".join(f"{x:.2f}" for x in anchor)
    return lat[nearest], f"anchor colour ({rgb})"


def fig_latent(run, out, requested_pairs):
    """Projections of the bottleneck onto pairs of dims, per variant."""
    variants = run.variants()
    pairs = latent_pairs(run, requested_pairs)
    inputs = run.npy(run.evaluation["grids"]["rgb_grid"]["inputs"]).reshape(-1, 3)
    dirs = run.regularizer_directions()
    anchor_rgb = run.evaluation["anchor_colour"]["rgb"]
    anchor_label = anchor_point(run, variants[0], inputs)[1]
    rows, cols = len(pairs), len(variants)
    fig, axes = plt.subplots(rows, cols, figsize=(PANEL * cols, PANEL * rows + 0.5), squeeze=False,
                             constrained_layout=True)
    for c, v in enumerate(variants):
        lat = run.grid(v, "rgb_grid", "latents").reshape(-1, v["latent"])
        K = lat.shape[1]
        for r, (i, j) in enumerate(pairs):
            ax = axes[r][c]
            if i >= K or j >= K:  # a pruned variant has fewer dims
                ax.set_axis_off()
                ax.text(0.5, 0.5, f"dims {i},{j} pruned", ha="center", va="center", transform=ax.transAxes)
                continue
            # Points nearest the plane drawn last, so the visible face is on top.
            off_plane = np.sum(np.delete(lat, [i, j], axis=1) ** 2, axis=1)
            order = np.argsort(-off_plane)
            ax.scatter(lat[order, i], lat[order, j], c=inputs[order], s=6, linewidths=0)
            t = np.linspace(0, 2 * np.pi, 200)
            ax.plot(np.cos(t), np.sin(t), color="0.75", lw=0.8, zorder=0)
            for label, kind, d in dirs:
                if len(d) != K or math.hypot(d[i], d[j]) < 1e-6:
                    continue
                style = dict(color="black", lw=1.4) if kind == "anchor" else dict(color="0.35", lw=1.2, ls="--")
                ax.annotate("", xy=(d[i], d[j]), xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", **style))
                ax.text(0.6 * d[i], 0.6 * d[j] + 0.1, label, ha="center", va="bottom", fontsize=7,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
            star = anchor_point(run, v, inputs)[0]
            if len(star) == K:
                ax.scatter([star[i]], [star[j]], marker="*", s=140, c=[anchor_rgb],
                           edgecolors="black", linewidths=0.8, zorder=5)
            ax.set_xlim(-1.3, 1.3)
            ax.set_ylim(-1.3, 1.3)
            ax.set_aspect("equal")
            ax.tick_params(labelsize=7)
            ax.set_xlabel(f"z{i}", fontsize=9)
            ax.set_ylabel(f"z{j}", fontsize=9)
            if r == 0:
                ax.set_title(v["name"] if v["kind"] == "baseline" else f'{v["name"]} ({v["kind"]})', fontsize=10)
    side = round(len(inputs) ** (1 / 3))
    fig.suptitle(f"{run.name}: latent space ({side}\u00b3 RGB grid, coloured by true colour; \u2605 {anchor_label})",
                 fontsize=10)
    return save(fig, out)


def swatch_image(true_rgb, recon_rgb, cell=12, inner=6):
    """[rows][cols][3] colours -> an image: each cell the reconstruction with the true colour inside."""
    rows, cols = true_rgb.shape[:2]
    img = np.repeat(np.repeat(np.clip(recon_rgb, 0, 1), cell, axis=0), cell, axis=1)
    lo = (cell - inner) // 2
    for y in range(rows):
        for x in range(cols):
            img[y * cell + lo:y * cell + lo + inner, x * cell + lo:x * cell + lo + inner] = true_rgb[y, x]
    return img


def fig_reconstructions(run, out):
    """HSV slices as swatches: the reconstructed colour around the true one."""
    variants = run.variants()
    inputs = run.npy(run.evaluation["grids"]["hsv_grid"]["inputs"])  # [H][S][V][3]
    H, S, V = inputs.shape[:3]
    fig, axes = plt.subplots(len(variants), 2, figsize=(11, 1.9 * len(variants) + 0.5), squeeze=False,
                             constrained_layout=True)
    for r, v in enumerate(variants):
        outs = run.grid(v, "hsv_grid", "outputs")
        err = colour_error(outs, inputs)
        # Slice 1: saturation 1 (top) .. 0 at full value; slice 2: value 1 (top) .. 0 at full saturation.
        for c, (true, rec, e, ylabel) in enumerate([
            (inputs[:, ::-1, V - 1], outs[:, ::-1, V - 1], err[:, :, V - 1], "saturation (V = 1)"),
            (inputs[:, S - 1, ::-1], outs[:, S - 1, ::-1], err[:, S - 1, :], "value (S = 1)"),
        ]):
            ax = axes[r][c]
            ax.imshow(swatch_image(np.transpose(true, (1, 0, 2)), np.transpose(rec, (1, 0, 2))),
                      interpolation="nearest", aspect="equal")
            ax.set_xticks(np.arange(0, H, max(1, H // 6)) * 12 + 6)
            ax.set_xticklabels([f"{round(360 * k / H)}\u00b0" for k in range(0, H, max(1, H // 6))], fontsize=7)
            n = inputs.shape[1] if c == 0 else inputs.shape[2]
            ax.set_yticks([6, (n - 1) * 12 + 6])
            ax.set_yticklabels(["1", "0"], fontsize=7)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.set_title(f'{v["name"]}: mean error {float(e.mean()):.4f}, max {float(e.max()):.4f}', fontsize=9)
    fig.suptitle(f"{run.name}: reconstructions over HSV slices (outer: reconstructed, inner: true)", fontsize=10)
    return save(fig, out)


def fig_error_hue(run, out):
    """Per-colour error against hue, per intervention, with the geometric bound."""
    inter = run.evaluation["interventions"]
    inputs = run.npy(run.evaluation["grids"]["hsv_grid"]["inputs"])
    hsv = run.npy(run.evaluation["grids"]["hsv_grid"]["hsv"])
    H, S, V = inputs.shape[:3]
    hue = 360.0 * hsv[..., 0]
    base_err = colour_error(run.grid(run.evaluation["baseline"], "hsv_grid", "outputs"), inputs)
    n = max(1, len(inter))
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n + 1.7, 3.6), squeeze=False, constrained_layout=True)
    ymax = max([v["anchor"].get("bound", 0) for v in inter] + [0.05])
    errs = [colour_error(run.grid(v, "hsv_grid", "outputs"), inputs) for v in inter]
    ymax = max([ymax] + [float(e.max()) for e in errs]) * 1.08
    for k, v in enumerate(inter):
        ax = axes[0][k]
        e = errs[k]
        ax.scatter(hue.ravel(), e.ravel(), c=inputs.reshape(-1, 3), s=7, linewidths=0, alpha=0.8,
                   label=f"all {H}\u00d7{S}\u00d7{V} HSV colours")
        hues = 360.0 * np.arange(H + 1) / H
        vivid = np.append(e[:, S - 1, V - 1], e[0, S - 1, V - 1])
        ax.plot(hues, vivid, color="black", lw=1.5, label="S = V = 1")
        ax.plot(hues, np.append(base_err[:, S - 1, V - 1], base_err[0, S - 1, V - 1]), color="0.5", lw=1,
                ls=":", label="baseline, S = V = 1")
        bound = v["anchor"].get("bound")
        if bound is not None:
            ax.axhline(bound, color="crimson", ls="--", lw=1.2, label=f"geometric bound {bound:.3g}")
        ax.scatter([360.0 * run.evaluation["anchor_colour"]["hsv"][0]], [v["anchor"]["error"]], marker="*", s=150,
                   c=[run.evaluation["anchor_colour"]["rgb"]], edgecolors="black", zorder=5,
                   label=f'anchor colour {v["anchor"]["error"]:.3f}')
        ax.set_xlim(0, 360)
        ax.set_ylim(0, ymax)
        ax.set_xticks(range(0, 361, 60))
        ax.set_xlabel("hue (degrees)")
        ax.set_ylabel("per-colour error (MSE)")
        ax.set_title(f'{v["name"]} ({v["kind"]}): score r\u00b2 = {v["score"]:.3f}', fontsize=10)
        if k == n - 1:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    fig.suptitle(f"{run.name}: error against hue", fontsize=10)
    return save(fig, out)


def fig_error_similarity(run, out):
    """Per-colour error against similarity^q, the fitted line and its r^2, per intervention."""
    inter = run.evaluation["interventions"]
    inputs = run.npy(run.evaluation["grids"]["rgb_grid"]["inputs"]).reshape(-1, 3)
    sim = similarity(rgb_to_hsv(inputs), run.evaluation["anchor_colour"]["hsv"])
    n = max(1, len(inter))
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.6), squeeze=False, constrained_layout=True)
    side = round(len(inputs) ** (1 / 3))
    for k, v in enumerate(inter):
        ax = axes[0][k]
        q = v.get("q", 2)
        x = sim ** q
        y = colour_error(run.grid(v, "rgb_grid", "outputs").reshape(-1, 3), inputs)
        ax.scatter(x, y, c=inputs, s=7, linewidths=0, alpha=0.8)
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            slope, icpt = np.polyfit(x, y, 1)
            r2 = float(np.corrcoef(x, y)[0, 1] ** 2)
            xs = np.array([0.0, 1.0])
            ax.plot(xs, slope * xs + icpt, color="black", lw=1.4,
                    label=f"fit: {slope:.3f} x + {icpt:.3f}, r\u00b2 = {r2:.3f}")
        bound = v["anchor"].get("bound")
        if bound is not None:
            ax.axhline(bound, color="crimson", ls="--", lw=1.2, label=f"geometric bound {bound:.3g}")
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(0, max(float(y.max()), bound or 0, 0.05) * 1.1)
        ax.set_xlabel(f"similarity to the anchor colour ^ {q:g}")
        ax.set_ylabel("per-colour error (MSE)")
        ax.set_title(f'{v["name"]}: {side}\u00b3 grid shown; score on the '
                     f'{run.evaluation["grid"]}\u00b3 training grid {v["score"]:.3f}', fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(f"{run.name}: error against similarity", fontsize=10)
    return save(fig, out)


def fig_schedule(run, out):
    """Learning rate and every regularizer weight over the steps, keyframes marked."""
    log = run.log
    steps = log.get("step")
    weights = [k for k in log if k.startswith("w_")]
    fig, (ax_lr, ax_w) = plt.subplots(2, 1, figsize=(9, 5.2), sharex=True, constrained_layout=True)
    tracks = (run.schedule or {}).get("tracks", {})
    keyframes = (run.schedule or {}).get("keyframe_steps", [])
    for ax in (ax_lr, ax_w):
        for s in keyframes:
            ax.axvline(s, color="0.8", lw=0.8, zorder=0)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    if steps is not None and "lr" in log:
        ax_lr.plot(steps, log["lr"], color="black", lw=1.3, label="lr")
    if "lr" in tracks:
        ks = np.array(tracks["lr"]["keys"], dtype=float)
        ax_lr.plot(ks[:, 0], ks[:, 1], "o", color="black", ms=5, mfc="white", label="keyed")
    ax_lr.set_yscale("log")
    ax_lr.set_ylabel("learning rate")
    ax_lr.legend(fontsize=8, loc="lower right")
    for n, w in enumerate(weights):
        name = w[2:]
        col = colours[n % len(colours)]
        if steps is not None:
            ax_w.plot(steps, log[w], color=col, lw=1.3, label=name)
        if name in tracks:
            ks = np.array(tracks[name]["keys"], dtype=float)
            ax_w.plot(ks[:, 0], ks[:, 1], "o", color=col, ms=5, mfc="white")
    ax_w.set_yscale("symlog", linthresh=1e-3)
    ax_w.set_ylabel("regularizer weight")
    ax_w.set_xlabel("step (grey lines: keyframes; circles: keyed values)")
    ax_w.legend(fontsize=8, ncol=2)
    top = ax_lr.secondary_xaxis("top")
    top.set_xticks(keyframes)
    top.set_xticklabels([str(s) for s in keyframes], fontsize=7, rotation=90)
    fig.suptitle(f"{run.name}: schedule", fontsize=10)
    return save(fig, out)


def fig_training(run, out):
    """Training losses (a running mean over the log) and the validation records."""
    log = run.log
    steps = log.get("step")
    skip = {"step", "lr"}
    losses = [k for k in log if k not in skip and not k.startswith("w_")]
    fig, ax = plt.subplots(figsize=(9, 4.2), constrained_layout=True)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    width = max(1, len(steps) // 50) if steps is not None else 1
    for n, name in enumerate(losses):
        y = log[name]
        if steps is None or np.all(np.isnan(y)):
            continue
        col = "black" if name == "total" else colours[n % len(colours)]
        ok = ~np.isnan(y)
        if ok.sum() >= width:
            kernel = np.ones(width) / width
            smooth = np.convolve(np.abs(y[ok]), kernel, mode="valid")
            smooth[smooth <= 0] = np.nan  # a log axis; a term that is zero throughout a window leaves a gap
            ax.plot(steps[ok][width - 1:], smooth, color=col, lw=1.3, label=name)
    recs = (run.validation or {}).get("records", [])
    if recs:
        vs = [r["step"] for r in recs]
        ax.plot(vs, [r["recon"] for r in recs], "s", color="black", ms=5, mfc="yellow", label="val recon")
    ax.set_yscale("log")
    ax.set_xlabel(f"step (training losses: running mean over {width} logged steps; squares: validation)")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, ncol=3)
    fig.suptitle(f"{run.name}: training", fontsize=10)
    return save(fig, out)


def named_reconstructions(run, variant):
    """Each named colour's reconstruction where a grid holds that exact colour, else None."""
    sets = []
    for set_name in ("hsv_grid", "rgb_grid"):
        ins = run.npy(run.evaluation["grids"][set_name]["inputs"]).reshape(-1, 3)
        outs = run.grid(variant, set_name, "outputs").reshape(-1, 3)
        sets.append((ins, outs))
    found = []
    for c in run.evaluation["colours"]:
        rgb = np.asarray(c["rgb"])
        hit = None
        for ins, outs in sets:
            d = np.abs(ins - rgb).max(axis=1)
            k = int(np.argmin(d))
            if d[k] < 1e-5:
                hit = np.clip(outs[k], 0, 1)
                break
        found.append(hit)
    return found


def fig_named_colours(run, out):
    """The evaluation's named-colour table: true colour, each variant's reconstruction and error."""
    variants = run.variants()
    colours = run.evaluation["colours"]
    recs = [named_reconstructions(run, v) if run.has_grids() else [None] * len(colours) for v in variants]
    n, m = len(colours), len(variants)
    fig, ax = plt.subplots(figsize=(2.4 + 1.7 * m, 0.3 * n + 0.9), constrained_layout=True)
    ax.set_xlim(0, 2.2 + 1.6 * m)
    ax.set_ylim(n + 0.2, -1.2)
    ax.set_axis_off()
    bound = {v["name"]: v["anchor"].get("bound") for v in variants}
    ax.text(0.05, -0.6, "colour", fontsize=9, weight="bold", va="center")
    for j, v in enumerate(variants):
        x0 = 2.2 + 1.6 * j
        ax.text(x0, -0.6, v["name"], fontsize=9, weight="bold", va="center")
    for i, c in enumerate(colours):
        y = i + 0.5
        ax.add_patch(plt.Rectangle((1.25, i + 0.1), 0.7, 0.8, fc=c["rgb"], ec="0.6", lw=0.5))
        ax.text(0.05, y, c["name"], fontsize=8, va="center")
        for j, v in enumerate(variants):
            x0 = 2.2 + 1.6 * j
            rec = recs[j][i]
            if rec is not None:
                ax.add_patch(plt.Rectangle((x0, i + 0.1), 0.45, 0.8, fc=rec, ec="0.6", lw=0.5))
            else:
                ax.add_patch(plt.Rectangle((x0, i + 0.1), 0.45, 0.8, fc="white", ec="0.6", lw=0.5, hatch="///"))
            e = v["errors"][c["name"]]
            b = bound[v["name"]]
            heavy = b is not None and e > 0.5 * b
            ax.text(x0 + 0.55, y, f"{e:.4f}", fontsize=8, va="center", family="monospace",
                    color="crimson" if heavy else "black", weight="bold" if heavy else "normal")
    fig.suptitle(f"{run.name}: named colours (swatch: reconstruction; hatched: not on a grid; "
                 f"red: error over half the bound)", fontsize=9)
    return save(fig, out)


def fig_concepts(run, out):
    """Concept x variant: each concept's error_on, and error_off (unlabelled samples), log scale."""
    variants = run.variants()
    concepts = list(variants[0]["concepts"])
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(variants) * (len(concepts) + 1)), 3.4))
    width = 0.8 / (len(concepts) + 1)
    x = np.arange(len(variants))
    for k, name in enumerate(concepts):
        ax.bar(x + k * width, [v["concepts"][name]["error_on"] for v in variants], width, label=f"{name} (error_on)")
    if concepts:
        ax.bar(x + len(concepts) * width, [v["concepts"][concepts[0]]["error_off"] for v in variants], width,
               color="0.6", label="no label (error_off)")
    else:
        ax.bar(x, [v["mean_error"] for v in variants], width, color="0.6", label="every sample")
    ax.set_xticks(x + 0.4 - width / 2)
    ax.set_xticklabels([v["name"] for v in variants])
    ax.set_yscale("log")
    ax.set_ylabel("reconstruction MSE (held out)")
    ax.legend(fontsize=8)
    return save(fig, out)


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


def run_figures(run, fig_dir, prefix, pairs):
    """Every figure of one run: [(title, path)]."""
    os.makedirs(fig_dir, exist_ok=True)
    p = lambda name: os.path.join(fig_dir, f"{prefix}{name}.png")  # noqa: E731
    figs = []
    if run.evaluation and run.has_grids():
        if latent_pairs(run, pairs):  # a latent width of 1 has no plane to project onto
            figs.append(("Latent space", fig_latent(run, p("latent"), pairs)))
        figs.append(("Reconstructions", fig_reconstructions(run, p("reconstructions"))))
        if run.evaluation["interventions"]:
            figs.append(("Error against hue", fig_error_hue(run, p("error_hue"))))
            figs.append(("Error against similarity", fig_error_similarity(run, p("error_similarity"))))
    if run.has_concepts():
        figs.append(("Concept damage", fig_concepts(run, p("concepts"))))
    elif run.evaluation:
        figs.append(("Named colours", fig_named_colours(run, p("named_colours"))))
    if run.log:
        figs.append(("Schedule", fig_schedule(run, p("schedule"))))
        figs.append(("Training", fig_training(run, p("training"))))
    return figs


# ------------------------------------------------------------------ figures of a set of runs


def flatten(node, prefix=""):
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = node
    return out


def swept_values(runs):
    """{dotted key: [value per run]} for config values that differ between runs, seed excepted."""
    flats = [flatten(r.config) for r in runs]
    keys = sorted(set().union(*flats)) if flats else []
    swept = {}
    for k in keys:
        vals = [f.get(k) for f in flats]
        if k == "seed" or len({json.dumps(v, sort_keys=True, default=str) for v in vals}) < 2:
            continue
        swept[k] = vals
    return swept


def score_names(runs):
    names = []
    for r in runs:
        for v in r.evaluation["interventions"]:
            if v["name"] not in names:
                names.append(v["name"])
    return names


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


# ------------------------------------------------------------------ configurations (sca collect's configs.csv)


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def config_columns(configs):
    """The swept keys of configs.csv: the columns between `config` and `runs`."""
    names = list(configs[0].keys())
    return names[names.index("config") + 1:names.index("runs")]


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


def _isnum(v):
    try:
        float(v)
        return True
    except ValueError:
        return False


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


# ------------------------------------------------------------------ HTML

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


def write_atomic(path, data):
    """Through a fresh, unpredictable temporary (O_EXCL, no symlink followed), then an atomic rename."""
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.sca-tmp.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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


# ------------------------------------------------------------------ main


def safe_name(text):
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:60] or "runs"


def report_run(manifest, fig_dir, pairs, say):
    run = Run(manifest["runs"][0])
    figs = run_figures(run, fig_dir, "", pairs)
    body = f'<p class=muted>Generated by <code>sca report {esc(manifest["target"])}</code>.</p>' + \
        run_section_html(run, figs)
    return page(f"SCA run {run.name}", body), figs


def report_sweep(manifest, fig_dir, pairs, say):
    entries = manifest["runs"]
    evaluated = [e for e in entries if e.get("objectives")]
    body = [f'<p class=muted>Generated by <code>sca report {esc(manifest["target"])}</code>.</p>',
            f"<p>{len(entries)} run directories; {len(evaluated)} evaluated and scored; "
            f"{len(entries) - len(evaluated)} without an evaluation (unfinished or failed).</p>"]
    figs = []
    groups = manifest.get("groups", [])
    for n, g in enumerate(groups):
        runs = [Run(entries[i]) for i in g["runs"]]
        # A group is a setup named by the collect table, else runs sharing their objectives.
        signature = "score:" in g["name"]
        if not signature:
            label = g["name"]
        else:
            label = os.path.basename(manifest["target"].rstrip("/")) if len(groups) == 1 else f"setup {n + 1}"
        tag = safe_name(g["name"]) if len(groups) > 1 else "sweep"
        score_by = g["objective_names"][-1].replace("score:", "")
        body.append(f"<h2>{esc(label)}: {len(runs)} runs</h2>")
        if "error" in g:
            body.append(f"<p class=bad>no selection: {esc(g['error'])}</p>")
        if "warning" in g:
            body.append(f"<p class=bad>warning: {esc(g['warning'])}</p>")
        # Score statistics per intervention.
        rows = ""
        for name in score_names(runs):
            s = np.array([v["score"] for r in runs for v in r.evaluation["interventions"] if v["name"] == name])
            rows += (f"<tr><td class=l>{esc(name)}{' (selects)' if name == score_by else ''}</td>"
                     f"<td>{s.min():.4f}</td><td>{np.median(s):.4f}</td><td>{s.mean():.4f}</td><td>{s.max():.4f}</td></tr>")
        body.append("<table><tr><th class=l>score</th><th>min</th><th>median</th><th>mean</th><th>max</th></tr>"
                    f"{rows}</table>")
        p = lambda n: os.path.join(fig_dir, f"{tag}-{n}.png")  # noqa: E731
        f1 = ("Score distribution", fig_score_distribution(runs, label, score_by, p("scores")))
        f2 = ("Pareto front", fig_pareto(runs, label, p("pareto"))) if "error" not in g else None
        swept = swept_values(runs)
        f3 = ("Score against each swept value", fig_swept(runs, label, swept, p("swept"))) if swept else None
        for f in (f1, f2, f3):
            if f:
                figs.append(f)
                body.append(f"<h3>{esc(f[0])}</h3>")
                body.append(img_tag(f[1], f"{label}: {f[0]}"))
        if "best" in g:
            best = Run(entries[g["best"]])
            over = ", ".join(f"<code>{esc(k)}={esc(v[g['runs'].index(g['best'])])}</code>" for k, v in swept.items())
            body.append(f"<h3>Best run: {esc(best.name)}</h3>")
            body.append(f"<p>Highest {esc(score_by)} score on the Pareto front "
                        f"({g.get('front_size', '?')} of {len(runs)} runs on the front)"
                        f"{'; ' + over if over else ''}.</p>")
            best_figs = run_figures(best, fig_dir, f"{tag}-best-", pairs)
            figs += best_figs
            body.append(run_section_html(best, best_figs, level=4))
        say(f"report: {label}: {len(runs)} runs, {len(swept)} swept values")
    unscored = [e for e in entries if not e.get("objectives")]
    if unscored:
        items = "".join(f"<li><code>{esc(e['name'])}</code>{': ' + esc(e['selection_error']) if 'selection_error' in e else ''}"
                        f"</li>" for e in unscored[:200])
        body.append(f"<h2>Runs without scores ({len(unscored)})</h2><ul>{items}</ul>")
    config_body, config_figs = report_configs(manifest, fig_dir, say)
    body += config_body
    figs += config_figs
    if manifest.get("collect_csv"):
        body.append("<h2>Collected results</h2>" + csv_table_html(manifest["collect_csv"]))
    return page(f"SCA sweep {os.path.basename(manifest['target'])}", "\n".join(body)), figs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", required=True, help="DIR/report/manifest.json as `sca report` writes it")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    say = (lambda *x: None) if a.quiet else (lambda *x: print(*x, flush=True))
    with open(a.manifest) as f:
        manifest = json.load(f)
    fig_dir = os.path.dirname(os.path.abspath(a.manifest))
    target = manifest["target"]
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10})
    pairs = manifest.get("dims") or []
    if manifest["kind"] == "run":
        text, figs = report_run(manifest, fig_dir, pairs, say)
    else:
        text, figs = report_sweep(manifest, fig_dir, pairs, say)
    out = os.path.join(target, "report.html")
    write_atomic(out, text)
    for _, path in figs:
        say(f"report: {path}")
    say(f"report: {out} ({len(figs)} figures)")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, ValueError, KeyError, IndexError, TypeError, ArithmeticError, RuntimeError) as e:
        # One line, no traceback: which run or file, and why.
        where = f" '{e.filename}'" if isinstance(e, OSError) and e.filename else ""
        sys.exit(f"error: sca report could not draw the report{where}: {type(e).__name__}: {e}")
