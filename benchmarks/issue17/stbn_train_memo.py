"""End-to-end effect of `layers.remember_flows` on `train_stbn` at the stbn_t3 cpu preset's sizes.

Usage (from the repository root): OMP_NUM_THREADS=1 python benchmarks/issue17/stbn_train_memo.py [--steps 128]

For the rows `srfe` (no flow refinement: the flow net never trains) and `flow_refinement` (distillation after
`distill_warmup_frac` of the steps, teacher refreshed every `teacher_every` steps), trains STBN from the same initial
weights with `remember=False` and `remember=True`, alternating, on the preset's `n_train` windows, and prints the
process CPU seconds of each run, the ratio, and whether the two runs' losses and final weights are bit-equal.
The flow net is a fresh `PyramidFlowNet` (the tables load a pre-trained one; its weights do not change the work).
"""
import argparse
import time

import torch

from restorekit.data import ITEM_CACHE, RestorationDataset
from restorekit.exp_stbn import NoisyOnly, train_stbn
from restorekit.registry import get_table
from restorekit.stbn import STBN, STBNConfig
from restorekit.train import TrainConfig


def run(row: str, steps: int, remember: bool, p: dict):
    ITEM_CACHE.clear()                  # every run computes its items once: the runs compare the flow memo alone
    torch.manual_seed(0)
    overrides = get_table("stbn_t3").variant(row).overrides
    model = STBN(STBNConfig(channels=p["channels"], noise_sigma=p["noise_sigma"], distill_warmup=int(steps * p["distill_warmup_frac"]), **overrides))
    data = NoisyOnly(RestorationDataset("denoise", "train", n_frames=p["n_frames"], crop=p["crop"], length=p["n_train"], seed=0,
                                        sources=tuple(p["sources"].split(",")), sigma=p["noise_sigma"]))
    cfg = TrainConfig(steps=steps, batch_size=p["batch_size"], lr=p["lr"], schedule="cosine", min_lr=p["lr"] / 20, grad_clip=1.0, seed=0,
                      progress=False, log_every=1)
    start = time.process_time()
    result = train_stbn(model, data, cfg, flow_lr=p["flow_lr"], flow_pretrain_steps=0, teacher_every=p["teacher_every"], remember=remember)
    return time.process_time() - start, result.losses, model.state_dict()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(1)
    p = {"sources": "synthetic,bikes,carphone", **get_table("stbn_t3").preset("cpu")}
    print(f"stbn_t3 cpu preset sizes: {p['n_train']} windows of {p['n_frames']}x{p['crop']}^2, batch {p['batch_size']}, width {p['channels']}; "
          f"{args.steps} steps per run; torch {torch.__version__}, 1 thread")
    for row in ("srfe", "flow_refinement"):
        plain = run(row, args.steps, False, p); kept = run(row, args.steps, True, p)
        equal = plain[1] == kept[1] and all(torch.equal(a, b) for a, b in zip(plain[2].values(), kept[2].values()))
        print(f"{row:>16}: remember=False {plain[0]:6.1f} CPU-s, remember=True {kept[0]:6.1f} CPU-s, {plain[0] / kept[0]:.2f}x; "
              f"losses and final weights bit-equal: {equal}", flush=True)


if __name__ == "__main__":
    main()
