"Is there a cpu-scale AWGN condition where NCFL's temporal features carry information? Train one row (open path, zeroed control, or a rate-loss row) under a data condition and score it per frame."
import json, sys, time
from pathlib import Path
import torch
from restorekit.core import code_version
from restorekit.data import RestorationDataset
from restorekit.evaluation import EvalSet, flow_errors, rate_share, table_eval_seed
from restorekit.exp_ncfl import run_ncfl_experiment
from restorekit.metrics import bits_per_pixel, psnr
from restorekit.ncfl import NCFL, NCFLConfig
from restorekit.warp import warp
torch.set_num_threads(1)

# python temporal_gap.py ROW SEED '{condition}' OUT_DIR
#   ROW: open (MVR + compression module, quantization none, no rate: the most the temporal path can carry),
#        zeroed (the same with zeros in place of the temporal features), rate<λ> (ncfl_t5's "+ NCFL" row at λ)
#   condition (all optional): n_frames, crop, noise_sigma, iters, n_train, n_eval, sources, synthetic_options, and
#        config: NCFLConfig overrides on top of the cpu preset's, zero_flow: true replaces the flow estimate by zeros (the exact
#        flow of a static scene: a diagnostic of what DIS's errors cost, not a row of the tables)
ROWS = {"open": {"quantization": "none", "rate_weight": 0.0, "ce_loss": False},
        "zeroed": {"quantization": "none", "rate_weight": 0.0, "ce_loss": False, "temporal_features": False}}
row, seed = sys.argv[1], int(sys.argv[2])
cond = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
out_dir = Path(sys.argv[4] if len(sys.argv) > 4 else "/tmp/ncfl_temporal_gap"); out_dir.mkdir(parents=True, exist_ok=True)
row_overrides = ROWS[row] if row in ROWS else {"rate_weight": float(row.removeprefix("rate"))}
n_frames, crop, sigma = cond.get("n_frames", 5), cond.get("crop", 32), cond.get("noise_sigma", 50.0)
iters, n_train, n_eval = cond.get("iters", 600), cond.get("n_train", 64), cond.get("n_eval", 16)
data = dict(sources=tuple(cond.get("sources", ("synthetic", "bikes", "carphone"))), synthetic_options=cond.get("synthetic_options"), sigma=sigma)
cfg = NCFLConfig.from_dict({"channels": 16, "latent_channels": 8, "mvr_channels": 8, "attention_channels": 8, "flow": "dis",
                            "rate_to_features": False, "quant_mode": "mixed", "rate_weight": 1e-2,       # the cpu preset
                            "mvr": True, "ncfl": True, "feature_attention": False,                      # ncfl_t5's "+ NCFL"
                            **row_overrides, **cond.get("config", {})})
if cond.get("zero_flow"):
    NCFL.estimate_flows = lambda self, clip: (clip.new_zeros(clip.shape[0], clip.shape[1] - 1, 2, *clip.shape[-2:]), None)
train_set = RestorationDataset("denoise", "train", n_frames, crop, n_train, seed, **data)
eval_set = EvalSet.from_dataset(RestorationDataset("denoise", "eval", n_frames, crop, n_eval, table_eval_seed("ncfl_t5"), **data))
t = time.process_time()
run = run_ncfl_experiment(cfg, iters=iters, batch_size=4, crop=crop, n_frames=n_frames, n_train=n_train, n_eval=1, noise_sigma=sigma,
                          seed=seed, lr=1e-3, datasets=(train_set, eval_set), entropy_lr_factor=10.0)
train_cpu_s = time.process_time() - t

def motion_average(frames, flows, occlusions):
    "Causal average of `frames (T, C, H, W)` along the exact motion: each pixel averages its track since it was last occluded."
    avg, count, out = frames[0], torch.ones_like(frames[0, :1]), [frames[0]]
    for i in range(1, len(frames)):
        visible = 1 - occlusions[i - 1]                              # (1, H, W): 1 where frame i's pixel is seen in frame i-1
        prev, prev_count = (warp(x[None], flows[i - 1][None])[0] for x in (avg, count))
        count = 1 + visible * prev_count
        avg = (frames[i] + visible * prev_count * prev) / count
        out.append(avg)
    return torch.stack(out)

model = run.model.eval()
per_frame, per_frame_input, per_frame_oracle, bpp, with_flow = [], [], [], [], []
with torch.no_grad():
    for item in eval_set:
        out = model(item["lq"][None])
        restored = out.restored[0].clamp(0, 1)
        bpp.append(float(bits_per_pixel(out.bits, item["lq"][None].shape)))
        per_frame.append(psnr(restored, item["hq"], reduction="frame"))
        per_frame_input.append(psnr(item["lq"].clamp(0, 1), item["hq"], reduction="frame"))
        if item.get("has_flow"):   # synthetic windows: average this row's own outputs along the exact motion
            per_frame_oracle.append(psnr(motion_average(restored, item["flow_bwd"], item["occ_bwd"]).clamp(0, 1), item["hq"], reduction="frame"))
            with_flow.append(per_frame[-1])
