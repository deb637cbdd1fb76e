"""Where a JFFRA training step's FLOPs go: the cpu presets of jffra_t5 (jffr row) and jffra_t6 (temporal_loss row),
counted by `torch.utils.flop_counter` (convolutions, matrix products), forward by module, and the whole step.

    OMP_NUM_THREADS=1 python benchmarks/issue17/jffra_flops.py [--inner]

The forward is counted by module (the counter's module attribution holds for the forward; in the backward it is
unreliable, so the backward is given as one total). The batch is the workloads' one (benchmarks/workloads.py): B·T
windows of 3 frames. `--inner` also counts each preset with `train_inner_frames=True`.
"""
import argparse
import os
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import workloads as W
from restorekit.jffra import JFFRA, JFFRAConfig, jffra_batch_loss

GROUPS = [("front end conv1 (3D)", lambda n: n == "context.conv1"),
          ("front end conv2 (3D)", lambda n: n in ("context.conv2", "context")),      # `positions` calls F.conv3d inside `context`
          ("flow heads (3 conv)", lambda n: ".flow_head" in n), ("q/k/v 1×1 conv", lambda n: n.split(".")[-1] in ("to_q", "to_k", "to_v")),
          ("residual blocks", lambda n: ".body" in n), ("down/up/fuse/tail", lambda n: n.split(".")[0] in ("down", "up", "fuse", "tail")),
          ("attention + cost volume", lambda n: n.count(".") == 1 and n.split(".")[0] in ("encoder", "decoder"))]   # the blocks' own matrix products


def setup(table, row, **changes):
    W.MODELS["JFFRA"] = (table, row)
    knobs, values = W.presets()["JFFRA"]
    torch.manual_seed(0)
    model = JFFRA(W._config(JFFRAConfig, {**values, **changes})).train()
    synthetic = {"max_translation": knobs["max_translation"]} if "max_translation" in knobs else None
    batch = W._batch(model.cfg.task, knobs, synthetic_options=synthetic, **W._degradation(knobs, model.cfg.task))
    return model, batch, values


def count(table, row, **changes):
    model, batch, values = setup(table, row, **changes)
    step = W._optimiser_step(model, lambda: jffra_batch_loss(model, batch)[0])
    step()
    with FlopCounterMode(display=False) as fwd:
        jffra_batch_loss(model, batch)
    with FlopCounterMode(display=False) as whole:
        step()
    counts = {name: sum(ops.values()) for name, ops in fwd.get_flop_counts().items()}
    inside = {n[len("JFFRA."):]: v for n, v in counts.items() if n.startswith("JFFRA.")}
    own = {n: v - sum(w for m, w in inside.items() if m.startswith(n + ".") and m.count(".") == n.count(".") + 1)
           for n, v in inside.items()}                                          # each module's FLOPs outside its submodules
    total_fwd = fwd.get_total_flops()
    print(f"\n{table} / {row} {changes or ''}: {values}")
    print(f"lq {tuple(batch['lq'].shape)}; step {whole.get_total_flops() / 1e9:.2f} GFLOP (forward {total_fwd / 1e9:.2f}, "
          f"backward and the rest {(whole.get_total_flops() - total_fwd) / 1e9:.2f})")
    for label, belongs in GROUPS:
        v = sum(f for n, f in own.items() if belongs(n))
        print(f"  {label:24} {v / 1e9:6.3f} GFLOP forward ({v / total_fwd:5.1%})")
    rest = total_fwd - sum(f for n, f in own.items() if any(belongs(n) for _, belongs in GROUPS))
    print(f"  {'elsewhere':24} {rest / 1e9:6.3f} GFLOP forward ({rest / total_fwd:5.1%})")
    return whole.get_total_flops()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--inner", action="store_true", help="also count train_inner_frames=True")
    args = p.parse_args()
    torch.set_num_threads(1)
    for table, row in (("jffra_t5", "jffr"), ("jffra_t6", "temporal_loss")):
        full = count(table, row)
        if args.inner:
            inner = count(table, row, train_inner_frames=True)
            print(f"  train_inner_frames: {full / 1e9:.2f} -> {inner / 1e9:.2f} GFLOP per step ({full / inner:.2f}x fewer)")


if __name__ == "__main__":
    main()
