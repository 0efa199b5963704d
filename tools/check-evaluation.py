"""Checks an `sca eval` output directory from outside our code, in PyTorch
and numpy: the NPY grids load with the shapes evaluation.json names; the run's
model.safetensors (strict load into the docs/method.md §1 autoencoder) reproduces the
baseline, suppressed and ablated reconstructions; every pruned model loads
strictly with its smaller K and matches; every score recomputed here over the
n^3 training grid matches. Usage: check-evaluation.py RUN_DIR"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from spec_colour import rgb_to_hsv, similarity  # beside this script
from spec_model import autoencoder


def load(path, shape, latent):
    model = autoencoder(shape["input_dim"], shape["hidden"], shape["layers"], latent)
    model.load_state_dict(load_file(path), strict=True)
    return model.double()


def run(model, x, suppression=None):
    with torch.no_grad():
        z = F.normalize(model.encoder(x), dim=-1, eps=1e-12)
        if suppression is not None:
            a = torch.tensor(suppression["direction"], dtype=torch.float64)
            a = a / (a.norm() + 1e-8)
            dot = z @ a
            d = dot.clamp(0, 1)
            a0, b, p = suppression["falloff"], suppression["strength"], suppression["power"]
            if a0 >= 1 - 1e-8:
                g = d
            else:
                ratio = ((d - a0) / (1 - a0)).clamp(min=0)
                g = torch.where(d > a0, b * (torch.ones_like(ratio) if p == 0 else ratio**p), torch.zeros_like(d))
            z = z - (g * dot)[:, None] * a[None, :]
        return z, model.decoder(z).clamp(0, 1)


def main(run_dir):
    ev = json.load(open(f"{run_dir}/evaluation.json"))
    shape = ev["shape"]
    base = load(f"{run_dir}/model.safetensors", shape, shape["latent"])
    n = ev["grid"]
    axis = np.linspace(0, 1, n)
    train = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3).astype(np.float32)
    sim = similarity(rgb_to_hsv(train), rgb_to_hsv(ev["anchor_colour"]["rgb"]))
    grids = {name: np.load(f"{run_dir}/{g['inputs']}") for name, g in ev["grids"].items()}
    checked = 0
    for v in [ev["baseline"]] + ev["interventions"]:
        kind, name = v["kind"], v["name"]
        model, sup = base, None
        if kind == "suppression":
            sup = v["parameters"]
        elif kind == "ablation":
            model = load(f"{run_dir}/model.safetensors", shape, shape["latent"])
            enc_last, dec_first = f"encoder.{2 * shape['layers']}", "decoder.0"
            with torch.no_grad():
                for k in v["parameters"]["dims"]:
                    getattr(model.encoder, str(2 * shape["layers"])).weight[k] = 0
                    getattr(model.encoder, str(2 * shape["layers"])).bias[k] = 0
                    model.decoder[0].weight[:, k] = 0
        elif kind == "pruning":
            latent = shape["latent"] - len(v["parameters"]["dims"])
            model = load(f"{run_dir}/{v['model_file']}", shape, latent)
        for grid, inputs in grids.items():
            x = torch.tensor(inputs.reshape(-1, 3), dtype=torch.float64)
            z, y = run(model, x, sup)
            lat = np.load(f"{run_dir}/{v['files'][grid + '.latents']}")
            out = np.load(f"{run_dir}/{v['files'][grid + '.outputs']}")
            assert lat.dtype == np.float32 and out.dtype == np.float32, (name, grid)
            assert lat.shape == inputs.shape[:-1] + (z.shape[1],), (name, grid, lat.shape)
            assert out.shape == inputs.shape, (name, grid, out.shape)
            np.testing.assert_allclose(lat.reshape(-1, z.shape[1]), z.numpy(), atol=2e-5, err_msg=f"{name} {grid} latents")
            np.testing.assert_allclose(out.reshape(-1, 3), y.numpy(), atol=2e-5, err_msg=f"{name} {grid} outputs")
            checked += 1
        if kind != "baseline":
            _, y = run(model, torch.tensor(train, dtype=torch.float64), sup)
            err = ((y.numpy() - train) ** 2).mean(1)
            r = np.corrcoef(err, sim ** v["q"])[0, 1]
            assert abs(r * r - v["score"]) < 1e-4, (name, r * r, v["score"])
            checked += 1
    print(f"check-evaluation: {run_dir}: {checked} checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
