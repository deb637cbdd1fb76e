"""Training crops placed on the frame's edge more often: `denoise_video` at its defaults on a noisy clip kept by
`bench_denoise_vs_nlm.py --keep DIR` (DIR/CLIP/noisy.mkv), with `NoisyClipWindows` replaced by a version that, with
probability --edge-share, puts the crop on one of the four edges of the frame (drawn uniformly): along that axis its
start is drawn from the positions whose crop holds the frame's first (or last) row or column and the mirrored pixels
beyond it (the frames are reflect-padded by `train_pad`); the other coordinate and the other items are drawn as usual.
With uniform crops (48² in a 144x176 frame padded by 16) about 10-13 % of the crops hold a given edge.

Prints and writes (--json) the whole-clip PSNR, the 8-pixel band and the outermost 2-pixel ring minus the interior
(the benchmark's `figures`), and the training CPU seconds; the benchmark's own STBN row for the same clip, noise and
seed (--bench JSON) is the reference (same training seed, same noisy frames, uniform crops).

    python benchmarks/edge_crops_quick.py --noisy DIR/short/noisy.mkv --clip short --seed 1 --edge-share 0.5 \
        --bench benchmarks/denoise_vs_bm3d_seed1.json --json benchmarks/edge_crops_quick_short_seed1.json
"""
import argparse, inspect, json, sys, tempfile, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from bench_denoise_vs_nlm import clip_windows, figures
import restorekit.denoise as dn
from restorekit.core import make_generator
from restorekit.video import read_video


def edge_windows(share: float, pad: int):
    "A `NoisyClipWindows` whose crops sit on a frame edge with probability `share` (frames reflect-padded by `pad`)."
    class EdgeWindows(dn.NoisyClipWindows):
        def __getitem__(self, index: int) -> dict:
            item = super().__getitem__(index)
            g = make_generator(self.seed * 1_000_003 + index + 7_777_777)   # an extra stream: the uniform draw is unchanged
            if float(torch.rand((), generator=g)) >= share: return item
            side = int(torch.randint(4, (), generator=g))
            k = int(torch.randint(len(self.segments), (), generator=g)); seg = self.segments[k]
            t0 = int(torch.randint(seg.shape[0] - self.window + 1, (), generator=g))
            h, w, c = seg.shape[-2], seg.shape[-1], self.crop
            on_edge = lambda size: (int(torch.randint(pad + 1, (), generator=g)) if side % 2 == 0
                                    else size - c - int(torch.randint(pad + 1, (), generator=g)))
            anywhere = lambda size: int(torch.randint(size - c + 1, (), generator=g))
            top, left = (on_edge(h), anywhere(w)) if side < 2 else (anywhere(h), on_edge(w))
            box = (slice(t0, t0 + self.window), slice(None), slice(top, top + c), slice(left, left + c))
            out = {"noisy": seg[box]}
            if self.flows is not None:
                pairs = (slice(t0, t0 + self.window - 1),) + box[1:]
                out["flows_t_to_prev"], out["flows_t_to_next"] = (f[pairs] for f in self.flows[k])
            if self.time_flip and int(torch.randint(2, (), generator=g)):
                out = {"noisy": out["noisy"].flip(0)} | ({} if self.flows is None else
                       {"flows_t_to_prev": out["flows_t_to_next"].flip(0), "flows_t_to_next": out["flows_t_to_prev"].flip(0)})
            return out
    return EdgeWindows


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
    pad = inspect.signature(dn.denoise_video).parameters["train_pad"].default
    dn.NoisyClipWindows = edge_windows(args.edge_share, pad)
    budget = {} if args.steps is None else {"steps": args.steps}
    with tempfile.TemporaryDirectory(prefix="edge-crops-") as d:
        t0 = time.process_time()
        res = dn.denoise_video(args.noisy, Path(d) / "out.mkv", seed=args.seed, progress=False, **budget)
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
