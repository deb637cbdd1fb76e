"""Operator calls and steps per CPU-second of one training step of each model's `cpu` preset.

Usage (from the repository root, with the venv active):

    python benchmarks/bench_ops.py                        # JFFRA, STBN, STBN+distill, S2SVR, NCFL; 1 thread
    python benchmarks/bench_ops.py --workloads JFFRA --steps 20 --top 15
    PYTHONPATH=/path/to/other/checkout python benchmarks/bench_ops.py   # the same for another version of restorekit

Operator calls: one training step (forward, loss, backward, gradient clipping, Adam; see benchmarks/workloads.py)
runs under `torch.profiler`; every ATen operator call whose caller is not itself an ATen operator counts once (so
`aten::conv2d` counts, the `aten::convolution` inside it does not; the operators the backward pass runs count).
The most frequent operators are listed: thousands of calls of one operator are a loop that a batched operation
can replace.

Steps per CPU-second: `--steps` steps after one warm-up step, divided by the process CPU time they took
(`time.process_time`, all threads together), which other jobs on a shared machine disturb less than wall time.
"""
from __future__ import annotations

import argparse
import collections
import os
import time

import torch


def count_operators(step) -> collections.Counter:
    "Top-level ATen operator calls of one `step()`, by name."
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        step()
    calls = collections.Counter()
    for event in prof.events():
        parent = event.cpu_parent
        if event.name.startswith("aten::") and (parent is None or not parent.name.startswith("aten::")):
            calls[event.name] += 1
    return calls


def steps_per_cpu_second(step, steps: int) -> float:
    step()
    start = time.process_time()
    for _ in range(steps): step()
    return steps / (time.process_time() - start)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", help="only these models (default: every training step)")
    p.add_argument("--steps", type=int, default=10, help="timed steps per model")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--top", type=int, default=6, help="most frequent operators listed per model")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    import restorekit
    from workloads import TRAINING_STEPS, workloads
    names = args.workloads or list(TRAINING_STEPS)
    print(f"operator calls per training step (cpu presets), restorekit from {os.path.dirname(restorekit.__file__)}, "
          f"torch {torch.__version__}, {args.threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    rows = []
    for name, step in workloads(names).items():
        step()
        calls = count_operators(step)
        rate = steps_per_cpu_second(step, args.steps)
        rows.append((name, sum(calls.values()), rate))
        top = ", ".join(f"{op[6:]} {n}" for op, n in calls.most_common(args.top))
        print(f"{name:>13}: {sum(calls.values()):6d} operator calls, {rate:6.2f} steps per CPU-second   [{top}]", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
