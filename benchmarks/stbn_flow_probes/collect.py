"Gather the probes (probe.py, seed 0) and the recipe check (recipe.py, through the library) into results/stbn_flow_probes/cpu.json."
import json, sys
from pathlib import Path
from restorekit.sweep import library_versions
from restorekit.core import code_version
out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/stbn20")
RECIPE = "recipe_clean_mask_w48_cos1200"  # the recipe checked on seeds 0-2; other recipe.py rows are longer variants of it
read = lambda name: [json.loads(l) for l in open(out_dir / name)] if (out_dir / name).exists() else []
record = {"about": "STBN tables' flow net (PyramidFlowNet, 4 levels) on the held-out pairs of stbn_t3 (probes) and of both tables (recipe): "
                   "EPE on visible pixels (exact synthetic flow), noisy (lq) and clean (hq) frames; train_cpu_s / pretrain_cpu_s single-threaded",
          "scripts": {"probes": "benchmarks/stbn_flow_probes/probe.py", "recipe": "benchmarks/stbn_flow_probes/recipe.py", "windows": "benchmarks/stbn_flow_probes/windows.py"},
          "code_version": code_version(), "versions": library_versions(),
          "probes": read("probes.jsonl"), "recipe": [r for r in read("recipe.jsonl") if r["name"] == RECIPE],
          "recipe_longer": [r for r in read("recipe.jsonl") if r["name"] != RECIPE],
          "windows": json.loads((out_dir / "windows.json").read_text()) if (out_dir / "windows.json").exists() else [],
          "partial": {"clean_mask_cos1800": {"kw": {"sigma": 0.0, "mask_out": True, "steps": 1800, "schedule": "cosine"}, 
                      "noisy_epe_at": {int(l.split()[1]): float(l.split()[2]) for l in open(out_dir / "clean_mask_cos1800_partial.log") if l.startswith("step")}}}}
record["partial"]["clean_mask_cos1800"]["stopped_after"] = max(record["partial"]["clean_mask_cos1800"]["noisy_epe_at"])
path = Path("/work/wt-stbn20/results/stbn_flow_probes/cpu.json"); path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
print(path, len(record["probes"]), "probes", len(record["recipe"]), "recipe rows")
