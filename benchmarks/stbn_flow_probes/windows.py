"Per-window EPE of saved probe nets, DIS and zero flow on stbn_t3's held-out synthetic windows (noisy and clean frames)."
import json, sys
import torch
torch.set_num_threads(1)
sys.path.insert(0, "/tmp/stbn20")
from probe import eval_pairs
from restorekit.evaluation import dis_flows
from restorekit.flownet import PyramidFlowNet

nets = {}
for name in sys.argv[1:]:
    nets[name] = PyramidFlowNet(); nets[name].load_state_dict(torch.load(f"/tmp/stbn20/net-{name}.pt", weights_only=True)); nets[name].eval()
rows = []
for k, ((noisy, truth, vis), (clean, _, _)) in enumerate(zip(eval_pairs(frames="lq"), eval_pairs(frames="hq"))):
    m = lambda f: float(((f - truth).norm(dim=1, keepdim=True) * vis).sum() / vis.sum())
    row = {"window": k, "mean_speed": float((truth.norm(dim=1, keepdim=True) * vis).sum() / vis.sum()), "visible": float(vis.mean()),
           "zero": m(torch.zeros_like(truth)), "dis_noisy": m(dis_flows(noisy)), "dis_clean": m(dis_flows(clean))}
    with torch.no_grad():
        for name, net in nets.items(): row[f"{name}_noisy"], row[f"{name}_clean"] = m(net(noisy[1:], noisy[:-1])), m(net(clean[1:], clean[:-1]))
    rows.append(row)
print(json.dumps(rows, indent=1))
json.dump(rows, open("/tmp/stbn20/windows.json", "w"), indent=1)
