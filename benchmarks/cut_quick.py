"""Scene cut, short model: `denoise_video(steps=600, train_pad=0)` on the benchmark's `cut` clip (carphone 8 frames, then bikes 8
frames, 144x176, AWGN sigma 30 seed 0, clipped, FFV1), the trained model then run through `denoise_windows` with and
without shot cuts (`cut_threshold=None`); per-frame PSNR against the clean clip and against the committed BM3D
figures of benchmarks/denoise_vs_bm3d.json (same noisy frames). `--no-split` also trains across the cut.
Writes benchmarks/cut_quick.json (or --json)."""
import argparse, json, sys, tempfile, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_vs_nlm import clip_windows
import restorekit.denoise as dn
from restorekit.degrade import add_gaussian_noise
from restorekit.metrics import psnr
from restorekit.video import iter_video, read_video, write_video

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=600)
ap.add_argument("--no-split", action="store_true", help="train on segments that span the cut")
ap.add_argument("--json", type=Path, default=Path(__file__).parent / "cut_quick.json")
args = ap.parse_args()
clean = clip_windows(16, 144, 176, 8)["cut"]
bm3d = json.loads((Path(__file__).parent / "denoise_vs_bm3d.json").read_text())["clips"]["cut"]["methods"]["BM3D"]["frame_psnr"]
if args.no_split: dn._shot_segments = lambda segments, window: (segments, window)
d = Path(tempfile.gettempdir()) / ('restorekit-cut-quick-' + ('nosplit' if args.no_split else 'split'))   # kept: a second run reuses the trained checkpoint
d.mkdir(exist_ok=True)
write_video(add_gaussian_noise(clean, 30, seed=0, clip_range=True), Path(d) / "noisy.mkv", codec="ffv1")
t0 = time.process_time()
res = dn.denoise_video(Path(d) / "noisy.mkv", Path(d) / "out.mkv", steps=args.steps, train_pad=0, progress=False)
cpu = time.process_time() - t0
out = {}
for name, thr in (("windows across the cut", None), ("windows inside shots", dn.SHOT_CUT)):
    den = torch.cat(list(dn.denoise_windows(res.model, iter_video(Path(d) / "noisy.mkv", chunk_size=16), 7, 16, cut_threshold=thr)))
    den = den.mul(255).round().div(255)
    fp = [psnr(den[t:t + 1], clean[t:t + 1]).item() for t in range(len(clean))]
    out[name] = {"psnr": psnr(den, clean).item(), "frame_psnr": fp, "minus_bm3d": [a - b for a, b in zip(fp, bm3d)]}
    g = torch.tensor(out[name]["minus_bm3d"])
    print(f"{name:24s} PSNR {out[name]['psnr']:.2f}  beside the cut vs BM3D {g[7]:+.2f} {g[8]:+.2f}  median {g.median():+.2f}  frames 7,8: {fp[7]:.2f} {fp[8]:.2f}")
json.dump({"steps": args.steps, "train_split_at_cuts": not args.no_split, "cpu_s": cpu, "sigma": res.noise_sigma, "runs": out},
          open(args.json, "w"), indent=1)
print(f"CPU s (train + first inference) {cpu:.0f}")
