"""The autoencoder of docs/method.md §1, rebuilt from a checkpoint's tensors."""
import torch
import torch.nn.functional as F
from safetensors import safe_open
from torch import nn

NORM_FLOOR = 1e-12  # z = h / max(|h|, floor)


def _side(width_in, width_out, hidden, layers):
    """Linear GELU [Linear GELU] x (layers - 1) Linear: Linears at even indices."""
    modules, width = [], width_in
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), nn.GELU()]
        width = hidden
    return nn.Sequential(*modules, nn.Linear(width, width_out))


class Autoencoder(nn.Module):
    """encoder -> L2-normalized bottleneck z -> decoder; the names and layouts
    of sca's model.safetensors, so load_state_dict(strict=True) fits."""

    def __init__(self, input_dim=3, hidden=16, layers=1, latent=4):
        super().__init__()
        self.input_dim, self.hidden, self.layers, self.latent = input_dim, hidden, layers, latent
        self.encoder = _side(input_dim, latent, hidden, layers)
        self.decoder = _side(latent, input_dim, hidden, layers)
        self.metadata = {}

    def encode(self, x):
        """The normalized latent z (docs/method.md §1)."""
        return F.normalize(self.encoder(x), dim=-1, eps=NORM_FLOOR)

    def decode(self, z):
        """The unclamped reconstruction (evaluation clamps it to [0, 1])."""
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))

    def shape(self):
        return {"input_dim": self.input_dim, "hidden": self.hidden, "layers": self.layers, "latent": self.latent}


def _linear_count(names, side):
    indices = {int(n.split(".")[1]) for n in names if n.startswith(side + ".")}
    if not indices or indices != set(range(0, 2 * len(indices), 2)):
        raise ValueError(f"the checkpoint's {side} layers are not at indices 0, 2, 4, ...: {sorted(indices)}")
    return len(indices)


def shape_of(tensors):
    """(input_dim, hidden, layers, latent) from the tensor shapes of a model file."""
    names = list(tensors)
    try:
        n_enc = _linear_count(names, "encoder")
        first, last = tensors["encoder.0.weight"].shape, tensors[f"encoder.{2 * (n_enc - 1)}.weight"].shape
    except KeyError as missing:
        raise ValueError(f"not an sca model file: no tensor {missing}") from None
    return {"input_dim": int(first[1]), "hidden": int(first[0]), "layers": n_enc - 1, "latent": int(last[0])}


def load(path, map_location="cpu"):
    """The model in `path` (a model.safetensors, or a pruned <name>.safetensors),
    rebuilt at the shape its tensors have and loaded with strict=True. The
    file's metadata (the training config, step, backend) is in .metadata."""
    tensors = {}
    with safe_open(str(path), framework="pt", device=map_location) as f:
        metadata = dict(f.metadata() or {})
        for name in f.keys():
            tensors[name] = f.get_tensor(name)
    shape = shape_of(tensors)
    if shape["layers"] < 1:
        raise ValueError(f"{path}: the encoder has a single Linear layer; sca models have at least two")
    model = Autoencoder(**shape)
    model.load_state_dict(tensors, strict=True)
    model.metadata = metadata
    return model.eval()


def clamped(y):
    """Evaluation output (docs/method.md §8)."""
    return torch.clamp(y, 0.0, 1.0)
