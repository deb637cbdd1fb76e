"""How restorekit slows down when another job keeps the cores busy, for 1 and 2 torch threads.

Usage (from the repository root, with the venv active):

    python benchmarks/bench_contention.py                          # all workloads, threads 1 and 2, 3 timed runs each
    python benchmarks/bench_contention.py --workloads JFFRA STBN --repeats 5
    python benchmarks/bench_contention.py --omp-wait-policy passive   # the same with OMP_WAIT_POLICY=PASSIVE

Workloads (benchmarks/workloads.py): one cost-volume forward + backward (B=1, C=64, d=4, 128²) and one training
step (forward, loss, backward, Adam) of each model at its `cpu` preset's sizes.

Each (thread count, condition) runs in a fresh child process of this script (so OpenMP environment variables
apply from the start): it builds the workloads, runs each once untimed, then `--repeats` timed runs, and reports
the median wall-clock time. "alone" runs with nothing of this benchmark's beside it; "competitor" runs while
`--competitors` busy-looping Python processes (one per core by default), started before the child and stopped
after it by this script, keep every core busy. Slowdown = competitor time / alone time for the same thread count.
Other users of the machine are not controlled: the load average is printed with every figure.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

BUSY_LOOP = "while True: pass"


def _child(threads: int, names, repeats: int) -> dict:
    import torch
    torch.set_num_threads(threads)
    from workloads import workloads
    steps = workloads(names)
    result = {}
    for name, step in steps.items():
        step()
        times = []
        for _ in range(repeats):
            start = time.perf_counter(); step(); times.append(time.perf_counter() - start)
        result[name] = statistics.median(times)
    return result


def measure(threads: int, names, repeats: int, wait_policy: str | None) -> dict:
    "Median seconds per workload, measured in a fresh child process with `threads` torch threads."
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if wait_policy: env["OMP_WAIT_POLICY"] = wait_policy.upper()
    cmd = [sys.executable, os.path.abspath(__file__), "--_child", str(threads), "--repeats", str(repeats)]
    if names: cmd += ["--workloads", *names]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=os.path.dirname(os.path.abspath(__file__)))
    if done.returncode: raise SystemExit(f"child failed ({threads} threads):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Competitor:
    "`count` busy-looping Python processes, alive inside the `with` block."
    def __init__(self, count: int): self.count, self.procs = count, []
    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(self.count)]
        time.sleep(0.5)
        return self
    def __exit__(self, *exc):
        for p in self.procs: p.terminate()
        for p in self.procs: p.wait()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", help="only these workloads (default: all)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to compare")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per workload; the median is reported")
    p.add_argument("--competitors", type=int, default=os.cpu_count(), help="busy-looping competitor processes")
    p.add_argument("--omp-wait-policy", choices=["active", "passive"], help="set OMP_WAIT_POLICY in the measuring processes")
    p.add_argument("--_child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child is not None:
        print(json.dumps(_child(args._child, args.workloads, args.repeats)))
        return

    print(f"contention benchmark: {os.cpu_count()} cores, competitor = {args.competitors} busy-looping processes, "
          f"median of {args.repeats} runs, OMP_WAIT_POLICY={args.omp_wait_policy or '(unset)'}")
    alone, contended, loads = {}, {}, {}
    for threads in args.threads:
        loads[threads, "alone"] = os.getloadavg()[0]
        alone[threads] = measure(threads, args.workloads, args.repeats, args.omp_wait_policy)
        with Competitor(args.competitors):
            loads[threads, "competitor"] = os.getloadavg()[0]
            contended[threads] = measure(threads, args.workloads, args.repeats, args.omp_wait_policy)
    names = list(alone[args.threads[0]])
    header = f"{'workload':>14} | " + " | ".join(f"{f'{t} thread(s): alone':>18} {'competitor':>10} {'slowdown':>8}" for t in args.threads)
    print(header); print("-" * len(header))
    for name in names:
        print(f"{name:>14} | " + " | ".join(f"{alone[t][name] * 1e3:15.0f} ms {contended[t][name] * 1e3:7.0f} ms {contended[t][name] / alone[t][name]:7.1f}x"
                                             for t in args.threads))
    print("load average before each measurement: " + ", ".join(f"{t} thread(s) {cond} {v:.1f}" for (t, cond), v in loads.items()))
    geo = lambda d: math.exp(statistics.fmean(math.log(v) for v in d.values()))
    base = geo(alone[args.threads[0]])
    for t in args.threads:
        print(f"{t} thread(s): geometric mean time relative to {args.threads[0]} thread(s) alone: alone {geo(alone[t]) / base:.2f}, "
              f"with competitor {geo(contended[t]) / base:.2f}; worst slowdown {max(contended[t][n] / alone[t][n] for n in names):.1f}x")
    best = min(args.threads, key=lambda t: geo(contended[t]) + geo(alone[t]))
    print(f"recommended default threads: {best} (lowest geometric-mean time alone plus with a competitor)")


if __name__ == "__main__":
    main()
