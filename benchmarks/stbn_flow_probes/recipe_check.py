"A flow pre-training recipe through restorekit.exp_stbn.pretrained_flownet (the user's cache: the sweep loads these nets) on both STBN tables' held-out pairs."
import json, os, sys
from pathlib import Path
import torch
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).parent))
from probe import decompose
from restorekit.data import RestorationDataset
from restorekit.evaluation import EvalSet, flow_errors, flow_pairs, table_eval_seed
from restorekit.exp_stbn import pretrained_flownet
from restorekit.layers import neighbour_flows

def eval_set(table):
    return EvalSet.from_dataset(RestorationDataset("denoise", "eval", length=16, n_frames=5, crop=48, seed=table_eval_seed(table), sigma=30,
                                                   sources=("synthetic", "bikes", "carphone")))

if __name__ == "__main__":
    name, seeds, kw = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], json.loads(sys.argv[3])
    for seed in seeds:
        k = dict(kw)
        net, info = pretrained_flownet(seed, 4, k.pop("steps"), k.pop("crop"), k.pop("n_clips"), sigma=0.0, sources=("synthetic",), **k)
        flows = lambda clip: {"flownet": neighbour_flows(clip[None], net, both=False)[0][0]}
        res = {"name": name, "seed": seed, "kw": kw, "pretrain_cpu_s": info["cpu_time"], "cached": info["cached"], "loss_first": info["loss_first"], "loss_last": info["loss_last"]}
        for table in ("stbn_t3", "stbn_align"):
            es = eval_set(table)
            with torch.no_grad():
                res[table] = {"noisy": flow_errors(flows, es, "lq"), "clean": flow_errors(flows, es, "hq")}
                res[table]["decomposition_noisy"] = decompose(net, flow_pairs(es, "lq"))
        print(name, seed, {t: round(res[t]["noisy"]["epe_flownet"], 4) for t in ("stbn_t3", "stbn_align")}, round(info["cpu_time"]), flush=True)
        with open(Path(os.environ.get("STBN_FLOW_OUT", "/tmp/stbn22")) / "recipe_check.jsonl", "a") as f: f.write(json.dumps(res) + "\n")
