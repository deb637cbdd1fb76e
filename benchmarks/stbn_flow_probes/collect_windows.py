"Gather the training-windows study (pretrain_levers.py on seed 2, recipe_check.py and teacher_flow.py through the library) into results/stbn_flow_probes/training_windows.json."
import json, os, sys
from pathlib import Path
from restorekit.core import code_version
from restorekit.sweep import library_versions
out_dir = Path(os.environ.get("STBN_FLOW_OUT", "/tmp/stbn22"))
read = lambda name: [json.loads(l) for l in open(out_dir / name)] if (out_dir / name).exists() else []
record = {"about": "STBN tables' flow net (PyramidFlowNet, 4 levels): EPE on the visible pixels of the tables' held-out pairs (exact synthetic flow), "
                   "noisy (lq) and clean (hq) frames. levers: one change at a time to the recipe of cpu.json's recipe rows (64 clean 48² "
                   "synthetic windows, out-of-frame mask, 16 pairs a step, 1200 steps, cosine from 1e-3) on seed 2, the worst seed of that recipe; "
                   "recipe: the cpu preset's pre-training (1024 windows) through restorekit.exp_stbn.pretrained_flownet, every seed, both tables; "
                   "teacher_flow: a trained model's flow net on noisy, its own denoised and clean frames; CPU seconds single-threaded",
          "scripts": {"levers": "benchmarks/stbn_flow_probes/pretrain_levers.py", "recipe": "benchmarks/stbn_flow_probes/recipe_check.py",
                      "teacher_flow": "benchmarks/stbn_flow_probes/teacher_flow.py"},
          "code_version": code_version(), "versions": library_versions(),
          "levers": read("levers.jsonl"), "recipe": read("recipe_check.jsonl"), "teacher_flow": read("teacher_flow.jsonl")}
path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/stbn_flow_probes/training_windows.json")
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
print(path, {k: len(v) for k, v in record.items() if isinstance(v, list)})
