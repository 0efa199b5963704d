#!/usr/bin/env python3
"""The isolated setup (docs/method.md §6) trained in PyTorch eager on the GPU: the
baseline for the CUDA trainer's speed ratio. Same model, loss terms, Adam
and keyframe schedule; batches come from torch's generator, not Philox, so
the numbers are comparable in cost, not in bits.
    python3 bench/pytorch_baseline.py [--runs 3] [--compile] [--json OUT]"""
import argparse, json, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def keyframes():
    # isolated.yaml resolved: +10 -> 10, +0.33 -> round(0.33 * 750) = 248 (relative to absolute rows only), +0.9 -> 750 + 675 = 1425
    rows = [(0, dict(lr=1e-8, anchor=0, anti=0, antisub=0.25)), (10, dict(lr=0.01)),
            (248, dict(sep=0.01, anchor=0.1, anti=0.05)), (750, dict(lr=0.1, sep=0.001, anchor=0.1, antisub=0.003)),
            (1425, dict(lr=0.1, sep=0, anchor=0, anti=0, antisub=0)), (1500, dict(lr=0.05))]
    def value(name, t):
        keys = [(s, v[name]) for s, v in rows if name in v]
        if t <= keys[0][0]: return keys[0][1]
        for (t0, v0), (t1, v1) in zip(keys, keys[1:]):
            if t0 <= t <= t1:
                u = (t - t0) / (t1 - t0)
                return v0 + (v1 - v0) * (10 * u**3 - 15 * u**4 + 6 * u**5)
        return keys[-1][1]
    return [{n: value(n, t) for n in ("lr", "sep", "anchor", "anti", "antisub")} for t in range(1501)]


def model(K=5, H=16):
    enc = nn.Sequential(nn.Linear(3, H), nn.GELU(), nn.Linear(H, H), nn.GELU(), nn.Linear(H, K))
    dec = nn.Sequential(nn.Linear(K, H), nn.GELU(), nn.Linear(H, H), nn.GELU(), nn.Linear(H, 3))
    return enc, dec


def step_loss(enc, dec, x, red, w):
    z = F.normalize(enc(x), dim=1)
    loss = F.mse_loss(dec(z), x)
    u = z / (z.norm(dim=1, keepdim=True) + 1e-8)
    if w["sep"]:
        c = u @ u.T
        mask = ((c - 1).abs() > 1e-8 + 1e-5).float()
        loss = loss + w["sep"] * ((((c + 1) / 2) ** 100) * mask).sum(1).mean()
    if w["anchor"]:
        l = 1 - u[:, 0]
        loss = loss + w["anchor"] * (red * l).sum() / (red.sum() + 1e-8)
    if w["anti"]:
        loss = loss + w["anti"] * torch.clamp(-u[:, 0], min=0).mean()
    if w["antisub"]:
        loss = loss + w["antisub"] * (z[:, 0] ** 2).mean()
    return loss


def run(device, sched, compiled, seed=0):
    torch.manual_seed(seed)
    enc, dec = model()
    enc.to(device), dec.to(device)
    params = list(enc.parameters()) + list(dec.parameters())
    opt = torch.optim.Adam(params, lr=1e-8)
    g = torch.linspace(0, 1, 8, device=device)
    grid = torch.cartesian_prod(g, g, g)
    redness = grid[:, 0] * (1 - grid[:, 1] / 2 - grid[:, 2] / 2)
    p_red = 0.08 * redness ** 8
    fn = torch.compile(step_loss) if compiled else step_loss
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for t, w in enumerate(sched):
        idx = torch.randint(0, 512, (64,), device=device)
        x = grid[idx]
        red = (torch.rand(64, device=device) < p_red[idx]).float()
        for group in opt.param_groups: group["lr"] = w["lr"]
        opt.zero_grad(set_to_none=True)
        loss = fn(enc, dec, x, red, w)
        loss.backward()
        opt.step()
    sync()
    return time.perf_counter() - t0, float(loss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    device = torch.device("cuda")
    sched = keyframes()
    times = []
    for r in range(a.runs + 1):
        s, loss = run(device, sched, a.compile)
        if r > 0: times.append(s)  # the first run warms up kernels (and compiles)
    times.sort()
    med = times[len(times) // 2]
    out = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "compiled": a.compile,
           "steps": len(sched), "median_s": med, "ms_per_step": med * 1e3 / len(sched), "last_loss": loss}
    print(json.dumps(out))
    if a.json:
        with open(a.json, "w") as f: json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
