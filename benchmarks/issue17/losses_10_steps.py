"""Losses of 10 training steps of each model's `cpu` workload (benchmarks/workloads.py), for comparing two restorekit versions.

    cd benchmarks && PYTHONPATH=DIR python issue17/losses_10_steps.py OUT.json [workloads...]   # DIR holds the restorekit to use
    python issue17/losses_10_steps.py --compare A.json B.json                                    # max relative difference per model
"""
import json, sys, os
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if sys.argv[1] == "--compare":
    a, b = (json.load(open(p)) for p in sys.argv[2:4])
    worst = 0.0
    for name in a:
        rel = max(abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a[name], b[name]))
        worst = max(worst, rel)
        print(f"{name:>16}: {len(a[name])} losses, max relative difference {rel:.2e}; first {a[name][0]:.8f} / {b[name][0]:.8f}, last {a[name][-1]:.8f} / {b[name][-1]:.8f}")
    print("allclose at 1e-6:", worst <= 1e-6)
    sys.exit(0 if worst <= 1e-6 else 1)

import torch, restorekit
from workloads import workloads
names = sys.argv[2:] or ["JFFRA", "STBN", "S2SVR", "NCFL"]
out = {}
for name, step in workloads(names).items():
    out[name] = [step() for _ in range(10)]
    print(name, restorekit.__file__, out[name][0], out[name][-1], flush=True)
json.dump(out, open(sys.argv[1], "w"), indent=1)
