"""Training steps with and without `restorekit.core.retain_freed_memory()` (which `restorekit.train.train` now calls on the CPU).

    cd benchmarks && OMP_NUM_THREADS=1 python issue17/retain_memory.py [--rounds 3] [--steps 10] [--workloads JFFRA STBN ...]

Each measurement runs in its own child process (glibc's malloc settings last for a process): one warm-up step, then
`--steps` steps of the workload (benchmarks/workloads.py, the cpu presets' steps), timed on the process CPU clock,
with the minor page faults per step (`ru_minflt`: fresh zero-filled pages the kernel handed out). "plain" leaves
malloc at its defaults, as the steps ran before; "retained" calls `retain_freed_memory()` first, as `train` does now.
The two alternate `--rounds` times; medians and the ratio are printed. The code of the step is the same in both.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(mode: str, name: str, steps: int) -> dict:
    sys.path.insert(0, HERE)
    import restorekit.core
    if mode == "retained": restorekit.core.retain_freed_memory()
    from workloads import workloads
    step = workloads([name])[name]
    step()
    faults, start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
    for _ in range(steps): step()
    cpu = time.process_time() - start
    return {"steps_per_cpu_s": steps / cpu, "faults_per_step": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / steps}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--workloads", nargs="+", default=["JFFRA", "STBN", "S2SVR", "NCFL"])
    p.add_argument("--child", nargs=2, metavar=("MODE", "NAME"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.steps))); return
    print(f"training steps, malloc at its defaults (plain) against retain_freed_memory() (retained); {args.rounds} alternating "
          f"rounds of {args.steps} steps, 1 child process each; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'model':>8} | {'steps/CPU-s plain':>17} {'retained':>9} {'ratio':>6} | {'page faults/step plain':>22} {'retained':>9}")
    for name in args.workloads:
        runs = {"plain": [], "retained": []}
        for _ in range(args.rounds):
            for mode in runs:
                out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child", mode, name],
                                     capture_output=True, text=True, check=True).stdout
                runs[mode].append(json.loads(out.strip().splitlines()[-1]))
        med = {mode: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for mode, rs in runs.items()}
        print(f"{name:>8} | {med['plain']['steps_per_cpu_s']:17.2f} {med['retained']['steps_per_cpu_s']:9.2f} "
              f"{med['retained']['steps_per_cpu_s'] / med['plain']['steps_per_cpu_s']:5.2f}x | "
              f"{med['plain']['faults_per_step']:22.0f} {med['retained']['faults_per_step']:9.0f}", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
