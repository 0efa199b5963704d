#!/usr/bin/env python3
"""One training step of experiments/wide.yaml's model in PyTorch eager on the
CPU: the baseline of bench/wide.sh. Same model (768 -> 1024 -> 1024 -> 16,
mirrored), batch, loss terms (reconstruction, anchor, anti-anchor,
anti-subspace, separation with power 8) at the weights sca uses mid-schedule,
and Adam. Prints ms per step (wall and process CPU time) and the BLAS torch
calls, as "name value" lines after a summary.
    python3 bench/pytorch_wide.py [--steps 10] [--threads 2] [--batch 1024]"""
import argparse, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def model(D, H, K):
    enc = nn.Sequential(nn.Linear(D, H), nn.GELU(), nn.Linear(H, H), nn.GELU(), nn.Linear(H, K))
    dec = nn.Sequential(nn.Linear(K, H), nn.GELU(), nn.Linear(H, H), nn.GELU(), nn.Linear(H, D))
    return enc, dec


def loss_fn(enc, dec, x, label, w):
    h = enc(x)
    z = F.normalize(h, dim=1, eps=1e-12)
    loss = F.mse_loss(dec(z), x)
    u = z / (z.norm(dim=1, keepdim=True) + 1e-8)
    loss = loss + w["anchor"] * (label * (1 - u[:, 0])).sum() / (label.sum() + 1e-8)
    loss = loss + w["anti"] * torch.clamp(-u[:, 0], min=0).mean()
    loss = loss + w["antisub"] * (z[:, 0] ** 2).mean()
    c = u @ u.T
    mask = ((c - 1).abs() > 1e-8 + 1e-5).float()
    loss = loss + w["sep"] * ((((c + 1) / 2) ** 8) * mask).sum(1).mean()
    return loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1024)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    D, H, K, B, N = 768, 1024, 16, a.batch, 8192
    enc, dec = model(D, H, K)
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    data = torch.randn(N, D)
    labels = (torch.rand(N) < 0.16).float()
    w = dict(anchor=0.1, anti=0.05, antisub=0.1, sep=0.01)
    wall, cpu = [], []
    for step in range(a.steps + 2):
        t0, c0 = time.perf_counter(), time.process_time()
        idx = torch.randint(0, N, (B,))
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(enc, dec, data[idx], labels[idx], w)
        loss.backward()
        opt.step()
        if step >= 2:  # the first steps allocate
            wall.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
    wall.sort(), cpu.sort()
    blas = [l.strip() for l in torch.__config__.show().splitlines() if "BLAS_INFO" in l]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {blas[0][:60] if blas else ''}")
    print(f"training step: min {wall[0]:.1f} ms, median {wall[len(wall) // 2]:.1f} ms wall; {cpu[0]:.1f} ms CPU (min)")
    print(f"torch_step_ms_min {wall[0]:.3f}\ntorch_step_ms_median {wall[len(wall) // 2]:.3f}\ntorch_step_cpu_ms_min {cpu[0]:.3f}")


if __name__ == "__main__":
    main()
