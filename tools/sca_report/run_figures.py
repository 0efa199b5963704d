"""The figures of one run: latent projections, reconstructions, errors against hue and similarity, schedule, training curves, named colours, concepts."""

import math
import os

import numpy as np
import matplotlib.pyplot as plt

from spec_colour import rgb_to_hsv, similarity  # tools/, beside report.py (on sys.path when it runs)

from .output import save
from .runs import colour_error


PANEL = 2.8  # inches per latent panel side


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
