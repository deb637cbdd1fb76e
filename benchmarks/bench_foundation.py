"""Timing of the foundation ops: `restorekit.warp.warp` (bilinear / nearest, forward and
forward+backward) and the classical DIS flow presets.

Run from the repository root:  python benchmarks/bench_foundation.py [--runs 7] [--threads N]

Each timing is the median (min, max) over `--runs` runs after one warm-up run, measured in this
process. The cases are timed round-robin (run 1 of every case, then run 2 of every case, ...), so a
change in machine load hits all of them alike, and ratios compare against a baseline measured in
the same rounds; ratios hold across machines better than absolute times do. The load average is
printed because these machines are shared. This is a script, not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import cv2
import torch
import torch.nn.functional as F

from restorekit.flow import DISFlow
from restorekit.warp import warp


def time_round_robin(cases: dict, runs: int) -> dict[str, list[float]]:
    "Wall-clock seconds of `runs` calls of each `cases[name]()`, after one warm-up call each, interleaved."
    for fn in cases.values(): fn()
    out = {name: [] for name in cases}
    for _ in range(runs):
        for name, fn in cases.items():
            start = time.perf_counter(); fn(); out[name].append(time.perf_counter() - start)
    return out


def warp_cases(seed: int = 0) -> dict:
    "warp on (1, 64, 256, 256) features with a random flow of a few pixels, forward and forward+backward."
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 64, 256, 256, generator=g)
    flow = torch.randn(1, 2, 256, 256, generator=g) * 3
    xg, fg = x.clone().requires_grad_(), flow.clone().requires_grad_()
    def forward(mode): return lambda: warp(x, flow, mode=mode)
    def forward_backward(mode):
        def run():
            xg.grad = fg.grad = None
            warp(xg, fg, mode=mode).sum().backward()
        return run
    return {"warp bilinear forward": forward("bilinear"), "warp nearest forward": forward("nearest"),
            "warp bilinear fwd+bwd": forward_backward("bilinear"), "warp nearest fwd+bwd": forward_backward("nearest")}


def benchmark_pair() -> tuple[torch.Tensor, torch.Tensor, str]:
    "Two consecutive 480×270 frames: from the real bikes clip if restorekit.video exists, else synthetic."
    try:
        from restorekit.video import sample_clip
        clip, source = sample_clip("bikes", start=100, end=102), "bikes.mp4 frames 100-101 resized to 480x270"
    except ImportError:
        from restorekit.synthetic import synthetic_clip
        clip, source = synthetic_clip(n_frames=2, size=(270, 480), seed=0).frames, "synthetic_clip(seed=0) at 480x270"
    clip = F.interpolate(clip, size=(270, 480), mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)
    return clip[:1], clip[1:], source


def dis_cases() -> tuple[dict, str]:
    ref, other, source = benchmark_pair()
    estimators = {preset: DISFlow(preset) for preset in ("ultrafast", "fast", "medium")}
    return {f"DIS {p} 480x270": (lambda e=e: e(ref, other)) for p, e in estimators.items()}, source


BASELINES = {"warp nearest forward": "warp bilinear forward", "warp nearest fwd+bwd": "warp bilinear fwd+bwd",
             "warp bilinear fwd+bwd": "warp bilinear forward", "DIS fast 480x270": "DIS ultrafast 480x270",
             "DIS medium 480x270": "DIS ultrafast 480x270"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per case (after one warm-up)")
    parser.add_argument("--threads", type=int, default=None, help="set torch and OpenCV thread counts (default: leave as found)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads); cv2.setNumThreads(args.threads)
    flow_cases, source = dis_cases()
    results = time_round_robin({**warp_cases(), **flow_cases}, args.runs)
    medians = {name: statistics.median(t) for name, t in results.items()}
    print(f"torch {torch.__version__}, torch threads {torch.get_num_threads()}, OpenCV {cv2.__version__}, "
          f"OpenCV threads {cv2.getNumThreads()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{args.runs} runs after 1 warm-up")
    print(f"warp input: x (1, 64, 256, 256), flow (1, 2, 256, 256); DIS input: {source}")
    print(f"{'case':<24} {'median ms':>10} {'min ms':>9} {'max ms':>9}  ratio of medians")
    for name, t in results.items():
        base = BASELINES.get(name)
        ratio = f"{medians[name] / medians[base]:.2f}x {base}" if base else "(baseline)"
        print(f"{name:<24} {1e3 * medians[name]:>10.2f} {1e3 * min(t):>9.2f} {1e3 * max(t):>9.2f}  {ratio}")


if __name__ == "__main__":
    main()
