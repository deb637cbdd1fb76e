"""Benchmark restorekit's cost volume (shifted products, custom backward) against the F.unfold formulation.

Usage (from the repository root, with the venv active):

    OMP_NUM_THREADS=1 python benchmarks/bench_cost_volume.py            # B=1, C=64, d=4, 128² and 256²
    python benchmarks/bench_cost_volume.py --sizes 64 128 --repeats 9 --threads 2

Time: median wall-clock time over `--repeats` runs after `--warmup` runs, both formulations in the
same process and run, alternating call by call so that a change in machine load hits both. Both
wall-clock and process CPU time (time.process_time) are reported: on a shared machine the CPU time
is the steadier figure. "forward" runs under `torch.no_grad()` (inference); "fwd+bwd" runs the forward
with inputs that require grad and backpropagates a fixed random upstream gradient to both inputs.

Peak memory: every (formulation, size, mode) is measured in a fresh child process of this script, so
one measurement cannot reuse memory freed by another. The child allocates the inputs, warms the
kernels up on a tiny problem, reads its resident set size (VmRSS), resets the kernel's high-water
mark (writing "5" to /proc/self/clear_refs, Linux ≥ 4.0), runs the operation once and reads the
high-water mark (VmHWM). Reported: VmHWM − VmRSS before the call, i.e. the extra resident memory the
operation needed at its peak, including its output and (for fwd+bwd) the input gradients. Where
clear_refs is unavailable the child falls back to getrusage's ru_maxrss (peak since process start),
which can only over-state the baseline; the output says which method was used.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

from restorekit.costvol import cost_volume, cost_volume_unfold

IMPLEMENTATIONS = {"shifted": cost_volume, "unfold": cost_volume_unfold}


def _inputs(channels: int, size: int, requires_grad: bool, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    f_ref = torch.randn(1, channels, size, size, generator=g).requires_grad_(requires_grad)
    f_nbr = torch.randn(1, channels, size, size, generator=g).requires_grad_(requires_grad)
    return f_ref, f_nbr


def _run_once(fn, f_ref, f_nbr, radius: int, mode: str, upstream):
    if mode == "forward":
        with torch.no_grad():
            return fn(f_ref, f_nbr, radius)
    f_ref.grad = f_nbr.grad = None
    out = fn(f_ref, f_nbr, radius)
    out.backward(upstream)
    return out


def median_times(channels: int, size: int, radius: int, mode: str, warmup: int, repeats: int) -> dict:
    "Median wall and CPU seconds of one call per implementation, alternating the implementations run by run."
    f_ref, f_nbr = _inputs(channels, size, requires_grad=mode == "fwd+bwd")
    upstream = torch.randn(1, (2 * radius + 1) ** 2, size, size, generator=torch.Generator().manual_seed(1))
    for _ in range(warmup):
        for fn in IMPLEMENTATIONS.values(): _run_once(fn, f_ref, f_nbr, radius, mode, upstream)
    wall = {impl: [] for impl in IMPLEMENTATIONS}; cpu = {impl: [] for impl in IMPLEMENTATIONS}
    for _ in range(repeats):
        for impl, fn in IMPLEMENTATIONS.items():
            gc.collect()
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            _run_once(fn, f_ref, f_nbr, radius, mode, upstream)
            wall[impl].append(time.perf_counter() - start_wall); cpu[impl].append(time.process_time() - start_cpu)
    return {impl: (statistics.median(wall[impl]), statistics.median(cpu[impl])) for impl in IMPLEMENTATIONS}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not found in /proc/self/status")


def _measure_memory_child(impl: str, channels: int, size: int, radius: int, mode: str) -> dict:
    "Runs in a fresh process: extra peak resident memory (MiB) of one call."
    fn = IMPLEMENTATIONS[impl]
    tiny = _inputs(channels, 8, requires_grad=mode == "fwd+bwd")
    _run_once(fn, *tiny, radius, mode, torch.randn(1, (2 * radius + 1) ** 2, 8, 8))   # load and warm kernels
    f_ref, f_nbr = _inputs(channels, size, requires_grad=mode == "fwd+bwd")
    upstream = torch.randn(1, (2 * radius + 1) ** 2, size, size)
    del tiny; gc.collect()
    before_kb = _status_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        method = "VmHWM after clear_refs"
    except OSError:
        method = "ru_maxrss (fallback)"
    out = _run_once(fn, f_ref, f_nbr, radius, mode, upstream)
    peak_kb = _status_kb("VmHWM") if method.startswith("VmHWM") else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    del out
    return {"peak_mib": (peak_kb - before_kb) / 1024, "method": method}


def peak_memory(impl: str, channels: int, size: int, radius: int, mode: str, threads: int) -> dict:
    "Launch this script in a child process to measure one case; returns {'peak_mib', 'method'}."
    cmd = [sys.executable, os.path.abspath(__file__), "--_memory", impl, mode, "--channels", str(channels),
           "--sizes", str(size), "--radius", str(radius), "--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[128, 256], help="square feature-map sizes H = W")
    p.add_argument("--channels", type=int, default=64, help="feature channels C (batch is 1)")
    p.add_argument("--radius", type=int, default=4, help="search radius d; the window is (2d+1)²")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs before timing")
    p.add_argument("--repeats", type=int, default=7, help="timed runs; the median is reported (>= 5)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--_memory", nargs=2, metavar=("IMPL", "MODE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    if args._memory:
        impl, mode = args._memory
        print(json.dumps(_measure_memory_child(impl, args.channels, args.sizes[0], args.radius, mode)))
        return
    if args.repeats < 5:
        p.error("--repeats must be at least 5")

    print(f"cost volume benchmark: B=1, C={args.channels}, radius={args.radius} ({(2 * args.radius + 1) ** 2} channels), "
          f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} runs after {args.warmup} warm-up")
    header = (f"{'size':>9} {'mode':>8} | {'wall ms: shifted':>16} {'unfold':>8} {'ratio':>6} | {'CPU ms: shifted':>15} {'unfold':>8} {'ratio':>6}"
              f" | {'peak MiB: shifted':>17} {'unfold':>7} {'ratio':>6}")
    print(header); print("-" * len(header))
    methods = set()
    for size in args.sizes:
        for mode in ("forward", "fwd+bwd"):
            t = median_times(args.channels, size, args.radius, mode, args.warmup, args.repeats)
            (ws, cs), (wu, cu) = t["shifted"], t["unfold"]
            row = f"{f'{size}x{size}':>9} {mode:>8} | {ws * 1e3:16.1f} {wu * 1e3:8.1f} {wu / ws:5.1f}x | {cs * 1e3:15.1f} {cu * 1e3:8.1f} {cu / cs:5.1f}x |"
            if not args.no_memory:
                m = {impl: peak_memory(impl, args.channels, size, args.radius, mode, args.threads) for impl in IMPLEMENTATIONS}
                methods |= {v["method"] for v in m.values()}
                ratio = m["unfold"]["peak_mib"] / max(m["shifted"]["peak_mib"], 1e-3)
                row += f" {m['shifted']['peak_mib']:17.1f} {m['unfold']['peak_mib']:7.1f} {ratio:5.1f}x"
            print(row, flush=True)
    print(f"ratio = unfold / shifted (higher is better for restorekit's cost_volume); CPU = process CPU time, "
          f"less sensitive than wall time to other jobs on a shared machine")
    if methods:
        print(f"peak memory = extra resident memory during one call, measured in a fresh process via {', '.join(sorted(methods))}")
    out_mib = lambda s: 4 * (2 * args.radius + 1) ** 2 * s * s / 2**20
    print("for scale: the output is " + ", ".join(f"{out_mib(s):.1f} MiB at {s}²" for s in args.sizes)
          + "; F.unfold's window tensor is C times that: " + ", ".join(f"{out_mib(s) * args.channels:.0f} MiB" for s in args.sizes))


if __name__ == "__main__":
    main()
