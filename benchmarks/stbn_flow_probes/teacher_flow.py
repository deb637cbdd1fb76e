"""What the distillation target is worth: a trained STBN's flow net scored on stbn_t3's held-out pairs on the noisy frames
(what the student sees), on the model's own denoised frames (the target a teacher copy of it computes, STBN Eq. 5) and on the
clean frames (the best a denoiser could hand it); the speed ratio (estimated over true flow length on the visible pixels)
and the mean distance between the flow on noisy and on denoised frames (the distillation term on these pairs). Usage: python teacher_flow.py SWEEP_DIR SEED  (SWEEP_DIR: a stbn_t3 cpu-* folder
with the runs' model checkpoints, i.e. a sweep's --out folder, not the committed results)."""
import json, os, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
from restorekit.checkpoint import load_model
from restorekit.data import RestorationDataset
from restorekit.evaluation import EvalSet, flow_errors, flow_pairs, table_eval_seed
from restorekit.layers import evaluation_mode, neighbour_flows

if __name__ == "__main__":
    sweep, seed = Path(sys.argv[1]), int(sys.argv[2])
    es = EvalSet.from_dataset(RestorationDataset("denoise", "eval", length=16, n_frames=5, crop=48, seed=table_eval_seed("stbn_t3"), sigma=30,
                                                 sources=("synthetic", "bikes", "carphone")))
    res = {"seed": seed, "sweep": sweep.name}
    for row in ("srfe", "flow_refinement"):
        model = load_model(sweep / row / f"seed{seed}.pt").model
        net = model.flownet
        with evaluation_mode(model), torch.no_grad():
            on_noisy = lambda clip: {"flownet": neighbour_flows(clip[None], net, both=False)[0][0]}
            on_denoised = lambda clip: {"flownet": neighbour_flows(model(clip[None]), net, both=False)[0][0]}
            res[row] = {"noisy": flow_errors(on_noisy, es, "lq"), "denoised": flow_errors(on_denoised, es, "lq"), "clean": flow_errors(on_noisy, es, "hq")}
            lengths = {"truth": 0.0, "noisy": 0.0, "denoised": 0.0}; distance, n = 0.0, 0.0
            for clip, truth, visible in flow_pairs(es, "lq"):
                f_noisy, f_denoised = on_noisy(clip)["flownet"], on_denoised(clip)["flownet"]
                for k, f in (("truth", truth), ("noisy", f_noisy), ("denoised", f_denoised)): lengths[k] += float((f.norm(dim=1, keepdim=True) * visible).sum())
                distance += float((f_noisy - f_denoised).norm(dim=1).mean()) * len(truth); n += len(truth)
            res[row]["speed_ratio"] = {k: lengths[k] / lengths["truth"] for k in ("noisy", "denoised")}
            res[row]["distill_distance"] = distance / n
        print(row, res[row]["speed_ratio"], res[row]["distill_distance"], {k: round(res[row][k]["epe_flownet"], 4) for k in ("noisy", "denoised", "clean")}, flush=True)
    with open(Path(os.environ.get("STBN_FLOW_OUT", "/tmp/stbn22")) / "teacher_flow.jsonl", "a") as f: f.write(json.dumps(res) + "\n")
