"""Where S2SVR's inference time goes at 128² output frames (its cpu preset, as benchmarks/bench_models.py runs it):
`torch.profiler` self CPU time per ATen operator, with the FLOPs the profiler counts for convolutions and matrix
products, so each operator's GFLOP/s can be set against the 64 -> 64 3×3 convolution peak measured in the same run.

    OMP_NUM_THREADS=1 python benchmarks/issue17/s2svr_profile.py [--size 128] [--repeats 5] [--top 20]

Rows: operator, calls per forward, self CPU ms per forward, share of the forward's time, GFLOP per forward and
GFLOP/s (convolutions and matrix products only; element-wise operators have none and are pure memory passes).
A second table groups the convolutions by shape (input channels -> output channels, kernel, map size).
"""
import argparse
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from workloads import conv_peak, inference_models


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--model", default="S2SVR")
    args = p.parse_args()
    torch.set_num_threads(1)
    import restorekit.core
    restorekit.core.retain_freed_memory()
    import time
    peak = conv_peak(repeats=9, clock=time.process_time)
    model, inputs = inference_models()[args.model]
    x = inputs(args.size)
    with torch.no_grad():
        model(*x)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], with_flops=True, record_shapes=True) as prof:
            for _ in range(args.repeats): model(*x)
    r = args.repeats
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    print(f"{args.model} inference at {args.size}² output, 1 thread, {r} forwards profiled; 64->64 3x3 conv peak {peak / 1e9:.1f} GFLOP/s; "
          f"profiled self CPU {total / r / 1e3:.1f} ms per forward (profiler overhead included)")
    print(f"{'operator':32} {'calls':>6} {'ms':>8} {'share':>6} {'GFLOP':>7} {'GFLOP/s':>8} {'of peak':>8}")
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:args.top]:
        ms = e.self_cpu_time_total / r / 1e3
        gflop = (e.flops or 0) / r / 1e9
        rate = f"{gflop / ms * 1e3:8.1f} {gflop / ms * 1e12 / peak:8.0%}" if gflop else f"{'':8} {'':8}"
        print(f"{e.key[:32]:32} {e.count // r:6d} {ms:8.2f} {e.self_cpu_time_total / total:6.1%} {gflop:7.3f} {rate}")
    # convolutions by shape, with their children's time (the kernels' self time sits in the children)
    shapes = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for e in prof.key_averages(group_by_input_shape=True):
        if e.key == "aten::conv2d" or e.key == "aten::conv3d":
            s = e.input_shapes
            key = f"{e.key[6:]} {s[0][1]:>3}->{s[1][0]:<3} k{tuple(s[1][2:])} map {tuple(s[0][2:])} batch {s[0][0]}"
            shapes[key][0] += e.count // r; shapes[key][1] += e.cpu_time_total / r / 1e3; shapes[key][2] += (e.flops or 0) / r / 1e9
    print(f"\n{'convolutions by shape (total time incl. children)':70} {'calls':>5} {'ms':>8} {'GFLOP/s':>8}")
    for key, (n, ms, gflop) in sorted(shapes.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print(f"{key:70} {n:5d} {ms:8.2f} {gflop / ms * 1e3 if ms else 0:8.1f}")


if __name__ == "__main__":
    main()
