"""Probe of training and inference options at the full default budget on the three clips of `bench_denoise_vs_nlm.py`
(144x176, AWGN sigma 30 seed 0, clipped, FFV1; the same noisy frames as the committed benchmarks/denoise_vs_bm3d.json):
`denoise_video(**--extra)` trains and writes its default output (`infer_window` 7, forward and reversed windows), then
the same model runs through `denoise_windows` with each other --windows. Printed per clip and window: PSNR, minus BM3D's
(committed file), the 8-pixel band and the 2-pixel ring minus the interior, and CPU seconds (this process) of training
and of each inference. The trained models stay in --dir (a second run with the same --extra reuses them). Writes --json."""
import argparse, json, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_vs_nlm import clip_windows, figures
import restorekit.denoise as dn
from restorekit.checkpoint import load_model
from restorekit.degrade import add_gaussian_noise
from restorekit.video import read_video, write_video

ap = argparse.ArgumentParser()
ap.add_argument("--clips", nargs="+", default=["cut", "short", "carphone"])
ap.add_argument("--extra", default="{}", help="JSON dict of denoise_video arguments")
ap.add_argument("--windows", nargs="*", type=int, default=[5], help="inference windows run on the trained model besides the default")
ap.add_argument("--dir", type=Path, required=True)
ap.add_argument("--json", type=Path, required=True)
args = ap.parse_args()
extra = json.loads(args.extra)
clips = clip_windows(16, 144, 176, 8)
bench = json.loads((Path(__file__).parent / "denoise_vs_bm3d.json").read_text())["clips"]
import inspect
report = {"steps": extra.get("steps", inspect.signature(dn.denoise_video).parameters["steps"].default), "extra": extra, "clips": {}}
for name in args.clips:
    clean = clips[name].mul(255).round().div(255)
    bm3d = bench[name]["methods"]["BM3D"]["psnr"]
    d = args.dir / name; d.mkdir(parents=True, exist_ok=True)
    write_video(add_gaussian_noise(clips[name], 30, seed=0, clip_range=True), d / "noisy.mkv", codec="ffv1")
    noisy = read_video(d / "noisy.mkv")
    row = report["clips"][name] = {"bm3d": bm3d}
    if not (d / "out.mkv.model.pt").exists():
        t0 = time.process_time()
        dn.denoise_video(d / "noisy.mkv", d / "out.mkv", progress=False, resume=False, **extra)
        row["train_and_default_cpu_s"] = time.process_time() - t0
    model = load_model(d / "out.mkv.model.pt").model
    outs = {"default": (read_video(d / "out.mkv"), None)}
    for w in args.windows:
        t0 = time.process_time()
        out = torch.cat(list(dn.denoise_windows(model, noisy.split(16), window=w)))
        outs[f"window {w}"] = (out, time.process_time() - t0)
    for label, (out, cpu) in outs.items():
        f = figures(out, clean, 4)
        row[label] = {"psnr": f["psnr"], "minus_bm3d": f["psnr"] - bm3d, "band_minus_interior": f["border_minus_interior"],
                      "ring_minus_interior": f["edge_minus_interior"], "frame_psnr": f["frame_psnr"], "cpu_s": cpu}
        print(f"{name:9s} {label:10s} PSNR {f['psnr']:.2f} - BM3D {f['psnr'] - bm3d:+.2f}  band {f['border_minus_interior']:+.2f}"
              f"  ring {f['edge_minus_interior']:+.2f}  train CPU {row.get('train_and_default_cpu_s', float('nan')):.0f} s"
              f"  inference CPU {cpu if cpu is not None else float('nan'):.0f} s", flush=True)
    args.json.write_text(json.dumps(report, indent=1))
