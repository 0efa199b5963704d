"""The interventions of docs/method.md §7, defined as sca's host/eval/interventions.cpp
defines them (a test holds the two equal through `sca eval`)."""
import copy

import torch

from .model import Autoencoder

DIR_EPS = 1e-8  # a_hat = a / (|a| + eps)


def _dims(model, dims, what):
    dims = [int(d) for d in dims]
    for d in dims:
        if not 0 <= d < model.latent:
            raise ValueError(f"{what}: dim {d} is out of range [0, {model.latent})")
    if len(set(dims)) != len(dims):
        raise ValueError(f"{what}: a dim is listed twice in {dims}")
    return dims


def suppression_gain(d, falloff=0.0, strength=1.0, power=0.0):
    """g(d) for alignments d = clamp(z . a_hat, 0, 1)."""
    if falloff >= 1.0 - 1e-8:
        return d  # a hard edge: remove exactly the aligned part
    if power == 0:
        ramp = torch.full_like(d, float(strength))  # 0^0 = 1
    else:
        ramp = strength * torch.clamp((d - falloff) / (1.0 - falloff), min=0.0) ** power
    return torch.where(d > falloff, ramp, torch.zeros_like(d))


def suppress(z, direction, falloff=0.0, strength=1.0, power=0.0):
    """z - g (z . a_hat) a_hat for latents z [..., K] (normalized, before the
    decoder; the result is not renormalized). The paper's: falloff 0,
    strength 1, power 0."""
    a = torch.as_tensor(direction, dtype=z.dtype, device=z.device)
    if a.shape != z.shape[-1:]:
        raise ValueError(f"suppression: direction has {a.numel()} entries but the latent has {z.shape[-1]}")
    if not 0.0 <= falloff <= 1.0:
        raise ValueError(f"suppression: falloff {falloff} is outside [0, 1]")
    a_hat = a / (torch.linalg.vector_norm(a) + DIR_EPS)
    dot = z @ a_hat
    g = suppression_gain(torch.clamp(dot, 0.0, 1.0), falloff, strength, power)
    return z - (g * dot).unsqueeze(-1) * a_hat


def _producer_consumer(model):
    return model.encoder[len(model.encoder) - 1], model.decoder[0]


def ablate(model, dims):
    """A copy of `model` with the rows (weight and bias) of the last encoder
    Linear and the columns of the first decoder Linear zeroed for `dims`."""
    dims = _dims(model, dims, "ablation")
    out = copy.deepcopy(model)
    producer, consumer = _producer_consumer(out)
    with torch.no_grad():
        producer.weight[dims, :] = 0
        producer.bias[dims] = 0
        consumer.weight[:, dims] = 0
    return out


def prune(model, dims):
    """A smaller model with those rows and columns removed (latent K - len(dims));
    its outputs equal ablate(model, dims)'s."""
    dims = _dims(model, dims, "pruning")
    kept = [k for k in range(model.latent) if k not in dims]
    if not kept:
        raise ValueError("pruning: removing every latent dim leaves no bottleneck")
    out = Autoencoder(model.input_dim, model.hidden, model.layers, len(kept))
    state = {name: t.clone() for name, t in model.state_dict().items()}
    last = f"encoder.{len(model.encoder) - 1}"
    state[f"{last}.weight"] = state[f"{last}.weight"][kept, :]
    state[f"{last}.bias"] = state[f"{last}.bias"][kept]
    state["decoder.0.weight"] = state["decoder.0.weight"][:, kept]
    out.load_state_dict(state, strict=True)
    out.metadata = {"pruned_dims": str(dims)}
    return out.eval()
