"""Train the prior that `restorekit denoise` starts from, on photographs that ship in installed wheels — no downloads.

The model is `restorekit.denoise`'s own STBN (`_model_config`: DIS flow, Gaussian NLL with a full colour covariance,
`--channels` wide). Every training item is a `--window`-frame clip of `--crop`² pixels cut from one of
`restorekit.synthetic.PHOTOS` (scikit-image, matplotlib and scikit-learn sample images; randomly mirrored and
downscaled by 1-2x) by a window that moves by a whole number of pixels per frame (uniform in ±`--max-speed` px per
frame along each axis), so that every frame is a real photograph crop and the motion is known to be a translation.
Each step draws one noise σ uniformly in `--sigma` (0-255), adds clipped Gaussian noise, rounds to 8 bits (what a
video file holds) and estimates the flows on the noisy frames as `denoise_video` does. Because the clean frames are
known, the prior is fitted to them: the loss is the negative log-likelihood of the clean colour vector under the
blind-spot prior N(μ, Σ_p) (`gaussian_nll_full_loss` with σ = 0), the conditional law of a clean pixel given the
others that the posterior mean (`posterior_mean_full`) needs; on the user's clip `denoise_video` then continues
with the self-supervised NLL, whose optimum is the same prior. Adam, cosine schedule to lr/20, gradient clip 1.

`--init` continues from a file this script wrote (its recipe and CPU seconds are carried into the new file);
`--zoom Z` magnifies half the clips by 1-Z (bicubic), which gives the prior the smooth content video often has and
the photographs lack. The shipped file is three runs, each continuing the last:

    OMP_NUM_THREADS=1 python tools/train_denoise_prior.py --steps 1500 --out /tmp/prior1.pt
    OMP_NUM_THREADS=1 python tools/train_denoise_prior.py --init /tmp/prior1.pt --steps 1000 --lr 1.5e-3 --seed 1 --out /tmp/prior2.pt
    OMP_NUM_THREADS=1 python tools/train_denoise_prior.py --init /tmp/prior2.pt --steps 1000 --lr 1.5e-3 --seed 2 --zoom 4
                                                                      # the last writes restorekit/weights/denoise_prior.pt
"""
import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from restorekit.core import make_generator
from restorekit.denoise import PRIOR_PATH, _model_config
from restorekit.stbn import STBN, gaussian_nll_full_loss
from restorekit.synthetic import PHOTOS, photo


def moving_crop(g: torch.Generator, images: list, window: int, crop: int, max_speed: int, zoom: float = 0.0) -> torch.Tensor:
    "A `(window, 3, crop, crop)` clip: a crop of a random photo whose window moves by a whole number of pixels per frame."
    pick = lambda hi: int(torch.randint(hi, (), generator=g))
    img = images[pick(len(images))]
    if zoom > 1 and pick(2):                                             # half the clips: magnified 1-`zoom`x, smooth like defocused footage
        vy, vx = pick(2 * max_speed + 1) - max_speed, pick(2 * max_speed + 1) - max_speed
        span_y, span_x = crop + abs(vy) * (window - 1), crop + abs(vx) * (window - 1)
        factor = 1 + (zoom - 1) * float(torch.rand((), generator=g))
        h, w = math.ceil(span_y / factor) + 2, math.ceil(span_x / factor) + 2   # the part of the photo that covers the span once magnified
        top, left = pick(img.shape[-2] - h + 1), pick(img.shape[-1] - w + 1)
        img = F.interpolate(img[None, :, top:top + h, left:left + w], size=(math.ceil(h * factor), math.ceil(w * factor)),
                            mode="bicubic", align_corners=False)[0].clamp(0, 1)
        if pick(2): img = img.flip(-1)
    else:                                                                # (the draws of a run without --zoom, in their order)
        scale = 1 + float(torch.rand((), generator=g))                  # downscale 1-2x: several sizes of texture
        if scale > 1.05:
            img = F.interpolate(img[None], scale_factor=1 / scale, mode="bilinear", antialias=True, align_corners=False)[0]
        if pick(2): img = img.flip(-1)
        vy, vx = pick(2 * max_speed + 1) - max_speed, pick(2 * max_speed + 1) - max_speed
        span_y, span_x = crop + abs(vy) * (window - 1), crop + abs(vx) * (window - 1)
    top, left = pick(img.shape[-2] - span_y + 1), pick(img.shape[-1] - span_x + 1)
    y0, x0 = top + (abs(vy) * (window - 1) if vy < 0 else 0), left + (abs(vx) * (window - 1) if vx < 0 else 0)
    return torch.stack([img[:, y0 + vy * t:y0 + vy * t + crop, x0 + vx * t:x0 + vx * t + crop] for t in range(window)])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--crop", type=int, default=48)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--sigma", type=float, nargs=2, default=(5.0, 50.0), help="range of the noise σ, 0-255")
    ap.add_argument("--max-speed", type=int, default=3, help="px per frame along each axis")
    ap.add_argument("--zoom", type=float, default=0.0, help="> 1: half the clips are magnified by 1 to this factor (smooth content); 0: none")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", type=Path, default=None, help="continue from this prior's weights (a file this script wrote) instead of random ones")
    ap.add_argument("--out", type=Path, default=PRIOR_PATH)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    images = [photo(name) for name in PHOTOS]
    cfg = _model_config(args.channels, 30.0)
    torch.manual_seed(args.seed)
    model = STBN(cfg).train()
    before, cpu_before = [], 0.0                                         # the recipes and CPU seconds of the runs this one continues
    if args.init is not None:
        start = torch.load(args.init, map_location="cpu", weights_only=True)
        if {k: v for k, v in start["config"].items() if k != "noise_sigma"} != {k: v for k, v in cfg.to_dict().items() if k != "noise_sigma"}:
            sys.exit(f"--init {args.init}: trained for another configuration than --channels {args.channels}")
        model.load_state_dict(start["state_dict"])
        before, cpu_before = start.get("continues", []) + [start["recipe"]], start["cpu_s"]
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    g = make_generator(args.seed)
    cpu0, losses = time.process_time(), []
    for step in range(args.steps):
        lr = args.lr / 20 + (args.lr - args.lr / 20) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in opt.param_groups: group["lr"] = lr
        clean = torch.stack([moving_crop(g, images, args.window, args.crop, args.max_speed, args.zoom) for _ in range(args.batch)])
        sigma = args.sigma[0] + (args.sigma[1] - args.sigma[0]) * float(torch.rand((), generator=g))
        noisy = (clean + sigma / 255 * torch.randn(clean.shape, generator=g)).clamp(0, 1).mul(255).round().div(255)
        with torch.no_grad(): flows = model.estimate_flows(noisy)
        mean, scale_tril = model.prior(noisy, *flows)
        loss = gaussian_nll_full_loss(mean, scale_tril, clean, 0.0)
        opt.zero_grad(); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
        losses.append(loss.item())
        if (step + 1) % 200 == 0:
            print(f"step {step + 1}: loss {sum(losses[-200:]) / 200:+.4f}, lr {lr:.2e}, CPU {time.process_time() - cpu0:.0f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    recipe = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items() if k not in ("out", "init")}
    torch.save({"state_dict": state, "config": cfg.to_dict(), "recipe": recipe, "photos": list(PHOTOS), "continues": before,
                "cpu_s": time.process_time() - cpu0 + cpu_before, "final_loss": sum(losses[-200:]) / min(200, len(losses))}, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB), CPU {time.process_time() - cpu0:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
