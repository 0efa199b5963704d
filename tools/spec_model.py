"""docs/method.md §1's autoencoder in PyTorch: the module layout sca's model.safetensors
must load into with load_state_dict(strict=True)."""
import torch.nn.functional as F
from torch import nn


def autoencoder(d, h, n, k):
    """d inputs, n hidden layers of width h (GELU) on each side, latent k."""

    def side(i, o):
        layers, width = [], i
        for _ in range(n):
            layers += [nn.Linear(width, h), nn.GELU()]
            width = h
        return nn.Sequential(*layers, nn.Linear(width, o))

    class AE(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = side(d, k), side(k, d)

        def forward(self, x):
            return self.decoder(F.normalize(self.encoder(x), dim=-1))

    return AE()
