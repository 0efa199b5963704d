"""PyTorch access to the runs of the sca trainer (docs/method.md in the repository).

    model = sca.load("runs/isolated/model.safetensors")    # any trained shape, strict
    z = model.encode(x); y = model.decode(sca.suppress(z, [1, 0, 0, 0, 0]))
    ablated = sca.ablate(model, [0]); pruned = sca.prune(model, [0])
    run = sca.read_run("runs/isolated")                     # config, logs, evaluation
"""
from .interventions import ablate, prune, suppress
from .model import Autoencoder, load
from .runs import read_run

__all__ = ["Autoencoder", "load", "suppress", "ablate", "prune", "read_run"]
