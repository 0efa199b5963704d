"""The isolated setup's seed sweep as a competent PyTorch user writes it on a
CPU: all M models stacked ([M, out, in] weights, [M, out] biases), every
Linear layer one batched matmul (baddbmm) over the models, one Adam over the
stacks. Each model starts from the weights the plain loop
(pytorch_baseline.py) draws for its seed and sees its own batches; the loss is
the sum of the per-model losses, so each model's gradient is its own.
`check_against_plain_loop` asserts that model by model this equals the plain
loop on the first steps (bench/compare.py runs it before timing)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from pytorch_baseline import keyframes, model, step_loss

GELU_AFTER = (True, True, False, True, True, False)  # encoder 3->H->H->K, normalize, decoder K->H->H->3


def colour_grid():
    g = torch.linspace(0, 1, 8)
    grid = torch.cartesian_prod(g, g, g)
    redness = grid[:, 0] * (1 - grid[:, 1] / 2 - grid[:, 2] / 2)
    return grid, 0.08 * redness ** 8


def plain_models(seeds):
    out = []
    for s in seeds:
        torch.manual_seed(s)
        out.append(model())
    return out


def stacked(models):
    """[W0, b0, W1, b1, ...] with W [M, out, in] and b [M, out], copied from the per-model layers."""
    layers = [[m for m in list(enc) + list(dec) if isinstance(m, nn.Linear)] for enc, dec in models]
    params = []
    for j in range(len(layers[0])):
        params.append(torch.stack([ls[j].weight.detach() for ls in layers]).clone().requires_grad_())
        params.append(torch.stack([ls[j].bias.detach() for ls in layers]).clone().requires_grad_())
    return params


def batched_loss(params, x, red, w):
    """x [M, B, 3], red [M, B]: the per-model losses [M] (pytorch_baseline.step_loss for each model)."""
    h, z = x, None
    for j, gelu in enumerate(GELU_AFTER):
        h = torch.baddbmm(params[2 * j + 1].unsqueeze(1), h, params[2 * j].transpose(1, 2))
        if gelu: h = F.gelu(h)
        if j == 2:
            h = z = F.normalize(h, dim=2)
    loss = ((h - x) ** 2).mean((1, 2))
    u = z / (z.norm(dim=2, keepdim=True) + 1e-8)
    if w["sep"]:
        c = torch.bmm(u, u.transpose(1, 2))
        mask = ((c - 1).abs() > 1e-8 + 1e-5).float()
        loss = loss + w["sep"] * ((((c + 1) / 2) ** 100) * mask).sum(2).mean(1)
    if w["anchor"]:
        loss = loss + w["anchor"] * (red * (1 - u[:, :, 0])).sum(1) / (red.sum(1) + 1e-8)
    if w["anti"]:
        loss = loss + w["anti"] * torch.clamp(-u[:, :, 0], min=0).mean(1)
    if w["antisub"]:
        loss = loss + w["antisub"] * (z[:, :, 0] ** 2).mean(1)
    return loss


def draw(M, B, p_red, gen):
    idx = torch.randint(0, p_red.numel(), (M, B), generator=gen)
    red = (torch.rand(M, B, generator=gen) < p_red[idx]).float()
    return idx, red


def train_batched(params, sched, grid, p_red, gen, B=64):
    """One step per entry of sched (a list of weight dicts); returns the last per-model losses."""
    M = params[0].shape[0]
    opt = torch.optim.Adam(params, lr=1e-8)
    losses = None
    for w in sched:
        idx, red = draw(M, B, p_red, gen)
        for group in opt.param_groups: group["lr"] = w["lr"]
        opt.zero_grad(set_to_none=True)
        losses = batched_loss(params, grid[idx], red, w)
        losses.sum().backward()
        opt.step()
    return losses.detach()


def check_against_plain_loop(seeds=(0, 1, 2, 3), steps=4, first=750, rtol=1e-4, atol=1e-6):
    """The stacked sweep equals, model by model, the plain loop (pytorch_baseline.step_loss with
    per-model nn.Linear layers and Adam) on the same batches: losses at every step and weights after
    `steps` steps, starting at schedule step `first` (every term active, lr 0.1). Raises on a mismatch."""
    sched = keyframes()[first:first + steps]
    grid, p_red = colour_grid()
    M, B = len(seeds), 64
    gen = torch.Generator().manual_seed(1234)
    batches = [draw(M, B, p_red, gen) for _ in sched]
    models = plain_models(seeds)
    params = stacked(models)
    opt = torch.optim.Adam(params, lr=1e-8)
    plain_opts = [torch.optim.Adam(list(e.parameters()) + list(d.parameters()), lr=1e-8) for e, d in models]
    for t, w in enumerate(sched):
        idx, red = batches[t]
        for group in opt.param_groups: group["lr"] = w["lr"]
        opt.zero_grad(set_to_none=True)
        losses = batched_loss(params, grid[idx], red, w)
        losses.sum().backward()
        opt.step()
        for m, ((enc, dec), o) in enumerate(zip(models, plain_opts)):
            for group in o.param_groups: group["lr"] = w["lr"]
            o.zero_grad(set_to_none=True)
            loss = step_loss(enc, dec, grid[idx[m]], red[m], w)
            loss.backward()
            o.step()
            assert torch.allclose(losses[m].detach(), loss.detach(), rtol=rtol, atol=atol), \
                f"step {first + t}, model {m}: batched loss {float(losses[m])} != plain loop {float(loss)}"
    for m, (enc, dec) in enumerate(models):
        layers = [l for l in list(enc) + list(dec) if isinstance(l, nn.Linear)]
        for j, l in enumerate(layers):
            for got, want, what in ((params[2 * j][m], l.weight, "weight"), (params[2 * j + 1][m], l.bias, "bias")):
                assert torch.allclose(got.detach(), want.detach(), rtol=rtol, atol=atol), \
                    f"model {m}, layer {j} {what}: max difference {float((got - want).abs().max())}"
    return M * steps


def time_batched_sweep(M=60, stride=1):
    """Wall and thread-CPU seconds to train M stacked models over the whole schedule
    (every `stride`-th step, scaled up)."""
    import time
    sched = keyframes()[::stride]
    grid, p_red = colour_grid()
    params = stacked(plain_models(range(M)))
    gen = torch.Generator().manual_seed(0)
    t0, c0 = time.perf_counter(), time.thread_time()
    train_batched(params, sched, grid, p_red, gen)
    return (time.perf_counter() - t0) * stride, (time.thread_time() - c0) * stride


if __name__ == "__main__":
    torch.set_num_threads(1)
    print(f"checked {check_against_plain_loop()} model-steps equal to the plain loop")
