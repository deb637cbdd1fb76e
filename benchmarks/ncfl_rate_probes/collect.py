"Gather the rate probes (rate_gap.py lines, train_probe.py trajectories) into results/ncfl_rate_probes/cpu.json."
import json, sys
from pathlib import Path
from restorekit.core import code_version
from restorekit.sweep import library_versions
src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/ncfl5")
dest = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "results/ncfl_rate_probes/cpu.json"
lines = lambda name: [json.loads(l) for l in open(src / name)] if (src / name).exists() else []
STATE_KEYS = {"e": "abs_e", "dev": "abs_e_minus_mu", "sigma": "sigma", "q": "q", "centre": "centre_bin", "bits_sym": "bits_per_symbol",
              "zbits": "z_bits", "call": "call"}   # the hook's short names -> train_probe.py's

def trajectory(name, overrides, log, path=None):
    "A train_probe run: its history (step, loss, bpp, mse) and the entropy model's state, from its JSON or its printed log."
    if path is not None:
        d = json.loads((src / path).read_text())
        history = [{k: h[k] for k in ("step", "loss", "bpp", "mse")} for h in d["history"]]
        state = [{STATE_KEYS.get(k, k): v for k, v in s.items()} for s in d.get("log", d.get("state", []))]
    else:
        text = (src / log).read_text().splitlines()
        history = [dict(zip(("step", "loss", "bpp", "mse"), (int(l.split()[1]), *map(float, l.split()[2:5])))) for l in text if l.startswith("H ")]
        state = [{STATE_KEYS[k]: v for k, v in eval(l[2:]).items()} for l in text if l.startswith("L ")]
    cpu_s = next(float(l.split()[1]) for l in (src / log).read_text().splitlines() if l.startswith("cpu_s "))
    return {"name": name, "variant": "adaptive_lam1e-3", "seed": 1, "overrides": overrides, "train_cpu_s": cpu_s, "history": history,
            "state_every_120_calls": state[::3]}

record = {"about": "NCFL Table 6's adaptive quantizer at cpu scale (AWGN sigma 50, 600 updates, C = 16, lambda per row): the rate of trained "
                   "checkpoints on the table's 16 evaluation windows as evaluated (rounded symbols) and as training prices it "
                   "(quant_mode 'mixed': latents plus uniform noise), with the prior's sigma/q; and the training of the adaptive "
                   "lambda = 1e-3 row of seed 1 with sigma/q unbounded, bounded at 1/8 (noise pricing), and bounded with the rate priced "
                   "on the straight-through rounded latents",
          "scripts": {"gap": "benchmarks/ncfl_rate_probes/rate_gap.py", "train": "benchmarks/ncfl_rate_probes/train_probe.py"},
          "code_version": code_version(), "versions": library_versions(),
          "gap": lines("gap_old.jsonl") + lines("gap_probe.jsonl") + lines("gap_new.jsonl"),
          "trajectories": [trajectory("sigma/q unbounded (cpu-e94b5082)", {}, "traj-a3-1.log", path="traj-adaptive_lam1e-3-1-3.json"),
                           trajectory("sigma >= q/8, rate on noisy latents", {"sigma_step_ratio": 0.125}, "traj-a3-1-f125.log",
                                      path="traj-adaptive_lam1e-3-1-4.json"),
                           trajectory("sigma >= q/8, rate on rounded latents (STE)", {"sigma_step_ratio": 0.125, "quant_mode": "ste"},
                                      "traj-a3-1-f125-ste.log")]}
sweep = Path("/tmp/fresh-ncfl6/ncfl_t6/cpu-63c1249f/runs.jsonl")   # the cpu preset with sigma_step_ratio = 1/8, stopped after seed 0's adaptive rows
record["sweep_sigma_step_ratio_1_8"] = [{k: r[k] for k in ("variant", "seed", "metrics", "cpu_time", "code_version", "params_hash")}
                                        for r in map(json.loads, open(sweep)) if r["status"] == "done"] if sweep.exists() else []
record["probes"] = [json.loads(p.read_text())["result"] for p in sorted((src / "probes").glob("*.json"))]   # train_probe.py runs
dest.parent.mkdir(parents=True, exist_ok=True)
dest.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
print(dest, len(record["gap"]), "checkpoints,", len(record["trajectories"]), "trajectories,", len(record["probes"]), "probes")
