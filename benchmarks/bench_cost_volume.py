"""Benchmark restorekit's cost volume against the other ways plain PyTorch computes it, in one run.

Usage (from the repository root, with the venv active):

    python benchmarks/bench_cost_volume.py                       # B=1, C=64, d=4, 128² and 256², 1 thread
    python benchmarks/bench_cost_volume.py --sizes 128 --repeats 9 --threads 2 --no-memory

The formulations (all return `(B, (2d+1)², H, W)`; all but restorekit's are differentiated by autograd):

    restorekit      restorekit.cost_volume: banded tile products over strided views, hand-written backward
    banded GEMM     the same idea in plain PyTorch: tiles copied out with `unfold`, for each displacement row a
                    batched product of row tiles (tile × C)·(C × (tile + 2d)), then its 2d+1 diagonals
    81-shift loop   one shifted product and channel sum per displacement
    unfold          restorekit.cost_volume_unfold: F.unfold windows times the reference, summed over channels
    unfold+einsum   F.unfold windows contracted with the reference by torch.einsum

Time: median wall-clock and process CPU time (time.process_time, all threads) of one call over `--repeats`
runs after `--warmup` runs, the formulations alternating call by call so that a change in machine load hits
all of them. Ratios are against the banded-GEMM baseline measured in the same run (lower is better).
"forward" runs under `torch.no_grad()`; "fwd+bwd" backpropagates a fixed upstream gradient to both inputs.

Traffic floor: the bytes a cost volume must move (forward: read both inputs, write the output; fwd+bwd adds
reading the upstream gradient and the inputs again and writing both input gradients) divided by the copy
bandwidth of this machine measured in the same run (a 64 MiB `copy_`, read + write). No formulation can be
faster than that; the ratio says how far each one is from it.

Peak memory: every (formulation, size, mode) runs in a fresh child process of this script. The child
allocates the inputs, warms the kernels up on a tiny problem, reads its resident set size (VmRSS), resets
the kernel's high-water mark (writing "5" to /proc/self/clear_refs, Linux >= 4.0), runs the operation once
and reads the high-water mark (VmHWM). Reported: VmHWM - VmRSS before the call, the extra resident memory
at the peak including the output (and, for fwd+bwd, the input gradients). Where clear_refs is unavailable
the child falls back to getrusage's ru_maxrss, which can only over-state; the output says which was used.
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
import torch.nn.functional as F

from restorekit.costvol import cost_volume, cost_volume_unfold


def banded_gemm(f_ref, f_nbr, radius: int, tile: int = 16):
    "Baseline: per displacement row, batched (tile × C)·(C × (tile + 2d)) products of copied tiles, then the diagonals."
    b, c, h, w = f_ref.shape; d = radius; k = 2 * d + 1
    tiles = -(-w // tile); wide = tiles * tile
    ref_tiles = F.pad(f_ref, (0, wide - w)).permute(0, 2, 3, 1).reshape(b, h, tiles, tile, c)
    nbr = F.pad(f_nbr, (d, d + wide - w, d, d)).permute(0, 2, 3, 1)                # (B, H+2d, wide+2d, C)
    nbr_tiles = nbr.unfold(2, tile + 2 * d, tile)                                   # (B, H+2d, tiles, C, tile+2d)
    rows = []
    for i in range(k):
        products = ref_tiles @ nbr_tiles[:, i:i + h]                                # (B, H, tiles, tile, tile+2d)
        flat = F.pad(products.flatten(-2), (0, tile))                               # row s, column s+j sits at s(tile+2d+1)+j
        band = flat.view(b, h, tiles, tile, tile + 2 * d + 1)[..., :k]             # (B, H, tiles, tile, 2d+1)
        rows.append(band.permute(0, 4, 1, 2, 3).reshape(b, k, h, wide)[..., :w])
    return torch.stack(rows, 1).reshape(b, k * k, h, w) / c


def shift_loop(f_ref, f_nbr, radius: int):
    "Baseline: one shifted product and channel sum per displacement, under autograd."
    b, c, h, w = f_ref.shape; d = radius; k = 2 * d + 1
    padded = F.pad(f_nbr, (d, d, d, d))
    return torch.stack([(f_ref * padded[:, :, i:i + h, j:j + w]).sum(1) for i in range(k) for j in range(k)], 1) / c


def unfold_einsum(f_ref, f_nbr, radius: int):
    "Baseline: F.unfold windows contracted with the reference by einsum."
    b, c, h, w = f_ref.shape; k = 2 * radius + 1
    windows = F.unfold(f_nbr, kernel_size=k, padding=radius).view(b, c, k * k, h, w)
    return torch.einsum("bchw,bckhw->bkhw", f_ref, windows) / c


IMPLEMENTATIONS = {"restorekit": cost_volume, "banded GEMM": banded_gemm, "81-shift loop": shift_loop,
                   "unfold": cost_volume_unfold, "unfold+einsum": unfold_einsum}
BASELINE = "banded GEMM"


def _inputs(channels: int, size: int, requires_grad: bool, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(1, channels, size, size, generator=g).requires_grad_(requires_grad) for _ in range(2))


def _run_once(fn, f_ref, f_nbr, radius: int, mode: str, upstream):
    if mode == "forward":
        with torch.no_grad():
            return fn(f_ref, f_nbr, radius)
    f_ref.grad = f_nbr.grad = None
    out = fn(f_ref, f_nbr, radius)
    out.backward(upstream)
    return out


def median_times(channels: int, size: int, radius: int, mode: str, warmup: int, repeats: int) -> dict:
    "Median (wall, CPU) seconds of one call per implementation, alternating the implementations run by run."
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


def copy_bandwidth(repeats: int = 7, mib: int = 64) -> float:
    "Bytes per second of a large tensor copy (read + write), median of `repeats`."
    src = torch.randn(mib * 2**18); dst = torch.empty_like(src); dst.copy_(src)
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); dst.copy_(src); times.append(time.perf_counter() - start)
    return 2 * src.numel() * 4 / statistics.median(times)


def traffic_bytes(channels: int, size: int, radius: int, mode: str) -> int:
    "Bytes a cost volume must move: inputs read and output written (and, for fwd+bwd, the backward's reads and writes)."
    features, scores = channels * size * size * 4, (2 * radius + 1) ** 2 * size * size * 4
    forward = 2 * features + scores
    return forward if mode == "forward" else forward + scores + 4 * features


def max_difference(channels: int, size: int, radius: int) -> dict:
    "Largest |difference| of each formulation's forward from restorekit's on the same inputs."
    f_ref, f_nbr = _inputs(channels, size, requires_grad=False, seed=3)
    with torch.no_grad():
        reference = cost_volume(f_ref, f_nbr, radius)
        return {impl: float((fn(f_ref, f_nbr, radius) - reference).abs().max()) for impl, fn in IMPLEMENTATIONS.items()}


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
    p.add_argument("--warmup", type=int, default=1, help="untimed runs before timing")
    p.add_argument("--repeats", type=int, default=7, help="timed runs; the median is reported (>= 5)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
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
          f"torch {torch.__version__}, {args.threads} thread(s), median of {args.repeats} runs after {args.warmup} warm-up, "
          f"load average at start {os.getloadavg()[0]:.2f}")
    diffs = max_difference(args.channels, min(args.sizes), args.radius)
    print(f"max |forward - restorekit| at {min(args.sizes)}²: " + ", ".join(f"{impl} {v:.1e}" for impl, v in diffs.items()))
    bandwidth = copy_bandwidth()
    print(f"copy bandwidth (read + write) measured now: {bandwidth / 1e9:.1f} GB/s")
    header = (f"{'size':>7} {'mode':>8} {'formulation':>14} | {'wall ms':>8} {'÷ banded':>8} | {'CPU ms':>8} {'÷ banded':>8}"
              f" | {'÷ floor':>7} | {'peak MiB':>8}")
    methods = set()
    for size in args.sizes:
        for mode in ("forward", "fwd+bwd"):
            print(header); print("-" * len(header))
            t = median_times(args.channels, size, args.radius, mode, args.warmup, args.repeats)
            floor = traffic_bytes(args.channels, size, args.radius, mode) / bandwidth
            base_wall, base_cpu = t[BASELINE]
            for impl, (wall, cpu) in t.items():
                row = (f"{f'{size}²':>7} {mode:>8} {impl:>14} | {wall * 1e3:8.1f} {wall / base_wall:7.2f}x | {cpu * 1e3:8.1f} "
                       f"{cpu / base_cpu:7.2f}x | {wall / floor:6.1f}x |")
                if not args.no_memory:
                    m = peak_memory(impl, args.channels, size, args.radius, mode, args.threads)
                    methods.add(m["method"]); row += f" {m['peak_mib']:8.1f}"
                print(row, flush=True)
            print(f"{'':>7} {mode:>8} {'traffic floor':>14} | {floor * 1e3:8.1f} {floor / base_wall:7.2f}x |   load average now {os.getloadavg()[0]:.2f}\n")
    print(f"÷ banded = time / the banded-GEMM baseline's time in the same run (lower is better); ÷ floor = wall time / traffic floor")
    if methods:
        print(f"peak MiB = extra resident memory during one call, measured in a fresh process via {', '.join(sorted(methods))}")


if __name__ == "__main__":
    main()
