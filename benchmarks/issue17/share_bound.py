"""Where each model's inference time goes at one size, split into the operators whose FLOPs goal 4 counts and the rest.

    cd benchmarks && OMP_NUM_THREADS=1 python issue17/share_bound.py --sizes 128 [--models JFFRA S2SVR] [--repeats 3]

Goal 4 of issue 17 scores a model by (FLOPs / time) / peak, with FLOPs counted by `torch.utils.flop_counter`
(convolutions, matrix products, attention) and peak = a 64 -> 64 3×3 convolution on a 128² map. Time spent in any other
operator (grid_sample, softmax, copies, concatenations, element-wise passes) lowers the share without adding FLOPs.

For one inference forward (the `bench_models.py` setting: preset width, eval mode, no_grad, given zero flows for JFFRA
and S2SVR) this prints, from `torch.profiler` (top-level ATen operators, median over `--repeats` profiled forwards):
- `flop ops ms`: time in the counted operators (conv*, mm, bmm, baddbmm, addmm, linear, matmul, SDPA, einsum),
- `other ms`: every other top-level operator, and the five largest of them,
- `share`: FLOPs / (flop + other) / peak — the figure goal 4 asks to be ≥ 50 %,
- `flop-op rate`: FLOPs / flop-op time / peak — what the counted operators reach on their own at the preset's widths;
  the share cannot exceed it however small the rest becomes,
- `cap if flop ops at peak`: (FLOPs / peak) / (FLOPs / peak + other) — the share if every counted operator ran at the
  peak and the rest stayed as it is,
- the same 3×3 convolution peak at 16 and 32 channels (the presets' widths), measured in the same run.
Profiler times are wall-clock; ratios inside one run are what to read. Like `bench_models.py`, the process first calls
`restorekit.core.retain_freed_memory()`.
"""
from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from workloads import count_flops, inference_models  # noqa: E402

FLOP_OPS = {"aten::conv2d", "aten::conv3d", "aten::conv_transpose2d", "aten::conv_transpose3d", "aten::convolution",
            "aten::_convolution", "aten::mm", "aten::bmm", "aten::baddbmm", "aten::addmm", "aten::linear", "aten::matmul",
            "aten::scaled_dot_product_attention", "aten::einsum"}


def conv_rate(channels: int, size: int = 128, repeats: int = 9) -> float:
    "FLOP/s of a `channels` -> `channels` 3×3 convolution on one `size`² map (inference, wall clock, median of `repeats`)."
    x = torch.randn(1, channels, size, size); w = torch.randn(channels, channels, 3, 3)
    flops = 2 * channels * channels * 9 * size * size
    with torch.no_grad():
        for _ in range(3): torch.nn.functional.conv2d(x, w, padding=1)
        times = []
        for _ in range(repeats):
            start = time.perf_counter(); torch.nn.functional.conv2d(x, w, padding=1); times.append(time.perf_counter() - start)
    return flops / statistics.median(times)


def split(model, x) -> tuple[float, float, collections.Counter]:
    "(ms in counted operators, ms in the rest, ms per other operator name) of one profiled forward."
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        model(*x)
    flop_ms, other = 0.0, collections.Counter()
    for e in prof.events():
        parent = e.cpu_parent
        if not e.name.startswith("aten::") or (parent is not None and parent.name.startswith("aten::")): continue
        ms = e.cpu_time_total / 1e3
        if e.name in FLOP_OPS: flop_ms += ms
        else: other[e.name] += ms
    return flop_ms, sum(other.values()), other


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[128])
    p.add_argument("--models", nargs="+")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    import restorekit.core
    restorekit.core.retain_freed_memory()                                       # as bench_models.py and restorekit's commands do
    peak = conv_rate(64)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average {os.getloadavg()[0]:.1f}; "
          f"3x3 conv at 128², GFLOP/s: 64 ch {peak / 1e9:.1f} (the peak), 32 ch {conv_rate(32) / 1e9:.1f}, 16 ch {conv_rate(16) / 1e9:.1f}")
    print(f"{'model':>6} {'size':>5} | {'GFLOP':>6} {'flop ops ms':>11} {'other ms':>9} {'share':>6} {'flop-op rate':>12} "
          f"{'cap if flop ops at peak':>23} | largest other operators (ms)")
    for name, (model, inputs) in inference_models().items():
        if args.models and name not in args.models: continue
        for size in args.sizes:
            x = inputs(size)
            with torch.no_grad():
                flops = count_flops(lambda: model(*x))
                model(*x)
                runs = [split(model, x) for _ in range(args.repeats)]
            best = sorted(runs, key=lambda r: r[0] + r[1])[len(runs) // 2]          # the median run by total time
            flop_ms, other_ms, other = best
            at_peak = flops / peak * 1e3
            top = ", ".join(f"{k.removeprefix('aten::')} {v:.1f}" for k, v in other.most_common(5))
            print(f"{name:>6} {size:>5} | {flops / 1e9:6.2f} {flop_ms:11.1f} {other_ms:9.1f} "
                  f"{flops / ((flop_ms + other_ms) / 1e3) / peak:6.0%} {flops / (flop_ms / 1e3) / peak:12.0%} "
                  f"{at_peak / (at_peak + other_ms):23.0%} | {top}", flush=True)
    print(f"peak re-measured: {conv_rate(64) / 1e9:.1f} GFLOP/s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
