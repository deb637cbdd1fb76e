"""Inference options on the models `benchmarks/reverse_quick.py` trained (its --dir): each --runs entry
"window,tta,ends" runs `denoise_windows` on the same noisy frames (144x176, AWGN sigma 30 seed 0, clipped, FFV1).
Printed per clip and option: PSNR, minus BM3D's (committed benchmarks/denoise_vs_bm3d.json), the 8-pixel band and the
2-pixel ring minus the interior, CPU seconds (this process) of the inference. Writes --json."""
import argparse, json, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_vs_nlm import clip_windows, figures
import restorekit.denoise as dn
from restorekit.checkpoint import load_model
from restorekit.video import read_video

ap = argparse.ArgumentParser()
ap.add_argument("--clips", nargs="+", default=["cut", "short", "carphone"])
ap.add_argument("--runs", nargs="+", default=["7,1,shift", "5,1,shift", "5,2,shift", "5,4,shift"])
ap.add_argument("--dir", type=Path, required=True)
ap.add_argument("--json", type=Path, required=True)
args = ap.parse_args()
clips = clip_windows(16, 144, 176, 8)
bench = json.loads((Path(__file__).parent / "denoise_vs_bm3d.json").read_text())["clips"]
report = {"dir": str(args.dir), "clips": {}}
for name in args.clips:
    clean = clips[name].mul(255).round().div(255)
    bm3d = bench[name]["methods"]["BM3D"]["psnr"]
    noisy = read_video(args.dir / name / "noisy.mkv")
    model = load_model(args.dir / name / "out.mkv.model.pt").model
    row = report["clips"][name] = {"bm3d": bm3d}
    for spec in args.runs:
        w, tta, ends = spec.split(","); t0 = time.process_time()
        out = torch.cat(list(dn.denoise_windows(model, noisy.split(16), window=int(w), tta=int(tta), ends=ends)))
        cpu = time.process_time() - t0
        f = figures(out, clean, 4)
        row[spec] = {"psnr": f["psnr"], "minus_bm3d": f["psnr"] - bm3d, "band_minus_interior": f["border_minus_interior"],
                     "ring_minus_interior": f["edge_minus_interior"], "frame_psnr": f["frame_psnr"], "cpu_s": cpu}
        print(f"{name:9s} window {w} tta {tta} {ends:6s} PSNR {f['psnr']:.2f} - BM3D {f['psnr'] - bm3d:+.2f}  band {f['border_minus_interior']:+.2f}"
              f"  ring {f['edge_minus_interior']:+.2f}  CPU {cpu:.0f} s", flush=True)
        args.json.write_text(json.dumps(report, indent=1))
