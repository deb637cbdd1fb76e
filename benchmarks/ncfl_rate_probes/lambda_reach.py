"Does λ reach the entropy model? Retrain one ncfl_t6 adaptive row (the cpu preset's sizes, q ≤ 0.01, σ ≥ q/8) and log, through training, the prior's state and the gradient sizes of the entropy model and of the codec; optionally give the entropy model's Adam group a large ε so that its step scales with its gradient (and so with λ)."
import json, sys, time
from pathlib import Path
import torch
import restorekit.exp_ncfl as exp_ncfl
from restorekit.evaluation import rate_share, table_eval_seed
from restorekit.exp_ncfl import entropy_model_parameters, evaluate_ncfl, ncfl_dataset, run_ncfl_experiment
from restorekit.ncfl import NCFLConfig
from restorekit.quant import NeuralCompression
torch.set_num_threads(1)

# python lambda_reach.py SEED LAMBDA ENTROPY_EPS ITERS OUT_DIR   (ENTROPY_EPS 0: Adam's default ε = 1e-8, the cpu preset)
seed, lam, entropy_eps, iters = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
out_dir = Path(sys.argv[5]); out_dir.mkdir(parents=True, exist_ok=True)
cfg = NCFLConfig.from_dict({"channels": 16, "latent_channels": 8, "mvr_channels": 8, "attention_channels": 8, "flow": "dis",
                            "rate_to_features": False, "quant_mode": "mixed", "mvr": True, "ncfl": True, "feature_attention": False,
                            "quantization": "adaptive", "q_max": 0.01, "rate_weight": lam, "sigma_step_ratio": 0.125})
if entropy_eps:   # Adam's step is m / (√v + ε): with ε far above |g| it is lr·m/ε, a gradient step whose size follows λ
    groups = exp_ncfl._entropy_groups
    exp_ncfl._entropy_groups = lambda g, m, lr: [*(gs := groups(g, m, lr))[:-1], {**gs[-1], "eps": entropy_eps}]
log, calls, grads = [], [0], {}
def record_state(module, inputs, out):
    "Every 20th training call of the compression module: the prior's state (medians) and the last backward's gradient RMS."
    if not module.training: return
    calls[0] += 1
    if calls[0] % 20: return
    with torch.no_grad():
        k = (out.e - out.prior.mu) / out.prior.q
        log.append(dict(call=calls[0], abs_e=float(out.e.abs().median()), abs_e_minus_mu=float((out.e - out.prior.mu).abs().median()),
                        sigma=float(out.prior.sigma.median()), q=float(out.prior.q.median()), centre_bin=float((k.abs() < .5).float().mean()),
                        bits_per_symbol=float(out.bits) / out.e.numel(), **{f"grad_rms_{n}": v for n, v in grads.items()}))
def watch(module):
    "Gradient RMS of the entropy model (hyper-encoder/decoder, densities, prior head) and of the codec's encoder, per backward."
    for name, params in (("entropy", [p for p in entropy_model_parameters(module)]), ("encoder", list(module.encoder.parameters()))):
        n = sum(p.numel() for p in params)
        acc = {}
        for p in params:
            def hook(g, p=p, name=name, n=n, acc=acc):
                acc[id(p)] = float(g.pow(2).sum())
                if len(acc) == len(params): grads[name] = (sum(acc.values()) / n) ** .5; acc.clear()
            p.register_hook(hook)
build = NeuralCompression.__init__
def build_with_hook(self, *args, **kwargs): build(self, *args, **kwargs); self.register_forward_hook(record_state); watch(self)
NeuralCompression.__init__ = build_with_hook
t = time.process_time()
run = run_ncfl_experiment(cfg, iters=iters, batch_size=4, crop=32, n_frames=5, n_train=64, n_eval=1, noise_sigma=50, seed=seed,
                          lr=1e-3, entropy_lr_factor=10.0)
train_cpu_s = time.process_time() - t
scores = evaluate_ncfl(run.model, ncfl_dataset("awgn", "eval", 5, 32, 16, table_eval_seed("ncfl_t6"), 50.0))
tag = f"seed{seed}-lam{lam:g}-eps{entropy_eps:g}-it{iters}"
result = dict(name=tag, seed=seed, rate_weight=lam, entropy_eps=entropy_eps, iters=iters, train_cpu_s=train_cpu_s,
              eval_cpu_s=time.process_time() - t - train_cpu_s, psnr=scores["psnr"], bpp=scores["bpp"],
              rate_share=rate_share(run.history, cfg.rate_weight), final_state=log[-1])
(out_dir / f"{tag}.json").write_text(json.dumps(dict(result=result, history=run.history, state=log, config=cfg.to_dict()), default=float))
print(json.dumps(result))
