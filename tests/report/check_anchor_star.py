"""The latent figure's star is the run's anchor colour (evaluation.anchor_colour),
not the first named colour: a named anchor (green) is found by its RGB, an
unnamed one by the nearest colour of the RGB grid.

usage: check_anchor_star.py SOURCE_DIR GREEN_RUN UNNAMED_RUN"""
import sys

import numpy as np

sys.path.insert(0, f"{sys.argv[1]}/tools")
from sca_report.run_figures import anchor_point  # noqa: E402
from sca_report.runs import Run  # noqa: E402

green = Run({"dir": sys.argv[2], "name": "green"})
v = green.variants()[0]
inputs = green.npy(green.evaluation["grids"]["rgb_grid"]["inputs"]).reshape(-1, 3)
latent, label = anchor_point(green, v, inputs)
assert label == "green", label
assert np.allclose(latent, v["latents"]["green"]) and not np.allclose(latent, v["latents"]["red"])

odd = Run({"dir": sys.argv[3], "name": "unnamed"})
for v in odd.variants():
    inputs = odd.npy(odd.evaluation["grids"]["rgb_grid"]["inputs"]).reshape(-1, 3)
    latent, label = anchor_point(odd, v, inputs)
    nearest = np.argmin(((inputs - [0.9, 0.2, 0.1]) ** 2).sum(axis=1))
    assert label.startswith("anchor colour (0.90, 0.20, 0.10)"), label
    assert np.allclose(latent, odd.grid(v, "rgb_grid", "latents").reshape(-1, v["latent"])[nearest])
print("anchor star: ok")
