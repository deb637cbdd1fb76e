"Add the lambda_reach.py runs to results/ncfl_rate_probes/cpu.json under 'lambda_reach' (the file's other entries are kept)."
import json, sys
from pathlib import Path
from restorekit.core import code_version
src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/ncfl14f/reach")
dest = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "results/ncfl_rate_probes/cpu.json"
record = json.loads(dest.read_text())
runs = []
for p in sorted(src.glob("*.json")):
    d = json.loads(p.read_text())
    runs.append({**d["result"], "history": [{k: h[k] for k in ("step", "loss", "bpp", "mse")} for h in d["history"]],
                 "state": d["state"]})   # the prior's state every 20 compression calls (5 updates)
record["lambda_reach"] = {"about": "Table 6's adaptive row (q <= 0.01, sigma >= q/8, quant_mode mixed, entropy model at 10x lr) retrained "
                                   "for 300 updates (150 a stage) at several lambda, with the entropy model's Adam epsilon at its default "
                                   "(entropy_eps 0) or raised so that its step follows its gradient; the state logged every 5 updates",
                          "script": "benchmarks/ncfl_rate_probes/lambda_reach.py", "code_version": code_version(), "runs": runs}
dest.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
print(dest, len(runs), "runs")
