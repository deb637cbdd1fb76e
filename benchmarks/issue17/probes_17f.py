"""Probes behind the JFFRA flow-head split and the S2SVR options measured with it, on the CPU clock, 1 thread.

    OMP_NUM_THREADS=1 python benchmarks/issue17/probes_17f.py        (from the repository root)

1. JFFRA's flow head, first convolution at the jffra_t5 cpu sizes (B = 6 windows, 2 neighbours, 48², C = 16,
   radius 2: 25 + 2·16 = 57 input channels): one convolution of the concatenated input (f_t repeated for both
   neighbours) against `FlowHead`'s split (cost volume and warped neighbour per neighbour, f_t once).
2. S2SVR inference at 128² (its cpu preset, zero flows): every Conv2d fed channels-last against as is,
   alternating rounds.
3. One 3×3 convolution at batch 1 on a 32² map (S2SVR's step convolutions): `F.conv2d` (PyTorch picks its
   generic path for these), oneDNN called directly, oneDNN channels-last, and batch 2.
4. Bicubic ×4 enlargement of 12 frames of 3×32² (S2SVR's skip): `F.interpolate` against the same filter written
   as a 5×5 convolution per output phase and a pixel shuffle.
"""
from __future__ import annotations

import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
torch.set_num_threads(1)


def cpu_ms(fn, repeats: int = 10, warmup: int = 2) -> float:
    "Median CPU milliseconds of `fn()` over `repeats` calls."
    for _ in range(warmup): fn()
    times = []
    for _ in range(repeats):
        start = time.process_time(); fn(); times.append(time.process_time() - start)
    return statistics.median(times) * 1e3


def flow_head_split():
    from restorekit.jffra import FlowHead
    torch.manual_seed(0)
    b, c, k, size = 6, 16, 25, 48
    head = FlowHead(c, radius=2)
    nn.init.normal_(head.out.weight, std=0.05)
    cv, f_warped = torch.randn(2 * b, k, size, size, requires_grad=True), torch.randn(2 * b, c, size, size, requires_grad=True)
    f_t = torch.randn(b, c, size, size, requires_grad=True)
    cl = lambda t: t.contiguous(memory_format=torch.channels_last)
    concatenated = lambda: head.conv1(torch.cat([cl(cv), cl(torch.cat([f_t, f_t])), cl(f_warped)], 1))
    w = head.conv1.weight
    split = lambda: (F.conv2d(torch.cat([cl(cv), cl(f_warped)], 1), torch.cat([w[:, :k], w[:, k + c:]], 1), None, padding=1).unflatten(0, (2, b))
                     + F.conv2d(cl(f_t), w[:, k:k + c], head.conv1.bias, padding=1)).flatten(0, 1)
    grad = torch.randn(2 * b, c, size, size)
    print(f"1. flow head conv1, {2 * b} x {k + 2 * c}->{c} 3x3 at {size}²: max |split - concatenated| = {(split() - concatenated()).abs().max().item():.1e}")
    for name, fn in (("concatenated", concatenated), ("split", split)):
        fwd = cpu_ms(fn); both = cpu_ms(lambda: fn().backward(grad))
        print(f"   {name:>12}: forward {fwd:6.2f} ms, forward + backward {both:6.2f} ms")


def s2svr_channels_last(rounds: int = 6):
    import workloads
    model, inputs = workloads.inference_models()["S2SVR"]
    x = inputs(128); plain = nn.Conv2d.forward
    channels_last = lambda self, inp: plain(self, inp.contiguous(memory_format=torch.channels_last))
    times = {"as is": [], "channels-last": []}
    with torch.no_grad():
        for _ in range(rounds):
            for name, forward in (("as is", plain), ("channels-last", channels_last)):
                nn.Conv2d.forward = forward
                times[name].append(cpu_ms(lambda: model(*x), repeats=3, warmup=1))
    nn.Conv2d.forward = plain
    print(f"2. S2SVR inference 128², medians of {rounds} alternating rounds of 3 forwards: "
          + ", ".join(f"{name} {statistics.median(t):.1f} ms" for name, t in times.items()))


def batch_one_convs():
    print("3. 3x3 convolution at batch 1 on 32² (µs per call, median of 200):")
    for cin, cout in ((16, 16), (32, 32), (32, 16), (16, 48), (67, 16)):
        w, b = torch.randn(cout, cin, 3, 3), torch.randn(cout)
        x = torch.randn(1, cin, 32, 32); xc = x.contiguous(memory_format=torch.channels_last); x2 = torch.randn(2, cin, 32, 32)
        onednn = lambda t: torch.ops.aten.mkldnn_convolution(t, w, b, [1, 1], [1, 1], [1, 1], 1)
        with torch.no_grad():
            r = [cpu_ms(f, repeats=200, warmup=20) * 1e3 for f in (lambda: F.conv2d(x, w, b, padding=1), lambda: onednn(x), lambda: onednn(xc),
                                                                   lambda: F.conv2d(x2, w, b, padding=1))]
        print(f"   {cin:>2}->{cout:<2}: F.conv2d {r[0]:5.0f}, oneDNN {r[1]:5.0f}, oneDNN channels-last {r[2]:5.0f}, batch 2 {r[3]:5.0f} ({r[3] / 2:.0f} per map)")


def bicubic_phases(scale: int, dtype=torch.float32):
    "`(scale², 1, n, n)` kernels of PyTorch's bicubic enlargement (a = -0.75, align_corners=False) per output phase, and the left/right padding."
    a = -0.75
    near = lambda t: ((a + 2) * t - (a + 3)) * t * t + 1
    far = lambda t: ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    taps = []
    for p in range(scale):
        src = (p + 0.5) / scale - 0.5; first = math.floor(src); t = src - first
        taps.append((first - 1, [far(t + 1), near(t), near(1 - t), far(2 - t)]))
    lo, hi = min(o for o, _ in taps), max(o + 3 for o, _ in taps)
    k1 = torch.zeros(scale, hi - lo + 1, dtype=torch.float64)
    for p, (o, ws) in enumerate(taps): k1[p, o - lo:o - lo + 4] = torch.tensor(ws, dtype=torch.float64)
    return (k1[:, None, :, None] * k1[None, :, None, :]).reshape(scale * scale, 1, hi - lo + 1, hi - lo + 1).to(dtype), -lo, hi


def bicubic_as_convolution(x, scale: int):
    k, left, right = bicubic_phases(scale, x.dtype)
    y = F.conv2d(F.pad(x, (left, right, left, right), mode="replicate"), k.repeat(x.shape[1], 1, 1, 1), groups=x.shape[1])
    return F.pixel_shuffle(y, scale)


def bicubic():
    x = torch.rand(12, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    ref = lambda: F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    x64 = x.double()
    diff64 = (F.interpolate(x64, scale_factor=4, mode="bicubic", align_corners=False) - bicubic_as_convolution(x64, 4)).abs().max().item()
    with torch.no_grad():
        t_ref, t_conv = cpu_ms(ref, 50, 5), cpu_ms(lambda: bicubic_as_convolution(x, 4), 50, 5)
    print(f"4. bicubic x4 of 12 x 3x32²: F.interpolate {t_ref:.2f} ms, phase convolution {t_conv:.2f} ms; "
          f"max difference float32 {(ref() - bicubic_as_convolution(x, 4)).abs().max().item():.1e}, float64 {diff64:.1e}")


if __name__ == "__main__":
    print(f"torch {torch.__version__}, 1 thread, CPU clock, load average {os.getloadavg()[0]:.1f}")
    flow_head_split(); s2svr_channels_last(); batch_one_convs(); bicubic()
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
