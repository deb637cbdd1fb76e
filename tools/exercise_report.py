"""Run every exercise checker against a correct answer and against two typical mistakes, and print
what the checker says to each — the evidence that the checkers accept right answers and name wrong ones.

    OMP_NUM_THREADS=1 python tools/exercise_report.py            # all exercises
    OMP_NUM_THREADS=1 python tools/exercise_report.py --seed 7   # implementation checks on other random inputs

The correct implementations are the worked solutions of nbs/99_solutions.ipynb (written without the
library function they are checked against); the mistakes below are written here from those solutions,
each the slip a student typically makes. Exit status 1 if any correct answer is rejected or any
mistake is accepted.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]


def solutions() -> dict:
    "The `student_*` functions defined by the solutions page's code cells."
    ns: dict = {}
    cells = json.loads((ROOT / "nbs" / "99_solutions.ipynb").read_text())["cells"]
    with contextlib.redirect_stdout(io.StringIO()):
        for c in cells:
            if c["cell_type"] == "code": exec("".join(c["source"]), ns)
    return {k: v for k, v in ns.items() if k.startswith("student_")}


def impl_cases(s: dict) -> dict:
    "key -> (correct function, [(what the mistake is, function)] × 2)."
    return {
        "cost_slice": (s["student_cost_slice"], [("u and v swapped", lambda f, n, u, v: s["student_cost_slice"](f, n, v, u)),
                                                 ("sum over channels, not mean", lambda f, n, u, v: s["student_cost_slice"](f, n, u, v) * f.shape[1])]),
        "non_occlusion_mask": (s["student_non_occlusion_mask"], [("warp by −flow", lambda t, p, f, a: s["student_non_occlusion_mask"](t, p, -f, a)),
                                                                 ("u and v swapped", lambda t, p, f, a: s["student_non_occlusion_mask"](t, p, f.flip(1), a))]),
        "to_coarser": (s["student_to_coarser"], [("no rescale", lambda f: F.avg_pool2d(f, 2)),
                                                 ("subsampled", lambda f: f[..., ::2, ::2] / 2)]),
        "warp": (s["student_warp"], [("u and v swapped", lambda x, f: s["student_warp"](x, f.flip(1))),
                                     ("forward direction", lambda x, f: s["student_warp"](x, -f))]),
        "occlusion_mask": (s["student_occlusion_mask"], [("backward flow not warped", _fb_unwarped),
                                                         ("difference instead of sum", _fb_difference)]),
        "motion_compensate": (s["student_motion_compensate"], [("flow not rescaled", lambda st, f: s["student_warp"](st, F.interpolate(f, size=st.shape[-2:], mode="bilinear", align_corners=False))),
                                                               ("warp by −flow", lambda st, f: s["student_motion_compensate"](st, -f))]),
        "attention_window": (s["student_attention_window"], [("end one short", lambda i, n, r: list(range(max(0, i - r), min(n, i + r)))),
                                                             ("not clipped", lambda i, n, r: list(range(i - r, i + r + 1)))]),
        "masked_conv": (s["student_masked_conv"], [("centre not masked", lambda x, w, b: F.conv2d(x, w, b, padding=w.shape[-1] // 2)),
                                                   ("no padding", lambda x, w, b: F.conv2d(x, w * _centre_zero(w), b))]),
        "posterior_mean": (s["student_posterior_mean"], [("σ not divided by 255", lambda m, lv, x, sg: s["student_posterior_mean"](m, lv, x, sg * 255)),
                                                         ("weights swapped", lambda m, lv, x, sg: s["student_posterior_mean"](x, lv, m, sg))]),
        "noise_sigma": (s["student_noise_sigma"], [("no ½", lambda c: 2 * s["student_noise_sigma"](c)),
                                                   ("[0, 1] scale", lambda c: s["student_noise_sigma"](c) / 255)]),
        "symbols": (s["student_symbols"], [(".long() truncates", lambda e, m, q: ((e - m) / q).long()),
                                           ("μ left out", lambda e, m, q: torch.round(e / q).long())]),
        "rate_bits": (s["student_rate_bits"], [("nats", lambda e, m, sg, q: s["student_rate_bits"](e, m, sg, q) * math.log(2)),
                                               ("σ read as a standard deviation", lambda e, m, sg, q: s["student_rate_bits"](e, m, sg / math.sqrt(2), q))]),
        "rd_loss": (s["student_rd_loss"], [("channels counted", lambda y, x, bits, lam: F.mse_loss(y, x) + lam * bits / x.numel()),
                                           ("ℓ1 distortion", lambda y, x, bits, lam: s["student_rd_loss"](y, x, bits, lam) - F.mse_loss(y, x) + F.l1_loss(y, x))]),
    }


def _fb(f, b, warp_bwd: bool, sign: int):
    from restorekit.warp import outside_mask, warp
    b_hat = warp(b, f) if warp_bwd else b
    sq = lambda v: v.square().sum(1, keepdim=True)
    return ((sq(f + sign * b_hat) > 0.01 * (sq(f) + sq(b_hat)) + 0.5) | (outside_mask(f) > 0)).float()

def _centre_zero(w):
    k = w.shape[-1]; mask = torch.ones_like(w); mask[..., k // 2, k // 2] = 0
    return mask

_fb_unwarped = lambda f, b: _fb(f, b, False, 1)
_fb_difference = lambda f, b: _fb(f, b, True, -1)

VALUE_CASES = {   # key -> (correct value, [(what the slip is, value)] × up to 2); only exercises that need no chapter objects
    "costvol_channel": ((-2 + 4) * 9 + (1 + 4), [("u and v swapped", (1 + 4) * 9 + (-2 + 4))]),
    "costvol_border": ((16, 10), [("counted the inside", (9, 15))]),
    "temporal_half_mask": (math.sqrt(math.log(2) / 150), [("one channel", math.sqrt(math.log(2) / 50)), ("no square root", math.log(2) / 150)]),
    "jffra_reach": (16.0, [("d · levels", 12.0), ("coarse pixels", 4.0)]),
    "pwc_handover": (15.0, [("last ×2 missing", 7.5), ("bias added 4 times", 2.0)]),
    "pwc_channels": (59, [("flow left out", 57), ("features left out", 27)]),
    "unsup_distill": (2.0, [("not rescaled", 5.0)]),
    "s2svr_gru_params": (10416, [("no biases", 10368)]),
    "bsn_blind_set": (25, [("only the centre", 1)]),
    "bsn_bilinear_var": (0.25, [("two pixels", 0.5), ("nearest", 1.0)]),
    "stbn_phase": (2, [("row/column swapped", 1)]),
    "stbn_posterior": (0.6, [("prior mean alone", 0.5), ("noisy pixel alone", 0.7)]),
    "denoise_sigma": (20.0, [("no ½", 40.0), ("[0, 1] scale", 20 / 255)]),
    "denoise_frames": (88, [("context on both sides", 96), ("outputs only", 64)]),
    "quant_by_hand": (2.1, [("not quantized", 2.3), ("μ left out", 2.4)]),
    "quant_zero_bits": (-math.log2(1 - math.exp(-0.5)), [("one bit", 1.0), ("nats", -math.log(1 - math.exp(-0.5)))]),
    "entropy_file_size": (-1000 * math.log2(1 - math.exp(-0.5)), [("one bit each", 1000.0), ("nats", -1000 * math.log(1 - math.exp(-0.5)))]),
    "entropy_escape": (math.exp(-3.5), [("bins end at ±Kq", math.exp(-3.0))]),
    "ncfl_padding": ((56, 72), [("multiple 4", (52, 72))]),
}


def run(check, answer, key, **kw) -> tuple[bool | None, str]:
    "Call a checker; return (its verdict, what it printed or raised)."
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out): verdict = check(answer, key, **kw)
        return verdict, out.getvalue().strip()
    except AssertionError as err:
        return False, str(err)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the implementation checks' random inputs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from restorekit.exercises import check_impl, check_value
    problems = 0
    print("## Implementation exercises (check_impl)\n")
    for key, (correct, mistakes) in impl_cases(solutions()).items():
        verdict, text = run(lambda fn, k: check_impl(fn, k, seed=args.seed), correct, key)
        print(f"[{key}] correct  -> {text}"); problems += verdict is not True
        for what, fn in mistakes:
            verdict, text = run(lambda f, k: check_impl(f, k, seed=args.seed), fn, key)
            print(f"[{key}] {what} -> {text}"); problems += verdict is not False
        print()
    print("## Value exercises (check_value)\n")
    for key, (correct, mistakes) in VALUE_CASES.items():
        verdict, text = run(check_value, correct, key)
        print(f"[{key}] {correct!r} -> {text}"); problems += verdict is not True
        for what, value in mistakes:
            verdict, text = run(check_value, value, key)
            print(f"[{key}] {what}: {value!r} -> {text}"); problems += verdict is not False
        print()
    print(f"{problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
