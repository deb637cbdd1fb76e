"""End-to-end effect of `restorekit.data.ITEM_CACHE` on each model's cpu-preset training, cache off against on.

Usage (from the repository root): OMP_NUM_THREADS=1 python benchmarks/issue17/item_cache.py [--fraction 0.25] [--models S2SVR NCFL]

Each model trains exactly as its table's notebook does at the cpu preset (the table and row of
`benchmarks/workloads.MODELS`; the dataset, `TrainConfig` and training function of the notebook), with `iters` and
`n_train` both scaled by `--fraction`, so that every training item is read as many times as in a full run
(`iters × batch_size / n_train`). The run with the cache off sets `ITEM_CACHE.max_bytes = 0` (every read computes its
item); the run with it on starts from an empty cache. Both run in this process, one after the other, from the same
initial weights, after one untimed epoch with the cache off (it decodes the real clips' frames, which the
process keeps for both runs); `--on-first` swaps the order. Printed: process CPU seconds of each, their ratio, the cache's misses and hits, and whether the two
runs' losses and final weights are bit-equal. STBN's flow net is a fresh `PyramidFlowNet` (the table loads a
pre-trained one; its weights do not change the work), and trains inside `remember_flows` as `train_stbn` does.
JFFRA's `train_jffra` renders its `n_train` items once into a list before training, so its items are read once.
"""
import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workloads import MODELS, _config, presets  # noqa: E402

from restorekit.data import ITEM_CACHE, ITEM_CACHE_MB, RestorationDataset  # noqa: E402
from restorekit.train import TrainConfig, train  # noqa: E402


def notebook_knobs(model: str, knobs: dict) -> dict:
    "The cpu preset's knobs over the defaults of the table notebook's parameters cell (what the notebook runs with)."
    import ast
    import papermill
    from restorekit.registry import get_table
    path = Path(__file__).resolve().parents[2] / "ablations" / get_table(MODELS[model][0]).notebook
    defaults = {k: ast.literal_eval(p["default"]) for k, p in papermill.inspect_notebook(str(path)).items()}
    return {**defaults, **knobs}


def scaled(knobs: dict, fraction: float) -> tuple[int, int]:
    "(iters, n_train) of a run `fraction` as long as the preset's, each item read as often."
    iters = max(1, round(knobs["iters"] * fraction))
    return iters, max(knobs["batch_size"], round(knobs["n_train"] * fraction))


def s2svr(knobs, values, iters, n_train):
    from restorekit.s2svr import S2SVRConfig, build_model, s2svr_loss
    torch.manual_seed(0)
    model = build_model(_config(S2SVRConfig, values))
    synthetic = {k: knobs[k] for k in ("max_translation", "max_rotation_deg", "max_zoom") if k in knobs}
    degrade = {"sigma": knobs["noise_sigma"]} if knobs.get("noise_sigma") else {}
    data = RestorationDataset(model.cfg.task, "train", n_frames=knobs["n_frames"], crop=knobs["crop"], length=n_train, seed=0,
                              sources=tuple(knobs.get("sources", "synthetic").split(",")), synthetic_options=synthetic, **degrade)
    cfg = TrainConfig(steps=iters, batch_size=knobs["batch_size"], lr=knobs["lr"], schedule="cosine", min_lr=knobs["lr"] / 20, grad_clip=1.0,
                      seed=0, progress=False, log_every=1)
    return train(model, s2svr_loss, data, cfg).losses, model


def ncfl(knobs, values, iters, n_train):
    from restorekit.exp_ncfl import ncfl_dataset, train_ncfl
    from restorekit.ncfl import NCFL, NCFLConfig
    torch.manual_seed(0)
    model = NCFL(_config(NCFLConfig, values))
    data = ncfl_dataset(model.cfg.task, "train", knobs["n_frames"], knobs["crop"], n_train, 0, knobs["noise_sigma"])
    cfg = TrainConfig(steps=iters, batch_size=knobs["batch_size"], lr=knobs["lr"], seed=0, progress=False, log_every=1, grad_clip=1.0)
    first, second = train_ncfl(model, data, cfg, stage1_steps=round(iters * knobs.get("stage1_fraction", 0.5)),
                               entropy_lr_factor=knobs.get("entropy_lr_factor", 1.0))
    return (first.losses if first else []) + (second.losses if second else []), model


