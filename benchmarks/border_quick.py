"""Border band, short model: `denoise_video --steps 600` on the benchmark's `carphone` clip (16 frames, 144x176, AWGN
sigma 30 seed 0, clipped, FFV1), trained on the frames as they are or (--train-pad P) on frames reflect-padded by P pixels,
so that training crops also hold frame borders. The same-pixel border penalty: the trained model denoises the first 8
frames cropped by 16 pixels on every side; the PSNR of that crop's 8-pixel band minus the PSNR of the same pixels in the
full-frame output (where they lie 16-24 pixels inside). Also the whole-clip PSNR. Writes --json."""
import argparse, json, sys, tempfile, time
from pathlib import Path
import torch
import torch.nn.functional as F
sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_vs_nlm import clip_windows
import restorekit.denoise as dn
from restorekit.degrade import add_gaussian_noise
from restorekit.metrics import psnr
from restorekit.video import iter_video, read_video, write_video

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=600)
ap.add_argument("--train-pad", type=int, default=0)
ap.add_argument("--json", type=Path, required=True)
args = ap.parse_args()
M, B, T = 16, 8, 8
clean = clip_windows(16, 144, 176, 8)["carphone"]
d = Path(tempfile.gettempdir()) / f'restorekit-border-quick-pad{args.train_pad}'   # kept: a second run reuses the trained checkpoint
d.mkdir(exist_ok=True)
noisy = add_gaussian_noise(clean, 30, seed=0, clip_range=True)
write_video(noisy, Path(d) / "noisy.mkv", codec="ffv1")
noisy = read_video(Path(d) / "noisy.mkv")
t0 = time.process_time()
res = dn.denoise_video(Path(d) / "noisy.mkv", Path(d) / "out.mkv", steps=args.steps, train_pad=args.train_pad, progress=False)
cpu = time.process_time() - t0
full = read_video(Path(d) / "out.mkv")
crop = torch.cat(list(dn.denoise_windows(res.model, noisy[:T, :, M:-M, M:-M].split(16), 7, 16))).mul(255).round().div(255)
band = torch.ones(crop.shape[-2:], dtype=torch.bool); band[B:-B, B:-B] = False
same = full[:T, :, M:-M, M:-M]
ref = clean[:T, :, M:-M, M:-M]
p = lambda x: -10 * torch.log10((x - ref).square().mean(1)[:, band].mean()).item()
full_band = torch.ones(clean.shape[-2:], dtype=torch.bool); full_band[B:-B, B:-B] = False
q = lambda m: -10 * torch.log10((full - clean).square().mean(1)[:, m].mean()).item()
out = {"steps": args.steps, "train_pad": args.train_pad, "cpu_s": cpu, "psnr": psnr(full, clean).item(),
       "edge_penalty": p(crop) - p(same), "band_minus_interior": q(full_band) - q(~full_band)}
json.dump(out, open(args.json, "w"), indent=1)
print(out)
