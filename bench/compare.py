#!/usr/bin/env python3
"""sca against the PyTorch a competent user would write, on one CPU core, in one
run, as ratios (absolute times drift on a shared machine; ratios measured side
by side do not):
  - a plain PyTorch loop training one isolated run (pytorch_baseline.py),
  - the batched PyTorch sweep of the 60 seeds (pytorch_sweep.py: models stacked
    [M, out, in], bmm), first checked equal model by model to the plain loop,
  - `sca train experiments/isolated.yaml`: its training alone (sca_bench_cpu,
    no files) and the whole process,
  - `sca sweep experiments/sweeps/isolated-seeds.yaml --jobs 1`, per model, with
    its eight runs per thread in SIMD lanes (the default) and with --no-lanes.
PyTorch runs with one thread (torch.set_num_threads(1)); sca trains on one.
    python3 bench/compare.py [--build build] [--quick] [--large] [--json OUT]
Each row has wall and CPU time (CPU time is what to read on a shared,
loaded machine). --quick times PyTorch on every 10th step of the schedule
(scaled up) and repeats less: about a minute instead of several. --large
adds per-step times at batches 1024 and 8192 against the plain PyTorch loop
and the separation term's FLOP/s against the core's peak."""
import argparse, json, os, platform, resource, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd):
    """Wall and CPU seconds of one child process (which must succeed)."""
    c0, t0 = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, children_cpu() - c0


def sca_training_ms(bench, runs):
    """Median wall and thread-CPU ms of one isolated run's training, no files (sca_bench_cpu)."""
    out = subprocess.run([bench, "experiments/isolated.yaml", str(runs)], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout
    wall = next(l for l in out.splitlines() if l.startswith("wall time per run"))
    cpu = next(l for l in out.splitlines() if l.startswith("thread CPU time per run"))
    median = lambda line: float(line.split("median ")[1].split(" ms")[0])
    return median(wall), median(cpu)


def sca_train_s(sca, work, reps):
    """Median wall and CPU seconds of the whole `sca train experiments/isolated.yaml` process."""
    walls, cpus = [], []
    for r in range(reps):
        w, c = timed([sca, "train", "experiments/isolated.yaml", "--out", os.path.join(work, f"train{r}"), "-q"])
        walls.append(w)
        cpus.append(c)
    return statistics.median(walls), statistics.median(cpus)


def sca_sweep_s(sca, work, reps, extra=()):
    """Wall and CPU seconds of the whole 60-seed sweep with one job (the least CPU of reps)."""
    best = None
    for r in range(reps):
        out = os.path.join(work, f"sweep{r}")
        w, c = timed([sca, "sweep", "experiments/sweeps/isolated-seeds.yaml", "--out", out, "--jobs", "1", "-q", *extra])
        n = sum(os.path.exists(os.path.join(out, "runs", d, "sweep_done.json")) for d in os.listdir(os.path.join(out, "runs")))
        if best is None or c < best[1]: best = (w, c, n)
        shutil.rmtree(out)
    return best


def pytorch_plain_s(sched, stride, reps):
    """Least wall and thread-CPU seconds of one plain-loop run (pytorch_baseline.run on the CPU)."""
    import torch, pytorch_baseline
    walls, cpus = [], []
    for r in range(reps):
        c0 = time.thread_time()
        s, _ = pytorch_baseline.run(torch.device("cpu"), sched, False, seed=r)
        cpus.append((time.thread_time() - c0) * stride)
        walls.append(s * stride)
    return min(walls), min(cpus)


def pytorch_large_step_s(B, reps):
    """Least wall and thread-CPU seconds of one plain-loop training step at batch B (schedule step 750: every term on)."""
    import torch, pytorch_baseline, pytorch_sweep
    torch.manual_seed(0)
    enc, dec = pytorch_baseline.model()
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=0.1)
    w = pytorch_baseline.keyframes()[750]
    grid, p_red = pytorch_sweep.colour_grid()
    best = (float("inf"), float("inf"))
    for r in range(reps + 1):  # the first step warms up
        idx = torch.randint(0, p_red.numel(), (B,))
        red = (torch.rand(B) < p_red[idx]).float()
        t0, c0 = time.perf_counter(), time.thread_time()
        opt.zero_grad(set_to_none=True)
        pytorch_baseline.step_loss(enc, dec, grid[idx], red, w).backward()
        opt.step()
        if r: best = min(best, (time.perf_counter() - t0, time.thread_time() - c0), key=lambda t: t[1])
    return best


