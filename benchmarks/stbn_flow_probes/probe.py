"Scratch probes of the STBN tables' flow net (seed 0): decomposition of the held-out EPE and training levers."
import json, math, sys, time
import torch, torch.nn.functional as F
torch.set_num_threads(1)
from restorekit.data import RestorationDataset
from restorekit.degrade import degrade
from restorekit.evaluation import EvalSet, flow_pairs, table_eval_seed
from restorekit.flownet import PyramidFlowNet, _photometric_loss
from restorekit.layers import neighbour_flows
from restorekit.warp import resize_flow, warp
from restorekit.core import make_generator

def eval_pairs(table="stbn_t3", frames="lq"):
    ds = RestorationDataset("denoise", "eval", length=16, n_frames=5, crop=48, seed=table_eval_seed(table), sigma=30,
                            sources=("synthetic", "bikes", "carphone"))
    return flow_pairs(EvalSet.from_dataset(ds), frames)

def decompose(net, pairs):
    errs, truths, vis, levels = [], [], [], {}
    for clip, truth, visible in pairs:
        later, earlier = clip[1:], clip[:-1]
        with torch.no_grad(): pyr = net.pyramid(later, earlier)
        h, w = clip.shape[-2:]
        for k, (_, _, f) in enumerate(pyr):
            H, W = f.shape[-2:]
            full = resize_flow(f, (H * 2 ** (len(pyr) - 1 - k), W * 2 ** (len(pyr) - 1 - k)))[..., :h, :w]
            levels.setdefault(k, []).append((full - truth).norm(dim=1, keepdim=True))
        est = pyr[-1][2][..., :h, :w]
        errs.append((est - truth).norm(dim=1, keepdim=True)); truths.append(truth); vis.append(visible)
        levels.setdefault("est", []).append(est)
    e, t, v = torch.cat(errs), torch.cat(truths), torch.cat(vis)
    est = torch.cat(levels.pop("est"))
    mean = lambda m: float((e * m).sum() / m.sum())
    share = lambda m: float((e * m).sum() / (e * v).sum())
    frac = lambda m: float(m.sum() / v.sum())
    h, w = e.shape[-2:]
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    dist = torch.minimum(torch.minimum(yy, h - 1 - yy), torch.minimum(xx, w - 1 - xx))[None, None].float()
    mag = t.norm(dim=1, keepdim=True)
    gx = (t[..., :, 1:] - t[..., :, :-1]).norm(dim=1, keepdim=True); gy = (t[..., 1:, :] - t[..., :-1, :]).norm(dim=1, keepdim=True)
    edge = torch.zeros_like(mag); edge[..., :, 1:] += gx > 0.5; edge[..., :, :-1] += gx > 0.5; edge[..., 1:, :] += gy > 0.5; edge[..., :-1, :] += gy > 0.5
    edge = (F.max_pool2d((edge > 0).float(), 5, 1, 2) > 0).float()
    out = {"epe": mean(v), "n_visible": int(v.sum()), "occluded_or_out_frac": float(1 - v.mean())}
    for b in (4, 8):
        m = v * (dist < b).float(); out[f"border{b}"] = {"epe": mean(m), "frac": frac(m), "share": share(m)}
        m = v * (dist >= b).float(); out[f"interior{b}"] = {"epe": mean(m), "frac": frac(m)}
    m = v * edge; out["motion_edges"] = {"epe": mean(m), "frac": frac(m), "share": share(m)}
    m = v * (1 - edge); out["smooth"] = {"epe": mean(m), "frac": frac(m)}
    for lo, hi in ((0, 1), (1, 2), (2, 3), (3, 4), (4, 99)):
        m = v * ((mag >= lo) & (mag < hi)).float()
        if m.sum() > 0: out[f"mag{lo}-{hi}"] = {"epe": mean(m), "frac": frac(m), "share": share(m)}
    proj = ((est * t).sum(1, keepdim=True) / mag.clamp_min(1e-3))
    m = v * (mag > 1).float()
    out["gain"] = float((proj / mag.clamp_min(1e-3) * m).sum() / m.sum())   # < 1: the net under-estimates the motion
    out["levels"] = [float((torch.cat(l) * v).sum() / v.sum()) for k, l in sorted(levels.items())]
    return out

