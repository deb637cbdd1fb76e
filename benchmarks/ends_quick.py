"""Quick probe of inference choices and of the prior on short models: for each clip of `bench_denoise_vs_nlm.py`
(144x176, AWGN sigma 30 seed 0, clipped, FFV1; the same noisy frames as benchmarks/denoise_vs_bm3d.json), first the
prior alone (`load_prior`, no step on the clip) for each --priors file, then `denoise_video(steps=--steps)` from the
first of them, whose model runs through `denoise_windows` with `ends="shift"` and `ends="mirror"` and with
`tta` 1 and 2. Printed: PSNR (mean over frames), minus BM3D's (committed file), the per-frame gaps at the shot ends,
the 8-pixel band minus the interior, and CPU seconds (this process) of training and of each inference. Writes --json."""
import argparse, json, sys, tempfile, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_vs_nlm import clip_windows, figures
import restorekit.denoise as dn
from restorekit.degrade import add_gaussian_noise
from restorekit.stbn import STBN
from restorekit.video import read_video, write_video

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=600)
ap.add_argument("--clips", nargs="+", default=["short", "cut"])
ap.add_argument("--train", nargs="*", default=None, help="clips to train on (default: every clip; the others get the priors alone)")
ap.add_argument("--priors", nargs="+", type=Path, default=[dn.PRIOR_PATH])
ap.add_argument("--runs", nargs="+", default=["shift,1", "mirror,1", "mirror,2"], help="ends,tta pairs run on the trained model")
ap.add_argument("--json", type=Path, required=True)
args = ap.parse_args()
clips = clip_windows(16, 144, 176, 8)
bench = json.loads((Path(__file__).parent / "denoise_vs_bm3d.json").read_text())["clips"]
report = {"steps": args.steps, "priors": [str(p) for p in args.priors], "clips": {}}

def show(name, label, out, clean, bm3d, cpu):
    f = figures(out, clean, 4)
    gap = [a - b for a, b in zip(f["frame_psnr"], bm3d.get("frame_psnr", [float("nan")] * len(f["frame_psnr"])))]   # carphone's committed row has none
    print(f"{name:8s} {label:28s} PSNR {f['psnr']:.2f}  - BM3D {f['psnr'] - bm3d['psnr']:+.2f}  frames 0/-1 {gap[0]:+.2f} {gap[-1]:+.2f}"
          f"  band {f['border_minus_interior']:+.2f}  CPU {cpu:.0f} s", flush=True)
    return {"psnr": f["psnr"], "minus_bm3d": f["psnr"] - bm3d["psnr"], "frame_minus_bm3d": gap, "band_minus_interior": f["border_minus_interior"], "cpu_s": cpu}

for name in args.clips:
    clean = clips[name].mul(255).round().div(255)
    bm3d = bench[name]["methods"]["BM3D"]
    d = Path(tempfile.mkdtemp(prefix=f"restorekit-ends-quick-{name}-"))
    write_video(add_gaussian_noise(clips[name], 30, seed=0, clip_range=True), d / "noisy.mkv", codec="ffv1")
    noisy = read_video(d / "noisy.mkv")
    sigma = dn.estimate_noise_sigma(noisy, clip_aware=True)
    row = report["clips"][name] = {}
    for k, prior in enumerate(args.priors):
        model = STBN(dn._model_config(16, sigma)); assert dn.load_prior(model, prior)
        t0 = time.process_time()
        out = torch.cat(list(dn.denoise_windows(model, noisy.split(16))))
        row[f"prior {k} alone"] = show(name, f"prior {k} alone", out, clean, bm3d, time.process_time() - t0)
    if args.train is not None and name not in args.train:
        args.json.write_text(json.dumps(report, indent=1)); continue
    orig = dn.load_prior
    dn.load_prior = lambda model, path=args.priors[0]: orig(model, path)
    t0 = time.process_time()
    res = dn.denoise_video(d / "noisy.mkv", d / "out.mkv", steps=args.steps, progress=False, resume=False)
    train_cpu = time.process_time() - t0
    dn.load_prior = orig
    row["train_cpu_s"] = train_cpu
    for spec in args.runs:
        ends, tta = spec.split(","); t0 = time.process_time()
        out = torch.cat(list(dn.denoise_windows(res.model, noisy.split(16), ends=ends, tta=int(tta))))
        row[spec] = show(name, f"{args.steps} steps, {ends} tta {tta}", out, clean, bm3d, time.process_time() - t0)
    args.json.write_text(json.dumps(report, indent=1))
print("train CPU s:", {n: round(r["train_cpu_s"]) for n, r in report["clips"].items() if "train_cpu_s" in r})
