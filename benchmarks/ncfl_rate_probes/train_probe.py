"Retrain one ncfl_t6 row as its notebook does (the cpu preset's sizes) with config overrides, logging the entropy model's state through training."
import json, sys, time
from pathlib import Path
import torch
from restorekit.checkpoint import save_model
from restorekit.evaluation import rate_share, table_eval_seed
from restorekit.exp_ncfl import evaluate_ncfl, ncfl_dataset, run_ncfl_experiment
from restorekit.ncfl import NCFLConfig
from restorekit.quant import NeuralCompression
from restorekit.registry import get_table
from rate_gap import rate_gap
torch.set_num_threads(1)

# python train_probe.py VARIANT SEED '{"field": value}' OUT_DIR   (overrides: NCFLConfig fields on top of the e94b5082 cpu preset)
variant, seed = sys.argv[1], int(sys.argv[2])
extra = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
out_dir = Path(sys.argv[4] if len(sys.argv) > 4 else "/tmp/ncfl_rate_probes"); out_dir.mkdir(parents=True, exist_ok=True)
rows = {"mvr": True, "ncfl": True, "feature_attention": False, **get_table("ncfl_t6").variant(variant).overrides}
cfg = NCFLConfig.from_dict({"channels": 16, "latent_channels": 8, "mvr_channels": 8, "attention_channels": 8, "flow": "dis",
                            "rate_to_features": False, "quant_mode": "mixed", **rows, **extra})
log, calls = [], [0]
def record_state(module, inputs, out):
    "Every 40th training call of the compression module: |e|, |e − μ|, σ, q (medians), share of centre-bin symbols, bits."
    if not module.training: return
    calls[0] += 1
    if calls[0] % 40: return
    with torch.no_grad():
        k = (out.e - out.prior.mu) / out.prior.q
        log.append(dict(call=calls[0], abs_e=float(out.e.abs().median()), abs_e_minus_mu=float((out.e - out.prior.mu).abs().median()),
                        sigma=float(out.prior.sigma.median()), q=float(out.prior.q.median()), centre_bin=float((k.abs() < .5).float().mean()),
                        bits_per_symbol=float(out.bits) / out.e.numel(), z_bits=float(out.z_bits)))
build = NeuralCompression.__init__
def build_with_hook(self, *args, **kwargs): build(self, *args, **kwargs); self.register_forward_hook(record_state)
NeuralCompression.__init__ = build_with_hook
t = time.process_time()
run = run_ncfl_experiment(cfg, iters=600, batch_size=4, crop=32, n_frames=5, n_train=64, n_eval=1, noise_sigma=50, seed=seed,
                          lr=1e-3, entropy_lr_factor=10.0)
train_cpu_s = time.process_time() - t
tag = f"{variant}-seed{seed}" + "".join(f"-{k}{v}" for k, v in extra.items())
path = save_model(out_dir / f"{tag}.pt", run.model, data={"seed": seed}, preset="probe", metrics={})
scores = evaluate_ncfl(run.model, ncfl_dataset("awgn", "eval", 5, 32, 16, table_eval_seed("ncfl_t6"), 50.0))
result = dict(name=tag, variant=variant, seed=seed, overrides=extra, train_cpu_s=train_cpu_s, psnr=scores["psnr"],
              rate_share=rate_share(run.history, cfg.rate_weight), last_logged_bpp=run.history[-1]["bpp"], **rate_gap(str(path)))
(out_dir / f"{tag}.json").write_text(json.dumps(dict(result=result, history=run.history, state=log, config=cfg.to_dict()), default=float))
print(json.dumps(result))