def stbn(knobs, values, iters, n_train):
    from restorekit.exp_stbn import NoisyOnly, train_stbn
    from restorekit.stbn import STBN, STBNConfig
    torch.manual_seed(0)
    model = STBN(_config(STBNConfig, values, distill_warmup=int(iters * knobs["distill_warmup_frac"])))
    data = NoisyOnly(RestorationDataset("denoise", "train", n_frames=knobs["n_frames"], crop=knobs["crop"], length=n_train, seed=0,
                                        sources=tuple(knobs.get("sources", "synthetic,bikes,carphone").split(",")), sigma=knobs["noise_sigma"]))
    cfg = TrainConfig(steps=iters, batch_size=knobs["batch_size"], lr=knobs["lr"], schedule="cosine", min_lr=knobs["lr"] / 20, grad_clip=1.0,
                      seed=0, progress=False, log_every=1)
    return train_stbn(model, data, cfg, flow_lr=knobs["flow_lr"], flow_pretrain_steps=0, teacher_every=knobs["teacher_every"]).losses, model


def jffra(knobs, values, iters, n_train):
    from restorekit.exp_jffra import train_jffra
    from restorekit.jffra import JFFRAConfig
    cfg = _config(JFFRAConfig, values)
    degrade = {"sigma": knobs["noise_sigma"]} if cfg.task == "denoise" else {}
    result, _ = train_jffra(cfg, iters=iters, batch_size=knobs["batch_size"], crop=knobs["crop"], n_frames=knobs["n_frames"], n_train=n_train,
                            n_eval=1, lr=knobs["lr"], seed=0, sources=tuple(knobs.get("sources", "synthetic").split(",")),
                            synthetic_options={"max_translation": knobs["max_translation"]} if "max_translation" in knobs else None, **degrade)
    return result.losses, result.model


RUNS = {"S2SVR": s2svr, "JFFRA": jffra, "NCFL": ncfl, "STBN": stbn}


def timed(fn, *args):
    start = time.process_time()
    losses, model = fn(*args)
    return time.process_time() - start, losses, {k: v.clone() for k, v in model.state_dict().items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=0.25, help="share of the preset's iters and n_train")
    ap.add_argument("--models", nargs="+", default=list(RUNS), choices=list(RUNS))
    ap.add_argument("--on-first", action="store_true", help="run with the cache before the run without it")
    args = ap.parse_args()
    torch.set_num_threads(1)
    resolved = presets()
    print(f"torch {torch.__version__}, 1 thread; runs of {args.fraction:g} x the cpu preset's iters and n_train; ITEM_CACHE bound {ITEM_CACHE_MB} MiB; "
          f"{'cache on' if args.on_first else 'cache off'} first")
    for name in args.models:
        knobs, values = resolved[name]
        knobs = notebook_knobs(name, knobs)
        iters, n_train = scaled(knobs, args.fraction)
        ITEM_CACHE.clear(); ITEM_CACHE.max_bytes = 0
        RUNS[name](knobs, values, max(1, n_train // knobs["batch_size"]), n_train)     # one epoch, untimed: decodes the videos once
        def with_cache(on: bool):
            ITEM_CACHE.clear(); ITEM_CACHE.max_bytes = ITEM_CACHE_MB * 2 ** 20 if on else 0
            reads = ITEM_CACHE.misses, ITEM_CACHE.hits
            result = timed(RUNS[name], knobs, values, iters, n_train)
            return result, (ITEM_CACHE.misses - reads[0], ITEM_CACHE.hits - reads[1], ITEM_CACHE.bytes)
        first = with_cache(args.on_first); second = with_cache(not args.on_first)
        (on, (misses, hits, kept)), (off, _) = (first, second) if args.on_first else (second, first)
        equal = off[1] == on[1] and off[2].keys() == on[2].keys() and all(torch.equal(v, on[2][k]) for k, v in off[2].items())
        print(f"{name:>6}: {iters} steps x {knobs['batch_size']} of {n_train} items; cache off {off[0]:6.1f} CPU-s, on {on[0]:6.1f} CPU-s, "
              f"{off[0] / on[0]:.2f}x ({misses} misses, {hits} hits, {kept / 2**20:.1f} MiB kept); "
              f"losses and final weights bit-equal: {equal}", flush=True)


if __name__ == "__main__":
    main()
