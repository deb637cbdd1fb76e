"""Training crops placed on the frame's edge more often: `denoise_video` at its defaults on a noisy clip kept by
`bench_denoise_vs_nlm.py --keep DIR` (DIR/CLIP/noisy.mkv), except `edge_share` (--edge-share): that share of the
training crops is put on one of the four edges of the frame (drawn uniformly; `NoisyClipWindows(edge_share=...)`):
along that axis its start is drawn from the positions whose crop holds the frame's first (or last) row or column and
the mirrored pixels beyond it (the frames are reflect-padded by `train_pad`); the other items keep their uniform crop.
With uniform crops (48² in a 144x176 frame padded by 16) about 10-13 % of the crops hold a given edge.

Prints and writes (--json) the whole-clip PSNR, the 8-pixel band and the outermost 2-pixel ring minus the interior
(the benchmark's `figures`), and the training CPU seconds; the benchmark's own STBN row for the same clip, noise and
seed (--bench JSON) is the reference (same training seed, same noisy frames, uniform crops).

    python benchmarks/edge_crops_quick.py --noisy DIR/short/noisy.mkv --clip short --seed 1 --edge-share 0.5 \
        --bench benchmarks/denoise_vs_bm3d_uniform_crops_seed1.json --json benchmarks/edge_crops_quick_short_seed1.json
"""
import argparse, json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_vs_nlm import clip_windows, figures
import restorekit.denoise as dn
from restorekit.video import read_video


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noisy", type=Path, required=True, help="the benchmark's noisy clip (kept with --keep)")
    ap.add_argument("--clip", default="short", help="its name in the benchmark (for the clean frames)")
    ap.add_argument("--seed", type=int, default=1, help="training seed (the benchmark's --seed)")
    ap.add_argument("--edge-share", type=float, default=0.5, help="share of the crops put on a frame edge")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: denoise_video's)")
    ap.add_argument("--bench", type=Path, default=None, help="the benchmark JSON with the uniform-crop reference row")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if not 0 <= args.edge_share <= 1: ap.error(f"--edge-share: expected a share in [0, 1], got {args.edge_share}")
    clips = clip_windows(16, 144, 176, 8)
    if args.clip not in clips: ap.error(f"--clip: unknown {args.clip!r}; expected one of {sorted(clips)}")
    clean = clips[args.clip].mul(255).round().div(255)
    budget = {} if args.steps is None else {"steps": args.steps}
    with tempfile.TemporaryDirectory(prefix="edge-crops-") as d:
        t0 = time.process_time()
        dn.denoise_video(args.noisy, Path(d) / "out.mkv", seed=args.seed, edge_share=args.edge_share, progress=False, **budget)
        cpu = time.process_time() - t0
        out = read_video(Path(d) / "out.mkv")
    f = figures(out, clean, 4)
    report = {"clip": args.clip, "seed": args.seed, "edge_share": args.edge_share, "steps": args.steps, "cpu_s": cpu,
              "psnr": f["psnr"], "band_minus_interior": f["border_minus_interior"], "ring_minus_interior": f["edge_minus_interior"],
              "ring_side_minus_interior": f["ring_side_minus_interior"]}
    if args.bench:
        ref = json.loads(args.bench.read_text())["clips"][args.clip]["methods"]["STBN"]
        report["reference_uniform_crops"] = {"psnr": ref["psnr"], "band_minus_interior": ref["border_minus_interior"],
                                             "ring_minus_interior": ref["edge_minus_interior"]}
    print(json.dumps(report, indent=1))
    if args.json: args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
