"Add the temporal_gap.py runs to results/ncfl_rate_probes/cpu.json under 'temporal_gap' (the file's other entries are kept)."
# python collect_temporal.py [SRC_DIR] [DEST_JSON] [CODE_VERSION of the runs that do not record theirs]
import json, sys
from pathlib import Path
from restorekit.core import atomic_write_text, code_version
src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/ncfl14g/gap")
dest = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parents[2] / "results/ncfl_rate_probes/cpu.json"
ran_at = sys.argv[3] if len(sys.argv) > 3 else code_version()   # for runs made before temporal_gap.py recorded its version
record = json.loads(dest.read_text())
runs = []
for p in sorted(src.glob("*.json")):
    d = json.loads(p.read_text())
    runs.append({"code_version": ran_at, **d["result"], "config": d["config"],
                 "history": [{k: h[k] for k in ("step", "loss", "bpp", "mse")} for h in d["history"]]})
record["temporal_gap"] = {
    "about": "AWGN denoising at the cpu preset's sizes and learning rates (600 updates of 4 windows of 32x32, C = 16, DIS flow, "
             "entropy model at 10x lr) under other data conditions: rows 'open' (Table 5's '+ NCFL' with quantization none and no "
             "rate term: the most its temporal path can carry), 'zeroed' (the same with zeros for the temporal features) and "
             "'rate<lambda>' (Table 5's '+ NCFL' as trained, at lambda); 'condition' holds the data and NCFLConfig overrides. "
             "Scores on 16 held-out windows of the same condition drawn with ncfl_t5's evaluation seed; psnr_motion_average: "
             "the row's own outputs averaged causally along the exact motion (synthetic windows), what a temporal path could add",
    "script": "benchmarks/ncfl_rate_probes/temporal_gap.py", "code_version": code_version(), "runs": runs}
atomic_write_text(dest, json.dumps(record, indent=1, sort_keys=True) + "\n")
print(dest, len(runs), "runs")
