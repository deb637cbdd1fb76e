"""Peak memory and speed of `restorekit restore` on the full `bikes` sample clip (640x272, 250 frames).

Usage (from the repository root, with the venv active):

    OMP_NUM_THREADS=1 python benchmarks/bench_restore.py                    # train a small STBN, restore noisy bikes
    python benchmarks/bench_restore.py --steps 0 --input clean              # random-init model on the clip as shipped

What it does:

1. Trains a small STBN (8 channels, DIS flow, Gaussian-NLL loss, sigma 25) self-supervised for `--steps`
   updates with `restorekit.train` on noisy 48x48 crops of the *early* frames of bikes
   (`RestorationDataset("denoise", "train", sources=("bikes",))` — the clean frames never reach the loss),
   scores it on the held-out split, and writes it with `restorekit.checkpoint.save_model`.
   `--steps 0` skips the training (random initialisation), to measure speed and memory only.
2. Writes the whole of bikes with AWGN sigma 25 (seeded) to a lossless FFV1 file, streaming (`--input noisy`,
   the default), or uses the bikes .mp4 as shipped (`--input clean`).
3. Runs `restorekit restore IN -o OUT.mkv --checkpoint CKPT --chunk N --context K` in a subprocess, and
   reads the peak resident set size of that child from `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`
   (this script starts no other child before it, apart from short `git` calls while saving).
4. Prints the peak RSS, the frames per second the command reported (decode + restore + encode, including
   the overlap frames' extra work) and, for `--input noisy`, the PSNR of the noisy and the restored video
   against the clip as shipped, averaged over all 250 frames.
5. Prints the compute bound: the FLOPs the model spends per output frame (`torch.utils.flop_counter` on one
   window of chunk + 2·context frames at a sixteenth of the frame area, scaled by 16 — convolutions scale with
   the pixels — divided by the chunk's output frames; OpenCV's DIS flow is not counted) divided by the FLOP/s
   of a 64 -> 64 3x3 convolution measured in the same run at the same thread count, as frames per CPU second
   (peak FLOP/s per thread), and how far the measured frames per CPU second are from it.

The frame rate depends on the load of the machine and on OMP_NUM_THREADS (passed through to the child).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from restorekit.checkpoint import load_model, save_model
from restorekit.data import RestorationDataset
from restorekit.degrade import add_gaussian_noise
from restorekit.denoise import self_supervised_batch_loss
from restorekit.exp_stbn import NoisyOnly, evaluate_denoiser
from restorekit.metrics import psnr
from restorekit.stbn import STBN, STBNConfig
from restorekit.train import TrainConfig, train
from restorekit.video import VideoWriter, iter_video, sample_clip_path, video_info


def train_model(out: Path, steps: int, channels: int, sigma: float, seed: int) -> Path:
    torch.manual_seed(seed)
    cfg = STBNConfig(channels=channels, n_blocks=1, srfe_blocks=1, flow_source="dis_medium", flow_refinement=False, loss="nll", noise_sigma=sigma)
    model = STBN(cfg)
    data = dict(task="denoise", sources=("bikes",), n_frames=5, crop=48, sigma=sigma, seed=seed, split="train")
    metrics = {}
    if steps > 0:
        kw = dict(n_frames=5, crop=48, seed=seed, sources=("bikes",), sigma=sigma)
        train_set = NoisyOnly(RestorationDataset("denoise", "train", length=steps * 2, **kw))
        t0 = time.perf_counter()
        result = train(model, self_supervised_batch_loss, train_set,
                       TrainConfig(steps=steps, batch_size=2, lr=3e-3, schedule="cosine", min_lr=1.5e-4, grad_clip=1.0,
                                   seed=seed, progress=False, log_every=max(1, steps // 10)))
        metrics = evaluate_denoiser(model, RestorationDataset("denoise", "eval", length=4, **kw))
        print(f"trained STBN ({sum(p.numel() for p in model.parameters()):,} parameters) for {steps} steps in "
              f"{time.perf_counter() - t0:.0f} s: loss {result.losses[0]:.3f} -> {result.losses[-1]:.3f}; held-out 48x48 windows: "
              f"PSNR {metrics['psnr_input']:.2f} dB noisy -> {metrics['psnr']:.2f} dB", flush=True)
    else:
        print("random-init STBN (--steps 0): speed and memory only", flush=True)
    return save_model(out, model, data=data, preset=f"bench_restore steps={steps}", metrics=metrics)


def write_noisy(src: Path, out: Path, sigma: float, seed: int) -> Path:
    info = video_info(src)
    with VideoWriter(out, fps=info.fps or 25, codec="ffv1") as writer:
        for i, chunk in enumerate(iter_video(src, chunk_size=25)):
            writer.write(add_gaussian_noise(chunk, sigma, seed=seed * 1000 + i, clip_range=True))
    return out


def mean_psnr(path: Path, reference: Path) -> float:
    values = [psnr(a, b, reduction="frame") for a, b in zip(iter_video(path, 25), iter_video(reference, 25))]
    return float(torch.cat(values).mean())


def compute_bound(ckpt: Path, height: int, width: int, chunk: int, context: int) -> tuple[float, float, float]:
    "(FLOPs per output frame, convolution peak FLOP/s per thread, the frames per CPU second that bound allows)."
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from workloads import conv_peak, count_flops
    model = load_model(ckpt).model.eval()
    window = torch.rand(1, chunk + 2 * context, 3, height // 4, width // 4)
    with torch.no_grad():
        flops = count_flops(lambda: model(window)) * 16 / chunk
    peak = conv_peak() / torch.get_num_threads()
    return flops, peak, peak / flops


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200, help="STBN training steps (0: random initialisation)")
    p.add_argument("--channels", type=int, default=8, help="STBN width")
    p.add_argument("--sigma", type=float, default=25.0, help="noise sigma (0-255) of training and of the noisy input")
    p.add_argument("--input", choices=("noisy", "clean"), default="noisy", help="restore bikes with added noise, or as shipped")
    p.add_argument("--chunk", type=int, default=8, help="--chunk of restorekit restore")
    p.add_argument("--context", type=int, default=3, help="--context of restorekit restore")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", type=Path, default=None, help="folder for the files (default: a temporary folder, deleted)")
    args = p.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-restore-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        bikes = sample_clip_path("bikes")
        info = video_info(bikes)
        print(f"bikes: {info.width}x{info.height}, {info.frames} frames; torch threads {torch.get_num_threads()}", flush=True)
        ckpt = train_model(folder / "stbn.pt", args.steps, args.channels, args.sigma, args.seed)
        src = write_noisy(bikes, folder / "bikes_noisy.mkv", args.sigma, args.seed) if args.input == "noisy" else bikes
        out = folder / "restored.mkv"
        exe = Path(sys.executable).with_name("restorekit")
        cmd = [str(exe), "restore", str(src), "-o", str(out), "--checkpoint", str(ckpt),
               "--chunk", str(args.chunk), "--context", str(args.context), "--no-progress"]
        print("$", " ".join(cmd), flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        wall = time.perf_counter() - t0
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mib, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime   # Linux: ru_maxrss in KiB
        print(proc.stderr.strip())
        if proc.returncode != 0: sys.exit(f"restorekit restore failed with exit code {proc.returncode}")
        fps = float(re.search(r"([\d.]+) frames per second", proc.stderr).group(1))
        frames = video_info(out).frames
        print(f"\nrestorekit restore on bikes ({args.input}, {frames} frames, chunk {args.chunk} + 2x{args.context} context): "
              f"peak RSS {peak_mib:.0f} MiB ({peak_mib / 1024:.2f} GiB, limit 2 GiB: {'OK' if peak_mib < 2048 else 'EXCEEDED'}), "
              f"{fps:.2f} frames per second (wall {wall:.0f} s incl. start-up; the child used {cpu:.0f} CPU s = "
              f"{frames / cpu:.2f} frames per CPU second, the figure that does not depend on the machine's load)")
        flops, peak, bound = compute_bound(ckpt, info.height, info.width, args.chunk, args.context)
        print(f"compute bound: {flops / 1e9:.2f} GFLOP per output frame at a 64->64 3x3 convolution's {peak / 1e9:.1f} GFLOP/s "
              f"per thread (measured now) = {bound:.2f} frames per CPU second; measured {frames / cpu:.2f}, "
              f"{bound / (frames / cpu):.1f}x below the bound; load average {os.getloadavg()[0]:.1f}")
        if args.input == "noisy":
            print(f"PSNR against bikes as shipped, mean over {frames} frames: noisy {mean_psnr(src, bikes):.2f} dB -> "
                  f"restored {mean_psnr(out, bikes):.2f} dB")


if __name__ == "__main__":
    main()
