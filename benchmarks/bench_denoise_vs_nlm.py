"""`restorekit denoise` (STBN trained on the clip itself, default budget) vs scikit-image non-local means per frame.

A real clip (default: the first 64 frames of `carphone_pristine`, 176x144) gets seeded AWGN with
sigma = 30 (0-255), clipped to [0, 1] and stored losslessly (FFV1) in a temporary directory. Then:

* STBN: the command-line tool with its defaults, `restorekit denoise noisy.mkv -o stbn.mkv`
  (sigma is estimated from the video; output lossless), run as a subprocess and timed.
* NLM: `skimage.restoration.denoise_nl_means(frame, h=k*sigma, sigma=sigma, patch_size=5,
  patch_distance=6, fast_mode=True, channel_axis=-1)` on every RGB frame (float64 in [0, 1],
  sigma = 30/255, the true noise level), for k in --nlm-h (default 0.6 and 0.8; 0.8 is
  scikit-image's suggestion for fast_mode). The best k is chosen with the clean clip, which favours NLM.

PSNR is over the whole clip (RGB, [0, 1], restorekit.metrics.psnr). Wall times are measured
around the subprocess and around the NLM loop. Usage:

    python benchmarks/bench_denoise_vs_nlm.py [--clip carphone_pristine] [--frames 64] [--box Y,X,SIZE]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from skimage.restoration import denoise_nl_means

from restorekit.degrade import add_gaussian_noise
from restorekit.metrics import psnr
from restorekit.video import read_video, sample_clip, write_video


def nlm_per_frame(noisy: torch.Tensor, sigma: float, h_factor: float) -> torch.Tensor:
    "scikit-image NLM on each `(3, H, W)` frame of `noisy` `(T, 3, H, W)`; sigma on the 0-255 scale."
    s = sigma / 255
    out = [denoise_nl_means(f.permute(1, 2, 0).double().numpy(), h=h_factor * s, sigma=s, patch_size=5,
                            patch_distance=6, fast_mode=True, channel_axis=-1) for f in noisy]
    return torch.stack([torch.from_numpy(o).permute(2, 0, 1).float() for o in out])


def load_avg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default="carphone_pristine", help="restorekit sample clip")
    ap.add_argument("--frames", type=int, default=64, help="frames from the start of the clip")
    ap.add_argument("--box", default="", help="crop Y,X,SIZE (default: whole frame)")
    ap.add_argument("--sigma", type=float, default=30.0, help="AWGN sigma, 0-255")
    ap.add_argument("--seed", type=int, default=0, help="noise seed")
    ap.add_argument("--nlm-h", type=float, nargs="+", default=[0.6, 0.8], help="NLM h as multiples of sigma")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="extra arguments for `restorekit denoise`")
    args = ap.parse_args(argv)

    clean = sample_clip(args.clip, 0, args.frames)
    if args.box:
        y, x, size = map(int, args.box.split(","))
        clean = clean[..., y:y + size, x:x + size]
    with tempfile.TemporaryDirectory(prefix="bench-denoise-") as d:
        noisy_path, out_path = Path(d) / "noisy.mkv", Path(d) / "stbn.mkv"
        write_video(add_gaussian_noise(clean, args.sigma, seed=args.seed, clip_range=True), noisy_path, codec="ffv1")
        noisy = read_video(noisy_path)                       # exactly what the denoiser reads (8-bit)
        print(f"clip {args.clip} frames 0-{args.frames - 1} {tuple(clean.shape)}, AWGN sigma {args.sigma:g} seed {args.seed}; "
              f"torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
              f"cpus {os.cpu_count()}; load average before: {load_avg()}", flush=True)

        cmd = [sys.executable, "-c", "import sys; from restorekit.cli import main; sys.exit(main())", "denoise", str(noisy_path), "-o", str(out_path), *args.extra]
        print("$ restorekit denoise noisy.mkv -o stbn.mkv " + " ".join(args.extra), flush=True)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        t_stbn = time.perf_counter() - t0
        load_stbn = load_avg()
        stbn = read_video(out_path)

        nlm_scores, t_nlm = {}, {}
        for k in args.nlm_h:
            t0 = time.perf_counter()
            nlm_scores[k] = psnr(nlm_per_frame(noisy, args.sigma, k), clean).item()
            t_nlm[k] = time.perf_counter() - t0
        best = max(nlm_scores, key=nlm_scores.get)

    p_noisy, p_stbn = psnr(noisy, clean).item(), psnr(stbn, clean).item()
    print(f"PSNR noisy               {p_noisy:6.2f} dB")
    for k in args.nlm_h:
        print(f"PSNR NLM h={k:.1f}sigma      {nlm_scores[k]:6.2f} dB   wall {t_nlm[k]:6.1f} s" + ("   (best NLM)" if k == best else ""))
    print(f"PSNR STBN (defaults)     {p_stbn:6.2f} dB   wall {t_stbn:6.1f} s (training + inference + I/O; load average at its end {load_stbn})")
    print(f"STBN - best NLM: {p_stbn - nlm_scores[best]:+.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
