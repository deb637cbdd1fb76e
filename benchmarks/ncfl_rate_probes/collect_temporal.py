"Add temporal_gap.py runs to results/ncfl_rate_probes/cpu.json under one key (the file's other entries are kept)."
# python collect_temporal.py [SRC_DIR] [DEST_JSON] [--key temporal_gap|temporal_accumulation] [--ran-at CODE_VERSION]
import argparse, json
from pathlib import Path
from restorekit.core import atomic_write_text, code_version
ABOUT = {
    "temporal_gap":
        "AWGN denoising at the cpu preset's sizes and learning rates (600 updates of 4 windows of 32x32, C = 16, DIS flow, "
        "entropy model at 10x lr) under other data conditions: rows 'open' (Table 5's '+ NCFL' with quantization none and no "
        "rate term: the most its temporal path can carry), 'zeroed' (the same with zeros for the temporal features) and "
        "'rate<lambda>' (Table 5's '+ NCFL' as trained, at lambda); 'condition' holds the data and NCFLConfig overrides. "
        "Scores on 16 held-out windows of the same condition drawn with ncfl_t5's evaluation seed; psnr_motion_average: "
        "the row's own outputs averaged causally along the exact motion (synthetic windows), what a temporal path could add",
    "temporal_accumulation":
        "Why the open temporal path's gain does not grow over the window, and what makes it grow: the rows and scoring of "
        "'temporal_gap' (same script), with the NCFLConfig.state_image lever in 'condition.config' ('input': the state carries "
        "the restored frame with c_t; 'gated': also a convex update of the output) and training levers (iters, crop, n_frames). "
        "readout_psnr_by_frame: PSNR per frame index of an affine least-squares read-out (1x1, and 3x3 = the image head's footprint) of the clean frame (fit per frame "
        "index on 32 training windows, scored on the held-out ones) from the noisy frame x_t, the temporal input c~_t the U-Net "
        "receives at t, the state c_t it emits, and c_t with x_t",
}
parser = argparse.ArgumentParser()
parser.add_argument("src", nargs="?", default="/tmp/ncfl14g/gap")
parser.add_argument("dest", nargs="?", default=str(Path(__file__).resolve().parents[2] / "results/ncfl_rate_probes/cpu.json"))
parser.add_argument("--key", default="temporal_gap", choices=sorted(ABOUT))
parser.add_argument("--ran-at", default=None, help="code version of runs that do not record theirs")
args = parser.parse_args()
dest = Path(args.dest)
record = json.loads(dest.read_text())
runs = []
for p in sorted(Path(args.src).glob("*.json")):
    d = json.loads(p.read_text())
    runs.append({"code_version": args.ran_at or code_version(), **d["result"], "config": d["config"],
                 "history": [{k: h[k] for k in ("step", "loss", "bpp", "mse")} for h in d["history"]]})
record[args.key] = {"about": ABOUT[args.key], "script": "benchmarks/ncfl_rate_probes/temporal_gap.py", "code_version": code_version(), "runs": runs}
atomic_write_text(dest, json.dumps(record, indent=1, sort_keys=True) + "\n")
print(dest, args.key, len(runs), "runs")
