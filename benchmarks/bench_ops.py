"""Operator calls and steps per CPU-second of one training step of each model's `cpu` preset.

Usage (from the repository root, with the venv active):

    python benchmarks/bench_ops.py                        # JFFRA, STBN, STBN+distill, S2SVR, NCFL; 1 thread
    python benchmarks/bench_ops.py --workloads JFFRA --steps 20 --top 15
    python benchmarks/bench_ops.py --against /tmp/base --rounds 3       # against another version, alternating

`--against DIR` compares with the restorekit package in DIR (e.g. `git archive b5ee3fa restorekit | tar -x -C DIR`):
each version runs in its own child process, the two alternating `--rounds` times so that a change in the machine's
load hits both; the medians over the rounds and their ratio are printed.

Operator calls: one training step (forward, loss, backward, gradient clipping, Adam; see benchmarks/workloads.py)
runs under `torch.profiler`; every ATen operator call whose caller is not itself an ATen operator counts once (so
`aten::conv2d` counts, the `aten::convolution` inside it does not; the operators the backward pass runs count).
The most frequent operators are listed: thousands of calls of one operator are a loop that a batched operation
can replace.

Steps per CPU-second: `--steps` steps after one warm-up step, divided by the process CPU time they took
(`time.process_time`, all threads together), which other jobs on a shared machine disturb less than wall time.

`--bound`: also the FLOPs of one step (`torch.utils.flop_counter`: convolutions, matrix products, attention, forward
and backward) and the time they take at the 64 -> 64 3×3 convolution peak measured in the same process: a step
cannot run faster than that bound without computing less.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
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


def bounds(names, steps: int) -> None:
    "Print GFLOP per step, CPU ms per step, and the ms those FLOPs take at the measured convolution peak."
    from workloads import conv_peak, count_flops, workloads
    peak = conv_peak(repeats=9, clock=time.process_time)
    print(f"64->64 3x3 convolution peak {peak / 1e9:.1f} GFLOP/s (CPU clock, median of 9)")
    for name, step in workloads(names).items():
        step()
        flops = count_flops(step)
        ms = 1e3 / steps_per_cpu_second(step, steps)
        print(f"{name:>23}: {flops / 1e9:6.2f} GFLOP per step, {ms:7.1f} ms per step = {flops / ms / 1e6:5.1f} GFLOP/s "
              f"({flops / ms / 1e6 / (peak / 1e9):4.0%} of peak); at the peak the FLOPs take {flops / peak * 1e3:6.1f} ms", flush=True)
    print(f"peak re-measured: {conv_peak(repeats=9, clock=time.process_time) / 1e9:.1f} GFLOP/s")


def measure(names, steps: int) -> dict:
    "{model: (operator calls, steps per CPU-second, the most frequent operators)} for the restorekit this process imports."
    from workloads import workloads
    result = {}
    for name, step in workloads(names).items():
        step()
        calls = count_operators(step)
        result[name] = (sum(calls.values()), steps_per_cpu_second(step, steps), calls.most_common(8))
    return result


_NOTED = set()   # config fields another version lacks, named once

def _in_child(names, steps: int, threads: int, restorekit_dir: str | None) -> dict:
    from workloads import PRESETS_ENV, presets
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [restorekit_dir, os.environ.get("PYTHONPATH")])),
               **{PRESETS_ENV: json.dumps(presets())})                       # both versions run this version's preset sizes
    cmd = [sys.executable, os.path.abspath(__file__), "--_child", "--steps", str(steps), "--threads", str(threads), "--workloads", *names]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=os.path.dirname(os.path.abspath(__file__)))
    if done.returncode: raise SystemExit(f"child failed:\n{done.stderr[-2000:]}")
    for note in sorted({line for line in done.stderr.splitlines() if "left out" in line} - _NOTED):
        print(note, file=sys.stderr); _NOTED.add(note)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(names, steps: int, threads: int, rounds: int, against: str) -> None:
    "Alternate this restorekit and the one in `against`, `rounds` times; print medians and ratios."
    runs = {"this": [], "against": []}
    for _ in range(rounds):
        runs["against"].append(_in_child(names, steps, threads, against))
        runs["this"].append(_in_child(names, steps, threads, None))
    print(f"{'model':>23} | {'operator calls: against':>23} {'this':>6} {'ratio':>6} | {'steps/CPU-s: against':>20} {'this':>6} {'ratio':>6}")
    for name in names:
        calls = {v: runs[v][0][name][0] for v in runs}
        rate = {v: statistics.median(r[name][1] for r in runs[v]) for v in runs}
        print(f"{name:>23} | {calls['against']:23d} {calls['this']:6d} {calls['against'] / calls['this']:5.1f}x | "
              f"{rate['against']:20.2f} {rate['this']:6.2f} {rate['this'] / rate['against']:5.2f}x")
    print(f"ratio: operator calls against / this, steps per CPU-second this / against; medians of {rounds} alternating rounds")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", help="only these models (default: every training step)")
    p.add_argument("--steps", type=int, default=10, help="timed steps per model")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--top", type=int, default=6, help="most frequent operators listed per model")
    p.add_argument("--against", help="a directory holding another version's restorekit package, to compare with")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds of --against")
    p.add_argument("--bound", action="store_true", help="print FLOPs per step and their time at the convolution peak instead")
    p.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    import restorekit
    from workloads import TRAINING_STEPS
    names = args.workloads or list(TRAINING_STEPS)
    if args._child:
        print(json.dumps(measure(names, args.steps)))
        return
    print(f"operator calls per training step (cpu presets), restorekit from {os.path.dirname(restorekit.__file__)}, "
          f"torch {torch.__version__}, {args.threads} thread(s), load average {os.getloadavg()[0]:.1f}")
    if args.bound:
        bounds(names, args.steps)
    elif args.against:
        compare(names, args.steps, args.threads, args.rounds, os.path.abspath(args.against))
    else:
        for name, (calls, rate, top) in measure(names, args.steps).items():
            top = ", ".join(f"{op[6:]} {n}" for op, n in top[:args.top])
            print(f"{name:>23}: {calls:6d} operator calls, {rate:6.2f} steps per CPU-second   [{top}]", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
