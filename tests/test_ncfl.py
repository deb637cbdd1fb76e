"""NCFL model: every ablation row of Tables 5-7 builds and trains, the rate behaves, the recurrence carries state."""
import pytest
import torch

from restorekit.core import ConfigError, ShapeError, make_generator
from restorekit.exp_ncfl import ncfl_dataset
from restorekit.ncfl import NCFL, NCFLConfig, ncfl_loss
from restorekit.registry import get_table

TINY = dict(channels=8, latent_channels=4, mvr_channels=4, attention_channels=4, flow_levels=2)


def tiny(**overrides) -> NCFL:
    torch.manual_seed(0)
    return NCFL(NCFLConfig.from_dict({**TINY, **overrides}))


def table_rows():
    return [(t, v.name, v.overrides) for t in ("ncfl_t5", "ncfl_t6", "ncfl_t7") for v in get_table(t).rows]


@pytest.mark.parametrize("table,row,overrides", table_rows(), ids=[f"{t}-{r}" for t, r, _ in table_rows()])
def test_every_row_runs_forward_backward_on_odd_sizes(table, row, overrides):
    model = tiny(**overrides)
    clip = torch.rand(2, 3, 3, 13, 19, generator=make_generator(0))
    batch = {"lq": clip, "hq": clip.clamp(0, 1)}
    loss, logs = ncfl_loss(model, batch)
    loss.backward()
    out = model(clip)
    assert out.restored.shape == clip.shape and torch.isfinite(out.restored).all()
    cfg = model.cfg
    if cfg.ncfl and cfg.quantization != "none" and cfg.temporal_features:
        assert torch.isfinite(out.bits) and float(out.bits.detach()) > 0
    else:
        assert float(out.bits) == 0.0
    unet_grads = [p.grad for p in model.unet.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in unet_grads) and any(g.abs().sum() > 0 for g in unet_grads)
    if cfg.ncfl: assert model.forward_refinement.compression is not None
    else: assert model.forward_refinement.compression is None


def test_rate_term_follows_ce_loss():
    batch = {"lq": torch.rand(1, 3, 3, 12, 12), "hq": torch.rand(1, 3, 3, 12, 12)}
    loss_on, logs_on = ncfl_loss(tiny(rate_weight=0.5), batch)
    loss_off, logs_off = ncfl_loss(tiny(rate_weight=0.5, ce_loss=False), batch)
    assert torch.isclose(loss_on, logs_on["mse"] + 0.5 * logs_on["bpp"], atol=1e-5)
    assert torch.isclose(loss_off, logs_off["mse"], atol=1e-7) and logs_off["bpp"] > 0


def _output_change(model, frame_in, frame_out):
    x = torch.rand(1, 4, 3, 16, 20, generator=make_generator(1))
    y = x.clone(); y[:, frame_in] = torch.rand(3, 16, 20, generator=make_generator(2))
    with torch.no_grad():
        return float((model(x).restored[:, frame_out] - model(y).restored[:, frame_out]).abs().max())


def test_zeroed_temporal_features_cut_the_past():
    "The control row of Table 5: no frame's output depends on an earlier frame, and nothing is compressed."
    model = tiny(**get_table("ncfl_t5").variant("ncfl_zeroed").overrides)
    assert _output_change(model, 1, 2) == 0.0 and _output_change(model, 0, 3) == 0.0
    assert _output_change(model, 2, 2) > 0
    assert float(model(torch.rand(1, 3, 3, 16, 16)).bits) == 0.0


@pytest.mark.parametrize("overrides", [dict(ncfl=False), dict(quantization="none"), dict(mvr=False, feature_attention=False, quantization="none")])
def test_recurrence_carries_state_and_is_causal(overrides):
    model = tiny(**overrides)
    assert _output_change(model, 1, 2) > 0          # frame 1's input reaches frame 2's output
    assert _output_change(model, 0, 3) > 0          # ... and further down the recurrence
    assert _output_change(model, 2, 1) == 0.0       # the future never reaches the past


def test_bidirectional():
    model = tiny(bidirectional=True, quantization="none")
    assert model.backward_unet is not None and model.backward_refinement is not None
    assert _output_change(model, 2, 1) > 0 and _output_change(model, 1, 2) > 0
    out = tiny(bidirectional=True)(torch.rand(1, 3, 3, 11, 9))
    assert out.restored.shape == (1, 3, 3, 11, 9) and float(out.bits) > 0
    out.restored.sum().backward()


