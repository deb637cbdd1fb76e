"""Inference speed of each model as a share of the machine's convolution peak, at 64² to 512².

Usage (from the repository root, with the venv active):

    python benchmarks/bench_models.py                          # JFFRA, STBN, S2SVR, NCFL at 64, 128, 256, 512; 1 thread
    python benchmarks/bench_models.py --sizes 64 128 --threads 2 --repeats 5

Each model is built at its `cpu` preset's width (benchmarks/workloads.py) in eval mode and run under
`torch.no_grad()` on one clip of the preset's frame count with `size`² output frames (S2SVR: `size/4`² input
frames). JFFRA and S2SVR get zero flows as arguments, so OpenCV's DIS flow is not part of the timing; STBN and NCFL
estimate their flows with their own networks, which are counted. FLOPs are counted once per size by
`torch.utils.flop_counter` (convolutions, matrix products and attention; element-wise work is not counted, so a
model whose time goes into element-wise passes scores low). Peak = FLOP/s of a 64 -> 64 3×3 convolution on one
128² map, measured in the same run with the same threads and the same clock. Time = median of `--repeats` forwards
on the process CPU clock (`time.process_time`, all threads together; default), which other jobs on a shared machine
do not inflate as they do the wall clock, or on the wall clock with `--clock wall`.
Share = (FLOPs / time) / peak. µs per pixel = time / (frames · size²), flat if the cost scales with the pixels.
The process first calls `restorekit.core.retain_freed_memory()`, as restorekit's commands do (large buffers from
glibc's heap and reused, not fresh zero-filled pages per buffer); `--system-malloc` leaves malloc at its defaults.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from workloads import conv_peak, count_flops, inference_models


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512], help="output frame sizes (square)")
    p.add_argument("--models", nargs="+", help="only these models (default: all)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--repeats", type=int, default=3, help="timed forwards per (model, size); the median is reported")
    p.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="process CPU time (all threads) or wall-clock time")
    p.add_argument("--system-malloc", action="store_true", help="leave malloc at its defaults (no retain_freed_memory)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    import restorekit.core
    retain = getattr(restorekit.core, "retain_freed_memory", None)
    malloc = "system malloc" if args.system_malloc or retain is None else f"retain_freed_memory() -> {retain()}"
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    peak = conv_peak(clock=clock)
    print(f"model inference benchmark: torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} on the {args.clock} clock; "
          f"64->64 3x3 convolution peak {peak / 1e9:.1f} GFLOP/s; {malloc}; load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':>6} {'size':>5} | {'GFLOP':>7} {'ms':>8} {'GFLOP/s':>8} {'share':>6} {'µs/pixel':>9}")
    for name, (model, inputs) in inference_models().items():
        if args.models and name not in args.models: continue
        for size in args.sizes:
            x = inputs(size)
            with torch.no_grad():
                flops = count_flops(lambda: model(*x))
                times = []
                for _ in range(args.repeats):
                    start = clock(); model(*x); times.append(clock() - start)
            t = statistics.median(times); frames = x[0].shape[1]
            print(f"{name:>6} {size:>5} | {flops / 1e9:7.2f} {t * 1e3:8.1f} {flops / t / 1e9:8.1f} {flops / t / peak:5.0%} "
                  f"{t / (frames * size * size) * 1e6:9.2f}", flush=True)
    print(f"peak re-measured at the end: {conv_peak(clock=clock) / 1e9:.1f} GFLOP/s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
