"Levers of the STBN tables' flow pre-training, on stbn_t3's held-out pairs: the loop of restorekit.flownet.pretrain_flownet (the preset's recipe) plus noise on the net's inputs; the number of training windows is n_clips."
import json, math, os, sys, time
from pathlib import Path
import torch
torch.set_num_threads(1)
from restorekit.core import make_generator
from restorekit.data import RestorationDataset
from restorekit.evaluation import EvalSet, flow_errors, table_eval_seed
from restorekit.flownet import PyramidFlowNet, _photometric_loss
from restorekit.layers import neighbour_flows

OUT = Path(os.environ.get("STBN_FLOW_OUT", "/tmp/stbn22"))

def eval_set(table):
    return EvalSet.from_dataset(RestorationDataset("denoise", "eval", length=16, n_frames=5, crop=48, seed=table_eval_seed(table), sigma=30,
                                                   sources=("synthetic", "bikes", "carphone")))

def train(seed, steps=1200, lr=1e-3, crop=48, n_clips=64, batch=16, input_sigma=0.0, warmup=0, levels=4, widths=(16, 32, 16), smooth=0.02,
          evals=()):
    data = RestorationDataset("denoise", "train", n_frames=3, crop=crop, length=n_clips, seed=seed, sources=("synthetic",), sigma=0.0)
    clips = torch.stack([data[i]["lq"] for i in range(n_clips)])
    torch.manual_seed(seed)
    net = PyramidFlowNet(levels, widths=tuple(widths))
    b, t, _, h, w = clips.shape
    g = make_generator(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train(); losses = []; curve = {}
    cpu0 = time.process_time()
    for step in range(steps):
        cos = lr / 20 + (lr - lr / 20) * 0.5 * (1 + math.cos(math.pi * step / max(1, steps - 1)))
        opt.param_groups[0]["lr"] = cos * min(1.0, (step + 1) / warmup) if warmup else cos
        refs, others = [], []
        for _ in range(batch):
            i, k = int(torch.randint(b, (1,), generator=g)), int(torch.randint(t - 1, (1,), generator=g))
            y, x = int(torch.randint(h - crop + 1, (1,), generator=g)), int(torch.randint(w - crop + 1, (1,), generator=g))
            a, c = clips[i, k, :, y:y + crop, x:x + crop], clips[i, k + 1, :, y:y + crop, x:x + crop]
            (a, c) = (a, c) if torch.rand(1, generator=g) < 0.5 else (c, a)
            refs.append(a); others.append(c)
        ref, other = torch.stack(refs), torch.stack(others)
        if input_sigma:
            s = input_sigma / 255
            nin_r = ref + torch.randn(ref.shape, generator=g) * s; nin_o = other + torch.randn(other.shape, generator=g) * s
            levels_out = net.pyramid(nin_r, nin_o)
            # the photometric loss compares the clean frames, pooled as the net pools its inputs
            loss = 0
            imgs = [torch.cat([ref, other])]
            for _ in range(net.levels - 1): imgs.append(torch.nn.functional.avg_pool2d(imgs[-1], 2))
            for (r_, o_, flow), lvl in zip(levels_out, reversed(imgs)):
                r, o = lvl.chunk(2)
                loss = loss + _photometric_loss(r, o, flow, smooth, True)
        else:
            loss = sum(_photometric_loss(r, o, flow, smooth, True) for r, o, flow in net.pyramid(ref, other))
        opt.zero_grad(); loss.backward(); opt.step(); losses.append(loss.item())
        if step + 1 in evals:
            net.eval(); curve[step + 1] = ev(net); net.train()
    cpu = time.process_time() - cpu0
    net.eval()
    return net, cpu, losses, curve

_ES = {}
def ev(net, table="stbn_t3"):
    if table not in _ES: _ES[table] = eval_set(table)
    flows = lambda clip: {"flownet": neighbour_flows(clip[None], net, both=False)[0][0]}
    with torch.no_grad():
        return {"noisy": flow_errors(flows, _ES[table], "lq")["epe_flownet"], "clean": flow_errors(flows, _ES[table], "hq")["epe_flownet"]}

if __name__ == "__main__":
    name, seed, kw = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    net, cpu, losses, curve = train(seed, **kw)
    res = {"name": name, "seed": seed, "kw": kw, "train_cpu_s": cpu, "loss_first": sum(losses[:10]) / 10, "loss_last": sum(losses[-10:]) / 10,
           "curve": curve, "stbn_t3": ev(net)}
    print(json.dumps(res), flush=True)
    with open(OUT / "levers.jsonl", "a") as f: f.write(json.dumps(res) + "\n")
