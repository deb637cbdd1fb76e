"""Cost of the NCFL model: FLOPs per frame (torch's FlopCounterMode) beside the paper's 771 G, and measured frames per second.

Usage (from the repository root, with the venv active):

    OMP_NUM_THREADS=2 python benchmarks/bench_ncfl_cost.py                      # 256x256, 5 frames, default config
    python benchmarks/bench_ncfl_cost.py --height 540 --width 960 --repeats 3 --channels 64

FLOPs: `restorekit.ncfl.count_flops` runs one forward pass under `torch.utils.flop_counter.FlopCounterMode`,
which counts matrix multiplications and convolutions at 2 FLOPs per multiply-accumulate; element-wise
operations and `grid_sample` (the warping) are not counted. The number is the mean per frame of a
`--frames`-frame clip (frame 0 has no temporal features, so it skips alignment and compression).
The paper (Tables 1 and 8) gives 771 G (uni-directional) and 1522 G (bi-directional) per frame without
stating the resolution or whether a FLOP is a multiply-accumulate; Set8, where it measures, has
960x540 frames, so we also print our count scaled per pixel to 960x540 — an assumption, labelled as one.

Frames per second: the same clip through the model in eval mode under `torch.no_grad()`, `--warmup` runs
discarded, then the median over `--repeats` runs of frames / wall-clock seconds, with `--threads` torch
threads. On a shared machine the figure depends on the load; the process CPU time is printed too.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from restorekit.ncfl import NCFL, NCFLConfig, count_flops

PAPER_GFLOPS = {False: 771, True: 1522}   # per frame, uni- and bi-directional (paper Tables 1 and 8)
SET8_PIXELS = 960 * 540


def measure(cfg: NCFLConfig, height: int, width: int, frames: int, repeats: int, warmup: int) -> dict:
    torch.manual_seed(0)
    model = NCFL(cfg).eval()
    clip = torch.rand(1, frames, 3, height, width)
    flops = count_flops(model, clip)
    walls, cpus = [], []
    with torch.no_grad():
        for i in range(warmup + repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            model(clip)
            if i >= warmup: walls.append(time.perf_counter() - w0); cpus.append(time.process_time() - c0)
    return {"gflops_per_frame": flops["per_frame"] / 1e9, "gflops_set8": flops["per_frame_pixel"] * SET8_PIXELS / 1e9,
            "by_module": {k: v / 1e9 for k, v in flops["by_module"].items()}, "fps": frames / statistics.median(walls),
            "cpu_s_per_frame": statistics.median(cpus) / frames, "params_m": sum(p.numel() for p in model.parameters()) / 1e6}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--height", type=int, default=256); ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--frames", type=int, default=5, help="frames per clip (FLOPs and fps are per frame)")
    ap.add_argument("--channels", type=int, default=32, help="NCFLConfig.channels (feature width)")
    ap.add_argument("--repeats", type=int, default=5); ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--flow", default="net", choices=("net", "dis"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"NCFL cost at {args.width}x{args.height}, {args.frames}-frame clips, channels={args.channels}, flow={args.flow}, "
          f"{args.threads} torch thread(s), median of {args.repeats} runs; torch {torch.__version__}")
    print(f"{'model':<18}{'params (M)':>11}{'GFLOPs/frame':>14}{'@960x540 (assumed)':>20}{'paper G':>9}{'fps':>8}{'CPU s/frame':>13}")
    for bidirectional in (False, True):
        cfg = NCFLConfig(bidirectional=bidirectional, channels=args.channels, flow=args.flow)
        r = measure(cfg, args.height, args.width, args.frames, args.repeats, args.warmup)
        name = "bi-directional" if bidirectional else "uni-directional"
        print(f"{name:<18}{r['params_m']:>11.3f}{r['gflops_per_frame']:>14.2f}{r['gflops_set8']:>20.1f}"
              f"{PAPER_GFLOPS[bidirectional]:>9}{r['fps']:>8.2f}{r['cpu_s_per_frame']:>13.3f}")
        print("    per module (GFLOPs/frame): " + ", ".join(f"{k} {v:.2f}" for k, v in r["by_module"].items()))


if __name__ == "__main__":
    main()