def test_single_frame_clip():
    out = tiny()(torch.rand(1, 1, 3, 10, 10))
    assert out.restored.shape == (1, 1, 3, 10, 10) and float(out.bits) == 0.0


@pytest.mark.parametrize("mode", ["ste", "noise"])
def test_rate_gradient_reaches_prior_and_encoder(mode):
    model = tiny(quant_mode=mode)
    comp = model.forward_refinement.compression
    with torch.no_grad():                      # small steps so that STE symbols are not all zero
        comp.prior.net[-1].bias[2 * comp.prior.latent_channels:].fill_(-6.0)
    model(torch.rand(1, 3, 3, 16, 16, generator=make_generator(3))).bits.backward()
    for part in (comp.prior, comp.encoder):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0, (mode, part)


@pytest.mark.parametrize("mode", ["ste", "noise", "mixed"])
def test_rate_to_features_off_keeps_the_rate_out_of_the_restorer(mode):
    clip = torch.rand(1, 3, 3, 16, 16, generator=make_generator(4))
    bits = {}
    for to_features in (True, False):
        model = tiny(quant_mode=mode, rate_to_features=to_features)
        with torch.no_grad():                  # small steps so that STE symbols are not all zero
            model.forward_refinement.compression.prior.net[-1].bias[2 * 4:].fill_(-6.0)
        torch.manual_seed(1); out = model(clip)
        out.bits.backward(retain_graph=True)
        unet = sum(float(p.grad.abs().sum()) for p in model.unet.parameters() if p.grad is not None)
        encoder = sum(float(p.grad.abs().sum()) for p in model.forward_refinement.compression.encoder.parameters())
        assert encoder > 0 and (unet > 0) == to_features, (mode, to_features, unet)
        model.zero_grad(); out.restored.square().mean().backward()    # the distortion still reaches the U-Net through the codec
        assert sum(float(p.grad.abs().sum()) for p in model.unet.parameters()) > 0
        bits[to_features] = float(out.bits)
    assert bits[True] == bits[False]           # the switch moves gradients, never values


def test_mixed_mode_decodes_the_rounded_latents_and_prices_the_noisy_ones():
    clip = torch.rand(1, 3, 3, 16, 16, generator=make_generator(5))
    mixed, ste = tiny(quant_mode="mixed"), tiny(quant_mode="ste")
    torch.manual_seed(2); out_mixed = mixed(clip, return_details=True)
    out_ste = ste(clip, return_details=True)
    assert torch.equal(out_mixed.restored, out_ste.restored) and float(out_mixed.bits) != float(out_ste.bits)
    with torch.no_grad(): assert torch.equal(mixed.eval()(clip).bits, ste.eval()(clip).bits)   # evaluation rounds in both

def test_bad_input_and_config():
    with pytest.raises(ShapeError, match="NaN"): tiny()(torch.full((1, 2, 3, 8, 8), float("nan")))
    with pytest.raises(ShapeError): tiny()(torch.rand(2, 3, 8, 8))
    with pytest.raises(ConfigError, match="quantization"): NCFLConfig(quantization="vq")
    with pytest.raises(ConfigError, match="task"): NCFLConfig(task="deblur")
    with pytest.raises(ConfigError, match="unknown field"): NCFLConfig.from_dict({"nfcl": True})
    assert NCFLConfig.from_dict(NCFLConfig(bidirectional=True).to_dict()) == NCFLConfig(bidirectional=True)


def test_real_pair_split_is_held_out():
    train = ncfl_dataset("real_compressed", "train", n_frames=3, crop=32, length=20)
    held = ncfl_dataset("real_compressed", "eval", n_frames=3, crop=32, length=20)
    last_train = max(train[i]["start"] + 3 for i in range(20))
    first_eval = min(held[i]["start"] for i in range(20))
    assert last_train < first_eval
    item = held[0]
    assert item["lq"].shape == item["hq"].shape == (3, 3, 32, 32) and not torch.equal(item["lq"], item["hq"])


def test_compression_prior_sees_only_the_hyper_latent():
    model = tiny()
    comp = model.forward_refinement.compression
    assert comp.context_encoder is None and comp.hyper_encoder is not None
    out = model(torch.rand(1, 3, 3, 16, 16, generator=make_generator(4)), return_details=True)
    code = out.details["forward"][1]["code"]
    for a, b in zip(comp.decode_prior(code.z_hat), code.prior):
        assert torch.equal(a, b)
    assert float(code.z_bits) > 0 and float(code.bits) > float(code.z_bits)
    with pytest.raises(ConfigError, match="task"):
        NCFLConfig(task="real_denoise")                 # the legacy alias is gone