def unet_io(clip):
    "Per frame of one clip `(T, C, H, W)`: (the U-Net's input x_t ⊕ c̃_t, the features c_t it emits), from a forward hook."
    captured = []
    hook = model.unet.register_forward_hook(lambda module, args, out: captured.append((args[0][0], out[0][0], out[1][0])))
    try: model(clip[None])
    finally: hook.remove()
    return captured
C = model.cfg.channels
READOUT_SOURCES = {"frame": lambda inp, feat: inp[:3],                      # the noisy frame x_t alone
                   "temporal_input": lambda inp, feat: inp[3:],             # c̃_t: what step t receives from the past
                   "state": lambda inp, feat: feat,                         # c_t: what step t passes on
                   "state_and_frame": lambda inp, feat: torch.cat([feat, inp[:3]])}
def readout_psnr(n_fit=32, size=1):
    "PSNR per frame index of a least-squares affine read-out of the clean frame from size x size neighbourhoods (fit per frame index on n_fit training windows)."
    def pixels(items):
        out = {name: [[] for _ in range(n_frames)] for name in READOUT_SOURCES}
        for item in items:
            for t, (inp, feat, _) in enumerate(unet_io(item["lq"])):
                for name, pick in READOUT_SOURCES.items():
                    x = torch.nn.functional.unfold(pick(inp, feat).double()[None], size, padding=size // 2)[0]   # (k·size², H·W)
                    out[name][t].append(torch.cat([x, torch.ones_like(x[:1])]).T)
        return out
    n_fit = min(n_fit, len(train_set))
    fit, held = pixels(train_set[i] for i in range(n_fit)), pixels(eval_set)
    targets_fit = [torch.cat([train_set[i]["hq"][t].double().flatten(1).T for i in range(n_fit)]) for t in range(n_frames)]
    result = {}
    for name in READOUT_SOURCES:
        by_frame = []
        for t in range(n_frames):
            if name == "temporal_input" and t == 0: by_frame.append(None); continue
            weights = torch.linalg.lstsq(torch.cat(fit[name][t]), targets_fit[t]).solution
            scores = [psnr((x @ weights).T.reshape(item["hq"][t].shape).float().clamp(0, 1)[None], item["hq"][t][None])
                      for x, item in zip(held[name][t], eval_set)]
            by_frame.append(float(torch.stack(scores).mean()))
        result[name] = by_frame
    return result
with torch.no_grad(): readout = {f"{k}x{k}": readout_psnr(size=k) for k in (1, 3)}   # 3x3: the image head's own footprint
def gate_by_frame():
    "Mean gate g_t per frame index over the held-out windows (state_image gated, average, mean), and the carried count ñ_t (mean)."
    gates, counts = [[] for _ in range(n_frames)], [[] for _ in range(n_frames)]
    for item in eval_set:
        for t, (inp, _, head) in enumerate(unet_io(item["lq"])):
            gates[t].append(torch.sigmoid(head[3:]).mean()); counts[t].append(inp[-1].mean())
    return {"gate": [float(torch.stack(g).mean()) for g in gates[1:]],
            **({"carried_count": [float(torch.stack(n).mean()) for n in counts[1:]]} if model.cfg.state_image == "mean" else {})}
with torch.no_grad(): gates = gate_by_frame() if model.cfg.state_image in ("gated", "average", "mean") else {}
def model_flows(clip):
    if not model.cfg.temporal_features: return {}
    flows = {"initial": model.estimate_flows(clip[None])[0][0]}
    if model.forward_refinement.mvr is not None: flows["refined"] = model.forward_refinement.mvr(flows["initial"])
    return flows
with torch.no_grad(): epe = flow_errors(model_flows, eval_set)
eval_cpu_s = time.process_time() - t - train_cpu_s
frame_means = lambda rows: [float(v) for v in torch.stack(rows).mean(0)]
tag = f"{row}-seed{seed}-" + "-".join(f"{k}{json.dumps(v, sort_keys=True, separators=(',', ':'))}" for k, v in sorted(cond.items())).replace('"', "")
result = dict(row=row, seed=seed, condition=cond, code_version=code_version(), train_cpu_s=train_cpu_s, eval_cpu_s=eval_cpu_s,
              psnr=float(torch.stack(per_frame).mean()), psnr_input=float(torch.stack(per_frame_input).mean()),
              psnr_by_frame=frame_means(per_frame), psnr_input_by_frame=frame_means(per_frame_input),
              readout_psnr_by_frame=readout, **{f"{k}_by_frame": v for k, v in gates.items()}, bpp=sum(bpp) / len(bpp), rate_share=rate_share(run.history, cfg.rate_weight if cfg.ce_loss else 0.0), **epe,
              **({"psnr_flow_windows": float(torch.stack(with_flow).mean()), "psnr_motion_average": float(torch.stack(per_frame_oracle).mean()),
                  "psnr_motion_average_by_frame": frame_means(per_frame_oracle)} if per_frame_oracle else {}))
(out_dir / f"{tag}.json").write_text(json.dumps(dict(result=result, history=run.history, config=cfg.to_dict()), default=float))
print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items() if "by_frame" not in k}))
