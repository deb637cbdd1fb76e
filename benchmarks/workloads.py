"""The workloads the speed benchmarks share: one cost volume call and one training step of each model's `cpu` preset.

Each `training_steps()` entry is a closure that runs one optimiser step exactly as the ablation notebooks do
(forward, the model's loss, backward, gradient clipping at 1.0, Adam) on a fixed batch drawn from
`RestorationDataset` with the sizes of the model's `cpu` preset in `restorekit.registry` (the full-model row of
the table named in `MODELS`). Building them takes a few seconds (datasets, models); calling them is what is timed.
"""
from __future__ import annotations

import torch
from torch.utils.data import default_collate

from restorekit.costvol import cost_volume
from restorekit.data import RestorationDataset
from restorekit.registry import get_table

# model -> (ablation table whose cpu preset sizes the step, the table's full-model row)
MODELS = {"JFFRA": ("jffra_t5", "jffr"), "STBN": ("stbn_t3", "flow_refinement"), "S2SVR": ("s2svr_t5", "s2svr_len5"),
          "NCFL": ("ncfl_t5", "feature_attention")}


def preset(model: str) -> tuple[dict, dict]:
    "The `cpu` preset's knobs and the full-model row's config overrides for `model`."
    table, row = MODELS[model]
    tab = get_table(table)
    return tab.preset("cpu"), dict(tab.variant(row).overrides)


def _batch(task: str, knobs: dict, sources=("synthetic",), **kwargs) -> dict:
    data = RestorationDataset(task, "train", n_frames=knobs["n_frames"], crop=knobs["crop"], length=knobs["batch_size"],
                              seed=0, sources=sources, **kwargs)
    return default_collate([data[i] for i in range(len(data))])


def _optimiser_step(model: torch.nn.Module, loss_fn):
    "A closure: zero the gradients, `loss_fn()`, backward, clip at 1.0, one Adam step."
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-4)
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return float(loss.detach())
    return step


def jffra_step():
    from restorekit.jffra import JFFRA, JFFRAConfig, jffra_batch_loss
    knobs, overrides = preset("JFFRA")
    torch.manual_seed(0)
    model = JFFRA(JFFRAConfig(task="deblur", channels=knobs["channels"], **overrides)).train()
    batch = _batch("deblur", knobs, synthetic_options={"max_translation": knobs["max_translation"]})
    return _optimiser_step(model, lambda: jffra_batch_loss(model, batch)[0])


def stbn_step(distill: bool = False):
    from restorekit.stbn import STBN, STBNConfig, frozen_copy, stbn_loss
    knobs, overrides = preset("STBN")
    torch.manual_seed(0)
    model = STBN(STBNConfig(channels=knobs["channels"], noise_sigma=knobs["noise_sigma"], distill_warmup=0, **overrides)).train()
    clip = _batch("denoise", knobs, sigma=knobs["noise_sigma"])["lq"]
    teacher = frozen_copy(model) if distill else None
    return _optimiser_step(model, lambda: stbn_loss(model, clip, 1, teacher)["loss"])


def s2svr_step():
    from restorekit.s2svr import S2SVRConfig, build_model, s2svr_loss
    knobs, overrides = preset("S2SVR")
    torch.manual_seed(0)
    model = build_model(S2SVRConfig(task="sr", scale=knobs["scale"], channels=knobs["channels"], **overrides)).train()
    batch = _batch("sr", knobs)
    return _optimiser_step(model, lambda: s2svr_loss(model, batch)[0])


def ncfl_step():
    from restorekit.ncfl import NCFL, NCFLConfig, ncfl_loss
    knobs, overrides = preset("NCFL")
    half = max(4, knobs["channels"] // 2)
    torch.manual_seed(0)
    cfg = NCFLConfig.from_dict({"channels": knobs["channels"], "latent_channels": half, "mvr_channels": half,
                                "attention_channels": half, **overrides})
    model = NCFL(cfg).train()
    batch = _batch("denoise", knobs, sigma=knobs["noise_sigma"])
    return _optimiser_step(model, lambda: ncfl_loss(model, batch)[0])


TRAINING_STEPS = {"JFFRA": jffra_step, "STBN": stbn_step, "STBN+distill": lambda: stbn_step(distill=True),
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
