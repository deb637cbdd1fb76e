"Check a flow pre-training recipe through the library (restorekit.exp_stbn.pretrained_flownet) on both STBN tables' held-out pairs."
import json, sys, tempfile, time
import torch
torch.set_num_threads(1)
sys.path.insert(0, "/tmp/stbn20")
from probe import decompose
from restorekit.data import RestorationDataset
from restorekit.evaluation import EvalSet, flow_errors, flow_pairs, table_eval_seed
from restorekit.exp_stbn import pretrained_flownet
from restorekit.layers import neighbour_flows

def eval_set(table):
    return EvalSet.from_dataset(RestorationDataset("denoise", "eval", length=16, n_frames=5, crop=48, seed=table_eval_seed(table), sigma=30,
                                                   sources=("synthetic", "bikes", "carphone")))

if __name__ == "__main__":
    name, seed, kw = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    settings = dict(kw)
    with tempfile.TemporaryDirectory() as cache:
        net, info = pretrained_flownet(seed, 4, kw.pop("steps", 400), kw.pop("crop", 96), kw.pop("n_clips", 16), sources=("synthetic",), cache_dir=cache, **kw)
    flows = lambda clip: {"flownet": neighbour_flows(clip[None], net, both=False)[0][0]}
    res = {"name": name, "seed": seed, "kw": settings, "pretrain_cpu_s": info["cpu_time"], "loss_first": info["loss_first"], "loss_last": info["loss_last"]}
    for table in ("stbn_t3", "stbn_align"):
        es = eval_set(table)
        with torch.no_grad():
            res[table] = {"noisy": flow_errors(flows, es, "lq"), "clean": flow_errors(flows, es, "hq")}
            res[table]["decomposition_noisy"] = decompose(net, flow_pairs(es, "lq"))
    print(json.dumps(res))
    with open("/tmp/stbn20/recipe.jsonl", "a") as f: f.write(json.dumps(res) + "\n")
