"""JFFRA's biased window attention, forward + backward, at the `cpu` preset's shapes: the plain path (QKᵀ and the bias in
one baddbmm, `torch.softmax`, autograd) against `restorekit.jffra.window_attention`, which keeps its probabilities scaled
by 2^64 so that no subnormal number enters the backward's products.

    cd benchmarks && PYTHONPATH=.. OMP_NUM_THREADS=1 python issue17/jffra_attention.py [--repeats 15]

Inputs as in a training step of the preset (2 clips × 3 inner frames, 16 channels, 48² and 24², 8×8 windows, one head):
queries, keys and values of unit scale times 0.1, the bias of `RelativePositionBias`'s initial locality prior (logits down
to −98), an upstream gradient of 1e-8 (the step's is 1e-8 to 1e-7). CPU time (`time.process_time`), medians; the two
paths alternate. Also printed: the share of subnormal numbers in the plain path's probabilities and logit gradients.
"""
import argparse, statistics, time
import torch
from restorekit.jffra import RelativePositionBias, window_attention, window_partition, window_reverse

def plain(q, k, v, ws, heads, bias):
    "The attention the way main computed it: one baddbmm for α·QKᵀ + bias, torch.softmax, bmm; autograd's backward."
    b, c, h, w = q.shape; d = c // heads
    split = lambda t: window_partition(t, ws).unflatten(-1, (heads, d)).transpose(1, 2).flatten(0, 1)
    qt, kt, vt = split(q), split(k), split(v)
    scores = bias.expand(qt.shape[0] // heads, -1, -1, -1).reshape(qt.shape[0], *bias.shape[1:])
    attn = torch.softmax(torch.baddbmm(scores, qt, kt.transpose(1, 2), alpha=d ** -0.5), -1)
    out = attn.bmm(vt).unflatten(0, (-1, heads)).transpose(1, 2).flatten(2)
    return window_reverse(out, ws, h, w), attn

def main():
    p = argparse.ArgumentParser(); p.add_argument("--repeats", type=int, default=15); args = p.parse_args()
    g = torch.Generator().manual_seed(0)
    bias = RelativePositionBias(8)().detach().requires_grad_()
    tiny = torch.finfo(torch.float32).tiny
    subnormal = lambda t: float(((t != 0) & (t.abs() < tiny)).float().mean())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); fwd+bwd CPU ms, medians of {args.repeats}")
    print(f"{'maps':>16} | {'plain':>7} {'window_attention':>16} {'ratio':>6} | subnormal share: probabilities  logit gradients")
    for size in (48, 24):
        q, k, v = (0.1 * torch.randn(6, 16, size, size, generator=g) for _ in range(3))
        q, k, v = (t.contiguous(memory_format=torch.channels_last).requires_grad_() for t in (q, k, v))
        upstream = 1e-8 * torch.randn(6, 16, size, size, generator=g)
        out, attn = plain(q, k, v, 8, 1, bias); attn.retain_grad(); out.backward(upstream)
        logits_grad = attn.grad * attn - attn * (attn.grad * attn).sum(-1, keepdim=True)   # what softmax's backward produces
        runs = {"plain": lambda: plain(q, k, v, 8, 1, bias)[0].backward(upstream),
                "window_attention": lambda: window_attention(q, k, v, 8, 1, bias).backward(upstream)}
        times = {name: [] for name in runs}
        for f in runs.values(): f()
        for _ in range(args.repeats):
            for name, f in runs.items():
                start = time.process_time(); f(); times[name].append(1000 * (time.process_time() - start))
        a, b = (statistics.median(times[n]) for n in runs)
        print(f"{str((6, 16, size, size)):>16} | {a:7.2f} {b:16.2f} {a / b:5.2f}x | {subnormal(attn):30.4f} {subnormal(logits_grad):16.4f}")

if __name__ == "__main__":
    main()
