"""Loads an sca run's model.safetensors into the PyTorch model of docs/method.md §1 with
load_state_dict(strict=True), then checks that PyTorch reproduces the run's
final validation reconstruction loss (docs/method.md §3's validation set)."""
import json
import os
import sys

import torch
import yaml
from safetensors.torch import load_file
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from spec_model import autoencoder  # noqa: E402


def validation_set(n):
    c = torch.linspace(1 / (2 * n), 1 - 1 / (2 * n), n - 1)
    centres = torch.cartesian_prod(c, c, c)
    corners = torch.tensor([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], dtype=torch.float32)
    return torch.cat([centres, corners])


run = sys.argv[1]
cfg = yaml.safe_load(open(f"{run}/config.yaml"))
m = cfg["model"]
model = autoencoder(m.get("input_dim", 3), m.get("hidden", 16), m.get("layers", 1), m["latent"])
state = load_file(f"{run}/model.safetensors")
model.load_state_dict(state, strict=True)
x = validation_set(cfg.get("data", {}).get("grid", 8))
with torch.no_grad():
    ours = F.mse_loss(model(x), x).item()
records = json.load(open(f"{run}/validation.json"))["records"]
theirs = records[-1]["recon"]
print(f"validation recon: PyTorch {ours:.6g}, sca {theirs:.6g}")
assert abs(ours - theirs) <= 1e-3 * theirs + 1e-7, "PyTorch disagrees with the trained model's validation loss"
print("ok: checkpoint loads with strict=True and reproduces the validation loss")
