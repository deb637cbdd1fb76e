"""Where S2SVR's inference time goes at 128² output frames (its cpu preset, as benchmarks/bench_models.py runs it).

    OMP_NUM_THREADS=1 python benchmarks/issue17/s2svr_profile.py [--size 128] [--repeats 5] [--model S2SVR]

Per leaf module (grouped by type and shape): calls per forward, CPU ms per forward (process clock, forward hooks,
median over `--repeats` forwards), the module's FLOPs (`torch.utils.flop_counter`) and GFLOP/s against the
64 -> 64 3×3 convolution peak measured in the same run. "outside modules" is the forward's time that no leaf module
holds: the functional operations (warps, concatenations, activations, upsampling, gates). torch.profiler is not used
for the times: its per-operator overhead inflates the many small operators of this model several-fold.
"""
import argparse
import collections
import os
import statistics
import sys
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from workloads import conv_peak, inference_models


def group(name, m):
    "A leaf module's group: its type and shape, e.g. 'Conv2d 16->16 3x3'."
    if isinstance(m, torch.nn.Conv2d):
        return f"Conv2d {m.in_channels}->{m.out_channels} {m.kernel_size[0]}x{m.kernel_size[1]}" + (f" /{m.stride[0]}" if m.stride[0] > 1 else "")
    return type(m).__name__


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--model", default="S2SVR")
    p.add_argument("--ops", type=int, default=12, help="also list the top operators outside convolutions by torch.profiler self time (inflated)")
    args = p.parse_args()
    torch.set_num_threads(1)
    import restorekit.core
    restorekit.core.retain_freed_memory()
    peak = conv_peak(repeats=9, clock=time.process_time)
    model, inputs = inference_models()[args.model]
    x = inputs(args.size)
    leaves = {n: m for n, m in model.named_modules() if not list(m.children()) and n}
    calls, spent, start = collections.Counter(), collections.defaultdict(float), {}
    def stop(n):                                         # a forward hook that returns None: the output is kept
        spent[n] += time.process_time() - start[n]; calls[n] += 1
    for n, m in leaves.items():
        m.register_forward_pre_hook(lambda m, a, n=n: start.__setitem__(n, time.process_time()))
        m.register_forward_hook(lambda m, a, o, n=n: stop(n))
    with torch.no_grad():
        with FlopCounterMode(display=False) as counter: model(*x)
        flops = {n[len(type(model).__name__) + 1:]: sum(v.values()) for n, v in counter.get_flop_counts().items()}
        totals, per_run = [], []
        for _ in range(args.repeats):
            calls.clear(); spent.clear()
            t0 = time.process_time(); model(*x); totals.append(time.process_time() - t0)
            per_run.append((dict(calls), dict(spent)))
    total = statistics.median(totals)
    groups = collections.defaultdict(lambda: [0, [], 0])
    for n, m in leaves.items():
        g = groups[group(n, m)]
        g[0] += per_run[0][0].get(n, 0); g[2] += flops.get(n, 0)
    for g_name in groups:
        groups[g_name][1] = statistics.median(sum(s.get(n, 0.0) for n, m in leaves.items() if group(n, m) == g_name) for _, s in per_run)
    print(f"{args.model} inference at {args.size}² output, input {tuple(x[0].shape)}, 1 thread, median of {args.repeats} forwards on the CPU clock: "
          f"{total * 1e3:.1f} ms, {counter.get_total_flops() / 1e9:.2f} GFLOP ({counter.get_total_flops() / total / peak:.0%} of the "
          f"{peak / 1e9:.1f} GFLOP/s 64->64 3x3 convolution peak); load average {os.getloadavg()[0]:.1f}")
    print(f"{'leaf modules':26} {'calls':>6} {'ms':>8} {'share':>6} {'GFLOP':>7} {'GFLOP/s':>8} {'of peak':>8}")
    for g_name, (n, s, f) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
        if s < 0.002 * total: continue
        rate = f"{f / s / 1e9:8.1f} {f / s / peak:8.0%}" if f else f"{'':8} {'':8}"
        print(f"{g_name:26} {n:6d} {s * 1e3:8.2f} {s / total:6.1%} {f / 1e9:7.3f} {rate}")
    inside = sum(g[1] for g in groups.values())
    print(f"{'outside modules':26} {'':6} {(total - inside) * 1e3:8.2f} {(total - inside) / total:6.1%}")
    if not args.ops: return
    with torch.no_grad(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        model(*x)
    conv = ("conv", "mkldnn", "_slow_conv2d", "thnn", "_convolution", "im2col")
    events = [e for e in prof.key_averages() if e.key.startswith("aten::") and not any(c in e.key for c in conv)]
    profiled = sum(e.self_cpu_time_total for e in prof.key_averages()) / 1e3
    print(f"\noperators outside convolutions by torch.profiler self time (one profiled forward: {profiled:.1f} ms; its per-call overhead "
          f"inflates operators of many small calls)")
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:args.ops]:
        print(f"  {e.key[6:]:24} {e.count:5d} calls {e.self_cpu_time_total / 1e3:8.2f} ms  ({e.self_cpu_time_total / 1e3 / e.count:.3f} ms/call)")


if __name__ == "__main__":
    main()
