"""Checks the installed `sca` Python package against runs the C++ trainer made:
sca.load rebuilds each run's shape and reproduces its validation loss (and
the independent model of tools/spec_model.py); sca.suppress, sca.ablate and
sca.prune reproduce every error `sca eval` wrote to 1e-5; sca.read_run returns
the run's files as plain structures; bad input raises clear errors."""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import sca
from spec_model import autoencoder

TOL = 1e-5
assert "site" in os.path.dirname(sca.__file__), f"expected the pip-installed package, got {sca.__file__}"


def validation_set(n):
    c = torch.linspace(1 / (2 * n), 1 - 1 / (2 * n), n - 1)
    corners = torch.tensor([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], dtype=torch.float32)
    return torch.cat([torch.cartesian_prod(c, c, c), corners])


def named_errors(model, rgb, transform=None):
    with torch.no_grad():
        z = model.encode(rgb)
        if transform:
            z = transform(z)
        return ((torch.clamp(model.decode(z), 0, 1) - rgb) ** 2).mean(-1).numpy()


def check_run(run_dir):
    run = sca.read_run(run_dir)
    cfg, ev = run["config"], run["evaluation"]
    model = sca.load(os.path.join(run_dir, "model.safetensors"))
    m = cfg["model"]
    assert model.shape() == {"input_dim": 3, "hidden": m["hidden"], "layers": m["layers"], "latent": m["latent"]}, model.shape()
    assert "config" in model.metadata and "step" in model.metadata

    # The run's own validation loss, and the independent PyTorch model agrees.
    x = validation_set(cfg.get("data", {}).get("grid", 8))
    with torch.no_grad():
        ours = F.mse_loss(model(x), x).item()
        spec = autoencoder(3, m["hidden"], m["layers"], m["latent"])
        spec.load_state_dict(model.state_dict(), strict=True)
        assert torch.allclose(spec(x), model(x), atol=1e-6)
    theirs = run["validation"]["recon"][-1]
    assert abs(ours - theirs) <= 1e-3 * theirs + 1e-7, (ours, theirs)

    # Every variant `sca eval` measured, recomputed here.
    names = [c["name"] for c in ev["colours"]]
    rgb = torch.tensor([c["rgb"] for c in ev["colours"]], dtype=torch.float32)
    want = lambda v: np.array([v["errors"][n] for n in names])  # noqa: E731
    worst = {}
    got = named_errors(model, rgb)
    worst["baseline"] = np.abs(got - want(ev["baseline"])).max()
    kinds = set()
    for v in ev["interventions"]:
        p, kinds = v["parameters"], kinds | {v["kind"]}
        if v["kind"] == "suppression":
            got = named_errors(model, rgb, lambda z: sca.suppress(z, p["direction"], p["falloff"], p["strength"], p["power"]))
        elif v["kind"] == "ablation":
            got = named_errors(sca.ablate(model, p["dims"]), rgb)
        else:
            pruned = sca.prune(model, p["dims"])
            got = named_errors(pruned, rgb)
            written = sca.load(os.path.join(run_dir, v["model_file"]))
            for name, t in written.state_dict().items():
                assert torch.equal(t, pruned.state_dict()[name]), f"{v['model_file']}: {name} differs from sca.prune"
            ablated = named_errors(sca.ablate(model, p["dims"]), rgb)
            assert np.abs(got - ablated).max() <= 1e-6, "pruning and ablation disagree"
        worst[v["name"]] = np.abs(got - want(v)).max()
    assert kinds == {"suppression", "ablation", "pruning"}, kinds
    print(f"{run_dir}: shape {model.shape()}, validation recon {ours:.6g} (sca {theirs:.6g}); "
          + ", ".join(f"{k} max |diff| {w:.1e}" for k, w in worst.items()))
    bad = {k: w for k, w in worst.items() if not w <= TOL}
    assert not bad, f"errors differ from sca eval by more than {TOL}: {bad}"

    # read_run: plain structures.
    log, val = run["train_log"], run["validation"]
    steps = [k["step"] for k in cfg["schedule"]["keyframes"]]
    assert steps == [0, "+10", 750, "+0.9", 1500] or steps == [0, "+10", "+0.33", 750, "+0.9", 1500], steps
    last = steps[-1]
    assert list(log["step"]) == list(range(last + 1)), "train_log steps are not 0..T"
    assert isinstance(log["recon"], np.ndarray) and np.isfinite(log["recon"]).all()
    assert val["step"][0] == 0 and val["step"][-1] == last and set(val["regularizers"]) == {r["name"] for r in cfg["regularizers"]}
    for v in [ev["baseline"], *ev["interventions"]]:
        lat = ev["arrays"][f"{v['name']}/rgb_grid.latents"]
        assert lat.shape[:3] == (16, 16, 16) and lat.shape[3] == v["latent"], lat.shape
    assert ev["arrays"]["grids/hsv_grid/hsv"].shape == (24, 8, 8, 3)
    assert isinstance(cfg["schedule"]["keyframes"][0]["lr"], float), cfg["schedule"]["keyframes"][0]
    return model


def expect_error(what, fn, text):
    try:
        fn()
    except (ValueError, RuntimeError) as e:
        assert text in str(e), f"{what}: {e}"
        return
    raise AssertionError(f"{what}: no error")


model = None
for d in sys.argv[1:]:
    model = check_run(d)

expect_error("ablate a dim out of range", lambda: sca.ablate(model, [model.latent]), "out of range")
expect_error("prune every dim", lambda: sca.prune(model, range(model.latent)), "no bottleneck")
expect_error("suppress with a short direction", lambda: sca.suppress(torch.zeros(2, model.latent), [1.0]), "entries")
from safetensors.torch import save_file  # noqa: E402

state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "decoder.0.bias"}
save_file(state, "broken.safetensors")
expect_error("a checkpoint without a tensor", lambda: sca.load("broken.safetensors"), "decoder.0.bias")
try:
    sca.read_run("nowhere")
    raise AssertionError("read_run of a missing directory did not fail")
except FileNotFoundError as e:
    assert "config.yaml" in str(e)
print("ok: sca installs, loads every shape strictly, and its interventions match sca eval")
