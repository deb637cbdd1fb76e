"""Where one STBN training step (the `STBN` workload of benchmarks/workloads.py) spends its CPU time: the profiler's
top operators by self CPU time per step, grouped by input shapes, averaged over 5 steps after 3 warm-up steps.

    cd benchmarks && PYTHONPATH=DIR OMP_NUM_THREADS=1 python issue17/stbn_profile.py [--top 40]   # DIR holds the restorekit to profile

Profiler times include its own overhead per call (a few µs), so small operators look dearer than they are; the
steps per CPU-second of `bench_ops.py` are the figure of merit.
"""
import argparse, os, sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch
import restorekit
from workloads import TRAINING_STEPS

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--top", type=int, default=40, help="operators listed")
parser.add_argument("--workload", default="STBN", help="a key of workloads.TRAINING_STEPS")
args = parser.parse_args()
step = TRAINING_STEPS[args.workload]()
for _ in range(3): step()
with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
    for _ in range(5): step()
table = prof.key_averages(group_by_input_shape=True)
print(f"{args.workload}: restorekit from {os.path.dirname(restorekit.__file__)}, torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
print(f"{'operator':35s} {'self CPU':>10s} {'calls':>5s}  input shapes (per step)")
for e in sorted(table, key=lambda e: -e.self_cpu_time_total)[:args.top]:
    print(f"{e.key[:35]:35s} {e.self_cpu_time_total / 5 / 1000:7.2f} ms {e.count // 5:5d}  {str(e.input_shapes)[:90]}")
print(f"total self CPU per step {sum(e.self_cpu_time_total for e in table) / 5 / 1000:.1f} ms, operator calls {sum(e.count for e in table) // 5}")