def large_batches(build, batches, reps):
    """Per-step time at each batch, sca against the plain PyTorch loop, and sca's separation FLOP/s."""
    print(f"\nlarge batches (isolated setup, schedule step 750, one core):")
    print(f"  {'B':>6s} {'PyTorch ms':>11s} {'sca ms':>9s} {'ratio':>7s} {'separation ms':>14s} {'GFLOP/s':>8s} {'of peak':>8s}")
    out = []
    for B in batches:
        line = subprocess.run([os.path.join(build, "bench", "sca_bench_large_batch"), str(B), str(reps)], check=True,
                              cwd=ROOT, capture_output=True, text=True).stdout
        s = json.loads(line)
        torch_s = pytorch_large_step_s(B, reps)
        s["pytorch_step_ms"], s["pytorch_step_cpu_ms"] = torch_s[0] * 1e3, torch_s[1] * 1e3
        print(f"  {B:6d} {s['pytorch_step_ms']:11.1f} {s['step_ms']:9.2f} {s['pytorch_step_ms'] / s['step_ms']:6.1f}x "
              f"{s['separation_ms']:14.2f} {s['separation_gflops']:8.1f} {100 * s['fraction_of_peak']:7.1f}%")
        out.append(s)
    print(f"  (peak: {out[0]['flop_per_cycle']} FP32 FLOP per cycle (two FMA units, 8 lanes each; 4 on Zen 1's 128-bit units)"
          f" at {out[0]['core_ghz']:.2f} GHz = "
          f"{out[0]['peak_gflops']:.0f} GFLOP/s; wall times, the least of {reps})")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build", help="the CMake build folder holding sca and bench/sca_bench_cpu")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--large", action="store_true", help="also time steps at batches 1024 and 8192")
    ap.add_argument("--json")
    a = ap.parse_args()
    build = os.path.join(ROOT, a.build) if not os.path.isabs(a.build) else a.build
    sca, bench = os.path.join(build, "sca"), os.path.join(build, "bench", "sca_bench_cpu")
    for f in (sca, bench) + ((os.path.join(build, "bench", "sca_bench_large_batch"),) if a.large else ()):
        if not os.access(f, os.X_OK): sys.exit(f"error: {f} is not built (cmake --build {a.build} --target sca sca_bench_cpu)")

    import torch
    import pytorch_baseline, pytorch_sweep
    torch.set_num_threads(1)
    stride, reps = (10, 1) if a.quick else (1, 3)
    M = 60

    checked = pytorch_sweep.check_against_plain_loop()
    print(f"batched PyTorch sweep checked equal to the plain loop: {checked} model-steps (4 models, steps 750..753)")

    plain = pytorch_plain_s(pytorch_baseline.keyframes()[::stride], stride, reps)
    batched = min((pytorch_sweep.time_batched_sweep(M, stride) for _ in range(max(1, reps - 1))), key=lambda t: t[1])
    training_ms = sca_training_ms(bench, 10 if a.quick else 30)
    work = tempfile.mkdtemp(prefix="sca-compare.")
    try:
        process = sca_train_s(sca, work, 3 if a.quick else 7)
        sweep_wall, sweep_cpu, n = sca_sweep_s(sca, work, 1 if a.quick else 2)
        alone_wall, alone_cpu, n_alone = sca_sweep_s(sca, work, 1 if a.quick else 2, ["--no-lanes"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert n == M and n_alone == M, f"the sweeps finished {n} and {n_alone} of {M} runs"

    # (wall, CPU) seconds per run or per model
    rows = {
        "plain PyTorch loop, one run": plain,
        f"batched PyTorch sweep, per model of {M}": (batched[0] / M, batched[1] / M),
        "sca training alone (sca_bench_cpu, no files)": (training_ms[0] / 1e3, training_ms[1] / 1e3),
        "sca train: the whole process": process,
        f"sca sweep --jobs 1, per model of {M}": (sweep_wall / M, sweep_cpu / M),
        f"sca sweep --jobs 1 --no-lanes, per model of {M}": (alone_wall / M, alone_cpu / M),
    }
    print(f"\nmachine: {platform.node()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"torch {torch.__version__}, 1 thread" + (f"; PyTorch timed on every {stride}th step, scaled" if stride > 1 else ""))
    print(f"  {'':48s} {'wall ms':>10s} {'CPU ms':>10s}")
    for name, (w, c) in rows.items(): print(f"  {name:48s} {w * 1e3:10.1f} {c * 1e3:10.1f}")
    r = list(rows.values())
    ratios = {
        "plain loop / sca training": (r[0], r[2]),
        "plain loop / sca train process": (r[0], r[3]),
        "sca train process / its training": (r[3], r[2]),
        "batched PyTorch / sca sweep, per model": (r[1], r[4]),
        "batched PyTorch / sca sweep --no-lanes": (r[1], r[5]),
        "sca sweep --no-lanes / sca sweep (lanes)": (r[5], r[4]),
        "plain loop / batched PyTorch, per model": (r[0], r[1]),
    }
    ratios = {k: (a[0] / b[0], a[1] / b[1]) for k, (a, b) in ratios.items()}
    print(f"  {'ratios':48s} {'wall':>10s} {'CPU':>10s}")
    for k, (w, c) in ratios.items(): print(f"  {k:48s} {w:9.1f}x {c:9.1f}x")
    large = large_batches(build, (1024, 8192), 2) if a.large else []
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seconds_wall_cpu": rows, "ratios_wall_cpu": ratios, "large_batches": large, "quick": a.quick,
                       "torch": torch.__version__, "load_average": os.getloadavg()[0]}, f, indent=2)


if __name__ == "__main__":
    main()