def train(seed=0, steps=400, lr=1e-3, batch=4, crop=96, window=96, n_clips=16, n_frames=3, levels=4, widths=(16, 32, 16), kernel=5,
          loss="photo", smooth=0.02, schedule="const", warmup=0, fresh_noise=False, sigma=30.0, sources=("synthetic",),
          level_weights=None, mask_out=False, checkpoints=()):
    curve = {}
    pairs_cp = eval_pairs() if checkpoints else None
    cpu0 = time.process_time()
    data = RestorationDataset("denoise", "train", n_frames=n_frames, crop=window, length=n_clips, seed=seed, sources=sources, sigma=sigma)
    items = [data[i] for i in range(n_clips)]
    noisy = torch.stack([it["lq"] for it in items]); clean = torch.stack([it["hq"] for it in items])
    fb = torch.stack([it["flow_bwd"] for it in items]); vb = 1 - torch.stack([it["occ_bwd"] for it in items])
    ff = torch.stack([it["flow_fwd"] for it in items]); vf = 1 - torch.stack([it["occ_fwd"] for it in items])
    torch.manual_seed(seed)
    net = PyramidFlowNet(levels, widths=widths, kernel_size=kernel)
    g = make_generator(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    def lr_at(s):
        if warmup and s < warmup: return lr * (s + 1) / warmup
        if schedule == "cosine": return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (s - warmup) / max(1, steps - warmup))))
        return lr
    b, t, _, h, w = noisy.shape
    ch, cw = min(crop, h), min(crop, w)
    net.train(); losses = []
    for s in range(steps):
        for grp in opt.param_groups: grp["lr"] = lr_at(s)
        refs, others, flows, viss = [], [], [], []
        for _ in range(batch):
            i, k = int(torch.randint(b, (1,), generator=g)), int(torch.randint(t - 1, (1,), generator=g))
            y, x = int(torch.randint(h - ch + 1, (1,), generator=g)), int(torch.randint(w - cw + 1, (1,), generator=g))
            src = clean if fresh_noise else noisy
            a, c = src[i, k, :, y:y + ch, x:x + cw], src[i, k + 1, :, y:y + ch, x:x + cw]
            if torch.rand(1, generator=g) < 0.5:    # ref = frame k (flow_fwd samples frame k+1), as pretrain_flownet orders it
                refs.append(a); others.append(c); flows.append(ff[i, k, :, y:y + ch, x:x + cw]); viss.append(vf[i, k, :, y:y + ch, x:x + cw])
            else:
                refs.append(c); others.append(a); flows.append(fb[i, k, :, y:y + ch, x:x + cw]); viss.append(vb[i, k, :, y:y + ch, x:x + cw])
        ref, other, flow, vis = map(torch.stack, (refs, others, flows, viss))
        if fresh_noise:
            n = torch.randn(ref.shape, generator=g) * sigma / 255; ref = ref + n
            n = torch.randn(other.shape, generator=g) * sigma / 255; other = other + n
        pyr = net.pyramid(ref, other)
        L = len(pyr)
        if loss == "photo":
            if mask_out:
                tot = 0
                for r, o, f in pyr:
                    hh, ww = f.shape[-2:]
                    yy, xx = torch.meshgrid(torch.arange(hh), torch.arange(ww), indexing="ij")
                    inside = ((xx + f[:, 0] >= 0) & (xx + f[:, 0] <= ww - 1) & (yy + f[:, 1] >= 0) & (yy + f[:, 1] <= hh - 1)).float()[:, None].detach()
                    d = (r - warp(o, f)).square().add(1e-6).sqrt().mean(1, keepdim=True)
                    sm = (f[..., 1:, :] - f[..., :-1, :]).abs().mean() + (f[..., :, 1:] - f[..., :, :-1]).abs().mean()
                    tot = tot + (d * inside).sum() / inside.sum().clamp_min(1) + smooth * sm
                lv = tot
            else:
                lv = sum(_photometric_loss(r, o, f, smooth) for r, o, f in pyr)
        else:   # supervised on exact flow, visible pixels; "epe" (L2 norm) or "l1" or "charb"
            lw = level_weights or [1.0] * L
            lv = 0
            for k, (r, o, f) in enumerate(pyr):
                hh, ww = f.shape[-2:]
                tgt = resize_flow(flow, (hh, ww)) if (hh, ww) != flow.shape[-2:] else flow
                vv = F.interpolate(vis, size=(hh, ww), mode="area") if (hh, ww) != vis.shape[-2:] else vis
                d = f - tgt
                if loss == "epe": e = d.square().sum(1, keepdim=True).add(1e-6).sqrt()
                elif loss == "l1": e = d.abs().sum(1, keepdim=True)
                else: e = d.abs().sum(1, keepdim=True).add(0.01).pow(0.4)
                lv = lv + lw[k] * (e * vv).sum() / vv.sum().clamp_min(1)
        opt.zero_grad(); lv.backward(); opt.step(); losses.append(lv.item())
        if s + 1 in checkpoints:
            net.eval(); curve[s + 1] = decompose(net, pairs_cp)['epe']; net.train(); print('step', s + 1, curve[s + 1], flush=True)
    net.eval()
    train.curve = curve
    return net, time.process_time() - cpu0, losses

if __name__ == "__main__":
    name = sys.argv[1]; kw = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    table = kw.pop("table", "stbn_t3")
    for k in ("widths", "sources"):
        if k in kw: kw[k] = tuple(kw[k])
    net, cpu, losses = train(**kw)
    res = {"curve": getattr(train, "curve", {}), "name": name, "kw": kw, "train_cpu_s": cpu, "loss_first": sum(losses[:10]) / 10, "loss_last": sum(losses[-10:]) / 10}
    res["noisy"] = decompose(net, eval_pairs(table, "lq")); res["clean"] = decompose(net, eval_pairs(table, "hq"))
    print(json.dumps(res))
    with open("/tmp/stbn20/probes.jsonl", "a") as f: f.write(json.dumps(res) + "\n")
    torch.save(net.state_dict(), f"/tmp/stbn20/net-{name}.pt")
