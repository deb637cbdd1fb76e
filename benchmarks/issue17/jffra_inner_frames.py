"""JFFRAConfig.train_inner_frames on jffra_t5's cpu preset: the jffr row trained as its notebook trains it, with the end
frames in the loss (the default) and without (frames 1..T-2 only), one seed each in one process, scored on the table's
evaluation windows over the frames the table scores (`restorekit.exp_jffra.bracket_probe`).

    OMP_NUM_THREADS=1 python benchmarks/issue17/jffra_inner_frames.py [--seed 0] [--row jffr]

Prints each run's PSNR (and the input's), the refined flow's end-point error, first/last loss and CPU seconds.
"""
import argparse
import dataclasses

import torch

import restorekit.exp_jffra as exp
from restorekit.core import code_version


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--row", default="jffr")
    args = p.parse_args()
    torch.set_num_threads(1)
    train = exp.train_jffra
    print(f"jffra_t5 cpu preset, row {args.row}, seed {args.seed}, {code_version()}, torch {torch.__version__}, 1 thread")
    for inner in (False, True):
        exp.train_jffra = lambda cfg, *a, **k: train(dataclasses.replace(cfg, train_inner_frames=inner), *a, **k)
        r = exp.bracket_probe(args.row, seed=args.seed)
        epe = {k: round(v, 3) for k, v in r.items() if k.startswith("epe_")}
        print(f"train_inner_frames={inner!s:5}: PSNR {r['psnr']:.3f} dB (input {r['psnr_input']:.3f}), loss {r['loss_first']:.4f} -> "
              f"{r['loss_last']:.4f}, CPU {r['cpu_time']:.1f} s, wall {r['wall_time']:.1f} s; {epe}", flush=True)
    exp.train_jffra = train


if __name__ == "__main__":
    main()
