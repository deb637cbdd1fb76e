"""Loading speed of the folder-dataset readers against what a training step needs.

Run from the repository root:  python benchmarks/bench_datasets.py [--frames 16] [--batches 6] [--step-ms 100]

Writes a REDS-layout folder of real-size frames (1280x720 PNG HQ frames and their 320x180 x4 LQ
frames, a photograph panning across the frame) into a temporary folder, then loads training
batches of the S2SVR paper preset's shape (8 windows of 7 frames, 256x256 HQ crops) through
`restorekit.train.make_loader` with 0 and 2 worker processes (prefetch factor 2), with the
per-process frame cache off (`cache_mb=0`) and on (the default), and prints frames per second
after the first batch (an HQ frame and its LQ pair count as one frame) beside the frames per
second a GPU step of `--step-ms` milliseconds consumes. It counts the image decodes of one window
and of one epoch (with and without the cache) to show each frame is decoded once per epoch with
the cache. Every measurement starts from a fresh dataset, so no cache is inherited. The machine's
load average is printed because these machines are shared. This is a script, not a test: it
asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import torch

import restorekit.datasets as datasets
from restorekit.datasets import folder_dataset, write_miniature
from restorekit.train import make_loader


def loader_fps(dataset, batch_size: int, workers: int, batches: int) -> tuple[float, float]:
    "(frames per second after the first batch, seconds to the first batch) over `batches` + 1 batches of a fresh loader."
    loader = make_loader(dataset, batch_size, seed=0, num_workers=workers, prefetch_factor=2)
    start = time.perf_counter(); first = None; frames = 0
    for i, batch in enumerate(loader):
        if first is None: first = time.perf_counter(); continue
        frames += batch["hq"].shape[0] * batch["hq"].shape[1]
        if i == batches: break
    return frames / (time.perf_counter() - first), first - start


def count_decodes(fn) -> tuple[int, int]:
    "(decodes, distinct files decoded) while `fn()` runs in this process (counted by wrapping the reader's decoder)."
    paths = []
    original = datasets.read_frame
    def counting(path):
        paths.append(path)
        return original(path)
    datasets.read_frame = counting
    try: fn()
    finally: datasets.read_frame = original
    return len(paths), len(set(paths))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=16, help="frames per generated clip")
    p.add_argument("--batches", type=int, default=6, help="batches timed per configuration")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--n-frames", type=int, default=7, help="frames per window")
    p.add_argument("--crop", type=int, default=256, help="HQ crop")
    p.add_argument("--step-ms", type=float, default=100.0, help="GPU training step time the loader must keep up with")
    args = p.parse_args()
    torch.set_num_threads(1); cv2.setNumThreads(1)
    root = Path(tempfile.mkdtemp(prefix="restorekit-bench-datasets-"))
    try:
        t0 = time.perf_counter()
        write_miniature("reds", root, n_frames=args.frames, size=(720, 1280), n_clips=2)
        pngs = list(root.rglob("*.png"))
        size_mb = sum(p.stat().st_size for p in pngs) / 2**20
        print(f"wrote {len(pngs)} PNG frames ({size_mb:.0f} MiB; HQ 1280x720, LQ 320x180) in {time.perf_counter() - t0:.1f} s")
        hq = next(p for p in pngs if "bicubic" not in str(p))
        t0 = time.perf_counter(); n = 10
        for _ in range(n): cv2.imread(str(hq))
        print(f"one 1280x720 PNG decode: {1000 * (time.perf_counter() - t0) / n:.1f} ms")
        length = args.batch_size * (args.batches + 4) * 2
        make = lambda cache_mb: folder_dataset("reds/train", root, n_frames=args.n_frames, crop=args.crop, length=length, cache_mb=cache_mb)
        ds = make(1024)
        n_files = sum(len(c.hq) + len(c.lq) for c in ds.clips)
        print(f"image decodes for one window of {args.n_frames} frames (HQ + LQ): {count_decodes(lambda: ds[0])[0]}")
        for cache_mb in (0, 1024):
            epoch = make(cache_mb)
            decodes, distinct = count_decodes(lambda: [epoch[i] for i in range(len(epoch))])
            print(f"one epoch of {length} windows over {len(epoch.clips)} clips ({n_files} HQ + LQ files), cache_mb={cache_mb}: "
                  f"{decodes} decodes of {distinct} distinct files ({decodes / distinct:.1f} per file)")
        need = args.batch_size * args.n_frames / (args.step_ms / 1000)
        print(f"a step of {args.batch_size} windows x {args.n_frames} frames every {args.step_ms:.0f} ms needs {need:.0f} frames/s")
        for cache_mb in (0, 1024):
            for workers in (0, 2):
                fps, first = loader_fps(make(cache_mb), args.batch_size, workers, args.batches)
                print(f"cache_mb={cache_mb:4} workers={workers}: {fps:7.1f} frames/s after the first batch ({fps / need:.2f} x the need; "
                      f"first batch after {first:.2f} s), load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
                if workers == 0 and cache_mb == 0: print(f"  at this rate per core, {need / fps:.0f} worker processes keep up with the step without the cache")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
