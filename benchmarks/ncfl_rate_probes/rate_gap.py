"The rate of a trained NCFL checkpoint as training prices it and as evaluation counts it, on the same windows, with the prior's σ/q."
import json, sys, time
import torch
from restorekit.checkpoint import load_model
from restorekit.evaluation import table_eval_seed
from restorekit.exp_ncfl import ncfl_dataset
from restorekit.quant import rate_bits
torch.set_num_threads(1)

def rate_gap(path, table="ncfl_t6", draws=4):
    "Per frame pixel: bits as evaluated (rounded ê, eval mode) and as priced by training (train mode: quant_mode's relaxation, mean of `draws` noise draws)."
    loaded = load_model(path); model = loaded.model
    windows = ncfl_dataset("awgn", "eval", 5, 32, 16, table_eval_seed(table), 50.0)   # the table's evaluation windows (notebook cell 0f13cacc)
    sums = dict(eval_bits=0., eval_z_bits=0., priced_bits=0., priced_z_bits=0., pixels=0, symbols=0, centre=0, next_bin=0, beyond=0, bits_off_centre=0.)
    ratio, steps, scales, offsets, magnitudes = [], [], [], [], []
    with torch.no_grad():
        for i in range(len(windows)):
            lq = windows[i]["lq"][None]
            sums["pixels"] += lq.shape[1] * lq.shape[-2] * lq.shape[-1]
            model.eval()
            for d in model(lq, return_details=True).details["forward"]:
                if d is None: continue   # the first frame has no past features
                c = d["code"]
                sums["eval_bits"] += float(c.bits); sums["eval_z_bits"] += float(c.z_bits)
                k = ((c.e - c.prior.mu) / c.prior.q).abs()     # |e − μ| in steps: < ½ rounds onto the centre bin
                sums["symbols"] += k.numel(); sums["centre"] += int((k < .5).sum())
                sums["next_bin"] += int(((k >= .5) & (k < 1.5)).sum()); sums["beyond"] += int((k >= 1.5).sum())
                sums["bits_off_centre"] += float(rate_bits(c.e_hat, c.prior.mu, c.prior.sigma, c.prior.q, reduction="none")[k >= .5].sum())
                ratio.append((c.prior.sigma / c.prior.q).flatten()); steps.append(c.prior.q.flatten()); scales.append(c.prior.sigma.flatten())
                offsets.append((c.e - c.prior.mu).abs().flatten()); magnitudes.append(c.e.abs().flatten())
            model.train()
            for _ in range(draws):
                for d in model(lq, return_details=True).details["forward"]:
                    if d is None: continue
                    sums["priced_bits"] += float(d["code"].bits) / draws; sums["priced_z_bits"] += float(d["code"].z_bits) / draws
    model.eval()
    med = lambda xs: float(torch.cat(xs).median())
    px, n = sums["pixels"], sums["symbols"]
    return dict(eval_bpp=sums["eval_bits"] / px, eval_z_bpp=sums["eval_z_bits"] / px, priced_bpp=sums["priced_bits"] / px,
                priced_z_bpp=sums["priced_z_bits"] / px, frac_centre_bin=sums["centre"] / n, frac_next_bin=sums["next_bin"] / n,
                frac_beyond=sums["beyond"] / n, share_latent_bits_off_centre=sums["bits_off_centre"] / max(sums["eval_bits"] - sums["eval_z_bits"], 1e-12),
                sigma_over_q_median=med(ratio), sigma_over_q_p10=float(torch.cat(ratio).quantile(.1)), q_median=med(steps),
                sigma_median=med(scales), abs_e_minus_mu_median=med(offsets), abs_e_median=med(magnitudes),
                record_bpp=loaded.metrics.get("bpp"), record_psnr=loaded.metrics.get("psnr"),
                quantization=loaded.config.quantization, rate_weight=loaded.config.rate_weight, sigma_step_ratio=getattr(loaded.config, "sigma_step_ratio", 0.0))

if __name__ == "__main__":   # python rate_gap.py NAME=CHECKPOINT ... >> gap.jsonl
    for arg in sys.argv[1:]:
        name, path = arg.split("=", 1)
        t = time.process_time(); r = rate_gap(path); r["cpu_s"] = time.process_time() - t
        print(json.dumps({"name": name, **r}), flush=True)
