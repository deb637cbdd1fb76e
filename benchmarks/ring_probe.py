"""Why the outer ring of the short clip is worse than its interior: a trained `restorekit denoise` model (the
`stbn.mkv.model.pt` that `bench_denoise_vs_nlm.py --keep DIR` keeps) run on the benchmark's `short` window
(Big Buck Bunny frames 40-47, rows 288-431, columns 552-727) in four ways, all on one noise field (AWGN sigma 30,
--seed, clipped, rounded to 8 bits) drawn over the window grown by --context pixels on every side:

* `window, mirrored`: the window alone, as `restorekit denoise` sees it (reflect-padded by 16 pixels at inference),
  and (7-frame calls only) the same with a 48-pixel mirror, which moves the convolutions' zero padding further out;
* `window + real context`: the grown window, so the model sees the real pixels (and real motion) beyond the window's
  edges, then cropped back to the window: what the ring can reach when the information beyond the edge exists;
* the same two with a one-frame call (`infer_window=1`: no temporal neighbour at all), to split the ring's loss into
  the spatial part (a blind-spot prediction from half a neighbourhood) and the temporal part (neighbours warped along
  flows that leave the frame);
* optionally (--bm3d) per-frame BM3D on the window and on the grown window (true sigma), as the classical reference.

Every figure is measured on the same 144x176 window pixels against the clean window (8-bit): PSNR, the 8-pixel band
minus the interior, the outermost 2-pixel ring minus the interior, and that ring per side. Also, for the mirrored run,
the fraction of ring pixels whose flow to a neighbour frame (the model's own flow net on the mirrored frames) lands
outside the window, and the ring's PSNR on those pixels and on the others (minus the interior). Prints CPU seconds.

    python benchmarks/ring_probe.py --model DIR/short/stbn.mkv.model.pt --seed 1 --json benchmarks/ring_probe_seed1.json
"""
import argparse, json, sys, time
from pathlib import Path
import torch
import torch.nn.functional as F
from restorekit.checkpoint import load_model
from restorekit.degrade import add_gaussian_noise
from restorekit.denoise import denoise_windows
from restorekit.metrics import psnr
from restorekit.video import sample_clip

BAND, RING, TOP, LEFT, H, W, START, T = 8, 2, 288, 552, 144, 176, 40, 8


def ring_mask(width: int) -> torch.Tensor:
    m = torch.ones(H, W, dtype=torch.bool); m[width:H - width, width:W - width] = False
    return m


def p(mse) -> float: return float(-10 * torch.log10(mse.clamp_min(1e-12)))


def figures(out: torch.Tensor, clean: torch.Tensor) -> dict:
    sq = (out.mul(255).round().div(255) - clean).square().mean(dim=(0, 1))
    interior = p(sq[~ring_mask(BAND)].mean())
    sides = {"top": sq[:RING], "bottom": sq[-RING:], "left": sq[:, :RING], "right": sq[:, -RING:]}
    return {"psnr": psnr(out.mul(255).round().div(255), clean).item(), "interior": interior,
            "band_minus_interior": p(sq[ring_mask(BAND)].mean()) - interior,
            "ring_minus_interior": p(sq[ring_mask(RING)].mean()) - interior,
            "ring_side_minus_interior": {k: p(v.mean()) - interior for k, v in sides.items()}}


def outside_flow_split(model, noisy: torch.Tensor, out: torch.Tensor, clean: torch.Tensor, pad: int = 16) -> dict:
    "Ring pixels of frames 1..T-2 whose flow to the previous or next frame (model's flow net, mirrored frames) leaves the window."
    padded = F.pad(noisy, (pad,) * 4, mode="reflect")
    with torch.no_grad():
        to_prev, to_next = (f[0][..., pad:-pad, pad:-pad] for f in model.estimate_flows(padded[None]))
    ys, xs = torch.meshgrid(torch.arange(H, dtype=torch.float32), torch.arange(W, dtype=torch.float32), indexing="ij")
    def leaves(f):   # (T-1, 2, H, W) -> (T-1, H, W): the nearest sample lies outside the window
        x, y = (xs + f[:, 0]).round(), (ys + f[:, 1]).round()
        return (x < 0) | (x > W - 1) | (y < 0) | (y > H - 1)
    out_any = torch.zeros(T, H, W, dtype=torch.bool)
    out_any[1:] |= leaves(to_prev); out_any[:-1] |= leaves(to_next)
    sq = (out.mul(255).round().div(255) - clean).square().mean(dim=1)          # (T, H, W)
    interior = p(sq[:, ~ring_mask(BAND)].mean())
    ring = ring_mask(RING).expand(T, H, W)
    leave, stay = ring & out_any, ring & ~out_any
    return {"ring_fraction_flow_leaves": float(leave.sum() / ring.sum()),
            "ring_flow_leaves_minus_interior": p(sq[leave].mean()) - interior if leave.any() else None,
            "ring_flow_stays_minus_interior": p(sq[stay].mean()) - interior if stay.any() else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="a `restorekit denoise` model (.model.pt) trained on the short clip")
    ap.add_argument("--seed", type=int, default=1, help="noise seed")
    ap.add_argument("--context", type=int, default=32, help="real pixels around the window (a multiple of 8)")
    ap.add_argument("--bm3d", action="store_true", help="also per-frame BM3D with and without the context")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.context <= 0 or args.context % 8: ap.error(f"--context: expected a positive multiple of 8, got {args.context}")
    m = args.context
    model = load_model(args.model, expected_kind="stbn").model
    big = sample_clip("bigbuckbunny", START, START + T)[..., TOP - m:TOP + H + m, LEFT - m:LEFT + W + m]
    noisy_big = add_gaussian_noise(big, 30, seed=args.seed, clip_range=True).mul(255).round().div(255)
    clean = big[..., m:-m, m:-m].mul(255).round().div(255)
    noisy = noisy_big[..., m:-m, m:-m]
    crop = lambda x: x[..., m:-m, m:-m]
    runs = {"window, mirrored": lambda w: torch.cat(list(denoise_windows(model, noisy.split(16), w))),
            "window + real context": lambda w: crop(torch.cat(list(denoise_windows(model, noisy_big.split(16), w))))}
    report = {"model": str(args.model), "seed": args.seed, "context": m, "runs": {}}
    for infer_window in (7, 1):
        for name, run in runs.items():
            t0 = time.process_time(); out = run(infer_window); cpu = time.process_time() - t0
            key = f"{name}, infer_window {infer_window}"
            report["runs"][key] = figures(out, clean) | {"cpu_s": cpu}
            if name == "window, mirrored" and infer_window == 7:
                report["runs"][key] |= outside_flow_split(model, noisy, out, clean)
            print(key, json.dumps(report["runs"][key]), flush=True)
    t0 = time.process_time(); out = torch.cat(list(denoise_windows(model, noisy.split(16), 7, 48))); cpu = time.process_time() - t0
    report["runs"]["window, mirrored by 48, infer_window 7"] = figures(out, clean) | {"cpu_s": cpu}
    print("window, mirrored by 48, infer_window 7", json.dumps(report["runs"]["window, mirrored by 48, infer_window 7"]), flush=True)
    if args.bm3d:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_denoise_vs_nlm import bm3d_per_frame
        for name, x, post in (("BM3D window", noisy, lambda o: o), ("BM3D window + real context", noisy_big, crop)):
            t0 = time.process_time(); out = post(bm3d_per_frame(x, 30.0)); cpu = time.process_time() - t0
            report["runs"][name] = figures(out, clean) | {"cpu_s": cpu}
            print(name, json.dumps(report["runs"][name]), flush=True)
    if args.json: args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
