"""Quick probe of denoising options on short models: `denoise_video(steps=N)` on benchmark clips (144x176, AWGN sigma 30
seed 0, clipped, FFV1, as `bench_denoise_vs_nlm.py` makes them) for each --loss ("nll": per-channel variance, "nll_full":
full colour covariance), then inference under each of the 8 symmetries of the square (`dihedral`, the frames turned before
`denoise_windows` and back after); PSNR of the average over the first 1, 2, 4, 8 against the clean clip, the 8-px band
minus interior, and BM3D's PSNR from the committed benchmarks/denoise_vs_bm3d.json (same noisy frames). CPU seconds
(this process) of training and of each inference. Writes --json."""
import argparse, dataclasses, json, sys, tempfile, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_vs_nlm import BAND, clip_windows
import restorekit.denoise as dn
from restorekit.degrade import add_gaussian_noise
from restorekit.metrics import psnr
from restorekit.video import read_video, write_video

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=600)
ap.add_argument("--clips", nargs="+", default=["carphone", "cut"])
ap.add_argument("--loss", nargs="+", default=["nll", "nll_full"])
ap.add_argument("--tta", type=int, default=8, help="symmetries evaluated (averages over the first 1, 2, 4, 8 of them)")
ap.add_argument("--extra", default="{}", help="JSON dict of extra denoise_video arguments")
ap.add_argument("--json", type=Path, required=True)
args = ap.parse_args()
clips = clip_windows(16, 144, 176, 8)
bench = json.loads((Path(__file__).parent / "denoise_vs_bm3d.json").read_text())["clips"]
base_config = dn._model_config
report = {"steps": args.steps, "extra": json.loads(args.extra), "runs": {}}
for name in args.clips:
    clean = clips[name].mul(255).round().div(255)
    bm3d = bench[name]["methods"]["BM3D"]["psnr"]
    for loss in args.loss:
        d = Path(tempfile.gettempdir()) / f"restorekit-denoise-quick-{name}-{loss}-{args.steps}"
        d.mkdir(exist_ok=True)
        write_video(add_gaussian_noise(clips[name], 30, seed=0, clip_range=True), d / "noisy.mkv", codec="ffv1")
        noisy = read_video(d / "noisy.mkv")
        dn._model_config = lambda channels, sigma, loss=loss: dataclasses.replace(base_config(channels, sigma), loss=loss)
        t0 = time.process_time()
        res = dn.denoise_video(d / "noisy.mkv", d / "out.mkv", steps=args.steps, progress=False, resume=False, **report["extra"])
        train_cpu = time.process_time() - t0
        outs, row = [], {"train_cpu_s": train_cpu, "bm3d": bm3d, "tta": {}}
        for k in range(args.tta):
            t0 = time.process_time()
            turned = dn.dihedral(noisy, k)
            out = dn.dihedral(torch.cat(list(dn.denoise_windows(res.model, turned.split(16)))), k, inverse=True)
            outs.append(out); cpu = time.process_time() - t0
            if k + 1 in (1, 2, 4, 8):
                avg = torch.stack(outs).mean(0).mul(255).round().div(255)
                sq = (avg - clean).square().mean(dim=(0, 1)); band = torch.ones_like(sq, dtype=torch.bool); band[BAND:-BAND, BAND:-BAND] = False
                b = (10 * torch.log10(1 / sq[~band].mean()) - 10 * torch.log10(1 / sq[band].mean())).item()
                row["tta"][k + 1] = {"psnr": psnr(avg, clean).item(), "minus_bm3d": psnr(avg, clean).item() - bm3d, "band_minus_interior": -b}
                print(f"{name:9s} {loss:9s} tta {k + 1}: PSNR {row['tta'][k + 1]['psnr']:.2f} (BM3D {bm3d:.2f}, {row['tta'][k + 1]['minus_bm3d']:+.2f})"
                      f" band-interior {-b:+.2f}  train CPU {train_cpu:.0f} s, one inference {cpu:.1f} s", flush=True)
        report["runs"][f"{name}/{loss}"] = row
        args.json.write_text(json.dumps(report, indent=1))
