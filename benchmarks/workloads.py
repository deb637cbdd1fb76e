"""The workloads the speed benchmarks share: one cost volume call and one training step of each model's `cpu` preset.

Each `training_steps()` entry is a closure that runs one optimiser step exactly as the ablation notebooks do
(forward, the model's loss, backward, gradient clipping at 1.0, Adam; STBN inside `remember_flows` as `train_stbn`:
"STBN" sees its window again, "STBN new window" for the first time; "JFFRA inner frames" with
`train_inner_frames=True`, which a version without that field runs as "JFFRA") on a fixed batch drawn from
`RestorationDataset` with the sizes of the model's `cpu` preset in `restorekit.registry` (the full-model row of
the table named in `MODELS`), the preset's model-config knobs (e.g. JFFRA's `radius`) included. Building them takes a
few seconds (datasets, models); calling them is what is timed.
The batch is drawn once, outside the timing, so these steps leave out the data side of training: computing
each item at its first read, then copying it out of `restorekit.data.ITEM_CACHE` at every later one.
`benchmarks/issue17/item_cache.py` measures that side end to end, cache off against on.

Comparing two versions (`bench_ops.py --against`): the parent resolves every preset with its own registry and hands
it to both children in `$RESTOREKIT_BENCH_PRESETS`, so both versions run the same sizes; a knob the other version's
config does not have is left out there and named on stderr.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

import torch
from torch.utils.data import default_collate

from restorekit.costvol import cost_volume
from restorekit.data import RestorationDataset
from restorekit.registry import get_table

# model -> (ablation table whose cpu preset sizes the step, the table's full-model row)
MODELS = {"JFFRA": ("jffra_t5", "jffr"), "STBN": ("stbn_t3", "flow_refinement"), "S2SVR": ("s2svr_t5", "s2svr"),
          "NCFL": ("ncfl_t5", "feature_attention")}
CONFIGS = {"JFFRA": ("restorekit.jffra", "JFFRAConfig"), "STBN": ("restorekit.stbn", "STBNConfig"),
           "S2SVR": ("restorekit.s2svr", "S2SVRConfig"), "NCFL": ("restorekit.ncfl", "NCFLConfig")}
PRESETS_ENV = "RESTOREKIT_BENCH_PRESETS"

def _defaults(model: str, knobs: dict) -> dict:
    "Config values the workload sets where the preset has none (the task; NCFL's inner widths: half the channels)."
    half = max(4, knobs["channels"] // 2)
    return {"JFFRA": {"task": "deblur"}, "S2SVR": {"task": "sr"}, "STBN": {},
            "NCFL": {"latent_channels": half, "mvr_channels": half, "attention_channels": half}}[model]

def presets() -> dict:
    "{model: (cpu preset knobs, model config values)} from this process's registry: the knobs that are config fields, then the row's overrides."
    import importlib
    out = {}
    for model, (table, row) in MODELS.items():
        tab = get_table(table); knobs = tab.preset("cpu")
        cls = getattr(importlib.import_module(CONFIGS[model][0]), CONFIGS[model][1])
        known = {f.name for f in dataclasses.fields(cls)} | set(getattr(cls, "renamed", {}))
        out[model] = (knobs, {**_defaults(model, knobs), **{k: v for k, v in knobs.items() if k in known}, **tab.variant(row).overrides})
    return out

def preset(model: str) -> tuple[dict, dict]:
    "`presets()[model]`, or the parent's from `PRESETS_ENV` when set."
    given = os.environ.get(PRESETS_ENV)
    return tuple(json.loads(given)[model]) if given else presets()[model]

def _config(cls, values: dict, **fixed):
    "`cls` built from `values` and `fixed`; a field this version's `cls` does not have is left out and named on stderr."
    known = {f.name for f in dataclasses.fields(cls)} | set(getattr(cls, "renamed", {}))
    wanted = {**values, **fixed}
    dropped = sorted(set(wanted) - known)
    if dropped: print(f"{cls.__name__} of {sys.modules[cls.__module__].__file__} has no field(s) {dropped}: left out", file=sys.stderr)
    kept = {k: v for k, v in wanted.items() if k in known}
    return cls.from_dict(kept) if hasattr(cls, "from_dict") else cls(**kept)


def _batch(task: str, knobs: dict, sources=("synthetic",), **kwargs) -> dict:
    data = RestorationDataset(task, "train", n_frames=knobs["n_frames"], crop=knobs["crop"], length=knobs["batch_size"],
                              seed=0, sources=sources, **kwargs)
    return default_collate([data[i] for i in range(len(data))])


def _optimiser_step(model: torch.nn.Module, loss_fn):
    """A closure: zero the gradients, `loss_fn()`, backward, clip at 1.0, one Adam step. The Adam is the one the
    training loop builds (`restorekit.train.make_optimizer`) of the restorekit this process imports."""
    from restorekit.train import TrainConfig, make_optimizer
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(params, TrainConfig(lr=1e-4))
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return float(loss.detach())
    return step


def _degradation(knobs: dict, task: str) -> dict:
    "The dataset's degradation options of the preset: σ for denoising."
    return {"sigma": knobs["noise_sigma"]} if task == "denoise" and "noise_sigma" in knobs else {}


def jffra_step(**changes):
    "JFFRA's step; `changes` (config fields, e.g. train_inner_frames=True) on top of the preset's values."
    from restorekit.jffra import JFFRA, JFFRAConfig, jffra_batch_loss
    knobs, values = preset("JFFRA")
    torch.manual_seed(0)
    model = JFFRA(_config(JFFRAConfig, {**values, **changes})).train()
    synthetic = {"max_translation": knobs["max_translation"]} if "max_translation" in knobs else None
    batch = _batch(model.cfg.task, knobs, synthetic_options=synthetic, **_degradation(knobs, model.cfg.task))
    return _optimiser_step(model, lambda: jffra_batch_loss(model, batch)[0])


def _remembering(step, new_window: bool):
    """`step` inside `restorekit.layers.remember_flows`, as `train_stbn` trains: one memo kept over the steps (the fixed
    batch is a window seen again), or (`new_window`) a fresh memo every step (every window new to it). A restorekit
    without `remember_flows` runs `step` as it is."""
    try: from restorekit.layers import remember_flows
    except ImportError: return step
    kept = remember_flows()
    def remembered():
        with (remember_flows() if new_window else kept): return step()
    return remembered


def stbn_step(distill: bool = False, new_window: bool = False):
    from restorekit.stbn import STBN, STBNConfig, frozen_copy, stbn_loss
    knobs, values = preset("STBN")
    torch.manual_seed(0)
    model = STBN(_config(STBNConfig, values, distill_warmup=0)).train()
    clip = _batch("denoise", knobs, sigma=knobs["noise_sigma"])["lq"]
    teacher = frozen_copy(model) if distill else None
    return _remembering(_optimiser_step(model, lambda: stbn_loss(model, clip, 1, teacher)["loss"]), new_window)


def s2svr_step():
    from restorekit.s2svr import S2SVRConfig, build_model, s2svr_loss
    knobs, values = preset("S2SVR")
    torch.manual_seed(0)
    model = build_model(_config(S2SVRConfig, values)).train()
    batch = _batch(model.cfg.task, knobs, **_degradation(knobs, model.cfg.task))
    return _optimiser_step(model, lambda: s2svr_loss(model, batch)[0])


def ncfl_step():
    from restorekit.ncfl import NCFL, NCFLConfig, ncfl_loss
    knobs, values = preset("NCFL")
    torch.manual_seed(0)
    model = NCFL(_config(NCFLConfig, values)).train()
    batch = _batch("denoise", knobs, sigma=knobs["noise_sigma"])
    return _optimiser_step(model, lambda: ncfl_loss(model, batch)[0])


TRAINING_STEPS = {"JFFRA": jffra_step, "JFFRA inner frames": lambda: jffra_step(train_inner_frames=True), "STBN": stbn_step, "STBN new window": lambda: stbn_step(new_window=True),
                  "STBN+distill": lambda: stbn_step(distill=True), "STBN+distill new window": lambda: stbn_step(distill=True, new_window=True),
                  "S2SVR": s2svr_step, "NCFL": ncfl_step}


def cost_volume_step(size: int = 128, channels: int = 64, radius: int = 4):
    "A closure: one cost volume forward and backward at `size`², B = 1 (the cost-volume benchmark's setting)."
    g = torch.Generator().manual_seed(0)
    f_ref, f_nbr = (torch.randn(1, channels, size, size, generator=g, requires_grad=True) for _ in range(2))
    upstream = torch.randn(1, (2 * radius + 1) ** 2, size, size, generator=g)
    def step():
        f_ref.grad = f_nbr.grad = None
        cost_volume(f_ref, f_nbr, radius).backward(upstream)
    return step


def workloads(names=None) -> dict:
    "Name -> closure for the cost volume (`costvol 128²`) and the training steps, optionally only `names`."
    makers = {"costvol 128²": cost_volume_step, **TRAINING_STEPS}
    unknown = set(names or ()) - set(makers)
    if unknown: raise SystemExit(f"unknown workload(s) {sorted(unknown)}; expected some of {list(makers)}")
    return {name: make() for name, make in makers.items() if not names or name in names}


def inference_models() -> dict:
    "Name -> (model in eval mode at its `cpu` preset's config, inputs(size) -> forward arguments for `size`² output frames)."
    from restorekit.jffra import JFFRA, JFFRAConfig
    from restorekit.ncfl import NCFL, NCFLConfig
    from restorekit.s2svr import S2SVRConfig, build_model
    from restorekit.stbn import STBN, STBNConfig
    g = torch.Generator().manual_seed(0)
    clip = lambda t, size: torch.rand(1, t, 3, size, size, generator=g)
    models = {}
    knobs, values = preset("JFFRA")
    jffra = JFFRA(_config(JFFRAConfig, values))
    zero_flows = lambda t, size: (torch.zeros(1, t, 2, size, size),) * 2        # given flows: no OpenCV DIS inside the timing
    models["JFFRA"] = (jffra, lambda size, t=knobs["n_frames"]: (clip(t, size), *zero_flows(t, size)))
    knobs, values = preset("STBN")
    models["STBN"] = (STBN(_config(STBNConfig, values)), lambda size, t=knobs["n_frames"]: (clip(t, size),))
    knobs, values = preset("S2SVR")
    s2svr = build_model(_config(S2SVRConfig, values)); s = s2svr.cfg.scale
    models["S2SVR"] = (s2svr, lambda size, t=knobs["n_frames"]: (clip(t, size // s), [torch.zeros(1, 2, size // s, size // s)] * (t - 1)))
    knobs, values = preset("NCFL")
    models["NCFL"] = (NCFL(_config(NCFLConfig, values)),
                      lambda size, t=knobs["n_frames"]: (clip(t, size),))
    return {name: (model.eval(), inputs) for name, (model, inputs) in models.items()}


def conv_peak(repeats: int = 7, size: int = 128, clock=None) -> float:
    "FLOP/s of a 64 -> 64 3×3 convolution on one `size`² map (inference), median of `repeats` timed by `clock` (default wall-clock): the machine's practical peak."
    import statistics, time
    clock = clock or time.perf_counter
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).eval()
    x = torch.randn(1, 64, size, size)
    flops = 2 * 64 * 64 * 9 * size * size
    with torch.no_grad():
        conv(x); times = []
        for _ in range(repeats):
            start = clock(); conv(x); times.append(clock() - start)
    return flops / statistics.median(times)


def count_flops(fn) -> int:
    "Floating-point operations of `fn()` as `torch.utils.flop_counter` counts them (convolutions, matrix products, attention)."
    from torch.utils.flop_counter import FlopCounterMode
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()
