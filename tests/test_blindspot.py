"""Blind-spot proof checks: they pass on the D-BSN and on the whole STBN model (nearest warping, flow net in the
graph) and fail loudly, naming the leaking pixel, on models that leak the centre pixel."""
import dataclasses
import itertools

import pytest
import torch

import restorekit as rk
from restorekit.blindspot import (BlindSpotLeak, BlindSpotNet, LeakyBlindSpotNet, NoiseAlignmentError, OptimumMismatch,
                                  ProofCheckError, blind_spot_map, check_blind_spot, find_blind_set, lattice_offsets,
                                  noise_alignment_check, optimum_check, perturbation_effect)
from restorekit.core import RestoreKitError, make_generator
from restorekit.registry import get_table
from restorekit.stbn import STBN, STBNConfig, frozen_copy, stbn_loss, stbn_optimizer
from restorekit.warp import warp

SMALL = dict(channels=8, n_blocks=1, srfe_blocks=1, flow_levels=3)


def _stbn(seed=0, **overrides):
    "A small STBN whose flow net really depends on its inputs (random output layers instead of zeros)."
    torch.manual_seed(seed)
    model = STBN(STBNConfig(**{**SMALL, **overrides})).eval()
    if model.flownet is not None:
        g = make_generator(seed)
        with torch.no_grad():
            for level in model.flownet.nets: level.out.weight.normal_(0, 0.3, generator=g)
    return model


def test_public_names():
    for name in ["blind_spot_map", "check_blind_spot", "noise_alignment_check", "optimum_check", "BlindSpotLeak",
                 "CentralMaskedConv2d", "BlindSpotNet", "STBN", "STBNConfig", "PyramidFlowNet", "flow_distillation_loss",
                 "gaussian_nll_loss", "posterior_mean", "self_supervised_l2_loss"]:
        assert hasattr(rk, name), name
    assert issubclass(BlindSpotLeak, AssertionError) and issubclass(BlindSpotLeak, RestoreKitError)


def test_dbsn_blind_set_is_the_even_lattice():
    torch.manual_seed(0)
    net = BlindSpotNet(3, 3, channels=8, n_blocks=2)
    frames = torch.rand(1, 3, 25, 25)
    maps = check_blind_spot(net, frames, pixels=[(12, 12)], blind_offsets=lattice_offsets(2, net.radius))
    assert find_blind_set(maps[0], (12, 12)) == sorted(lattice_offsets(2, net.radius))


def test_leaky_model_fails_every_check_loudly():
    torch.manual_seed(0)
    frames = torch.rand(1, 3, 25, 25)
    with pytest.raises(BlindSpotLeak, match=r"input \(12, 12\) offset \(0, 0\): \|grad\| = "):
        check_blind_spot(LeakyBlindSpotNet(3, 3, channels=8, n_blocks=2), frames, pixels=[(12, 12)])
    assert perturbation_effect(LeakyBlindSpotNet(3, 3, 8, 2), frames, pixel=(12, 12)) > 0
    with pytest.raises(OptimumMismatch, match=r"centre pixel \(0, 0\)"):
        optimum_check([(0, 0), (0, 1), (1, 0), (0, -1), (-1, 0)], size=128)
    with pytest.raises(NoiseAlignmentError, match="variance"):
        noise_alignment_check(lambda noise, flow: warp(noise, flow, mode="bilinear"), size=64)
    with pytest.raises(ProofCheckError, match="vacuous"):
        check_blind_spot(lambda x: torch.zeros_like(x) + x.detach(), frames)


def test_noise_and_optimum_checks_pass_for_the_sound_setting():
    stats = noise_alignment_check(size=64)
    assert abs(stats["aligned"]["variance"] / stats["input"]["variance"] - 1) < 0.05
    res = optimum_check(size=128)
    assert (res["w_self"] - res["w_sup"]).abs().max() < 0.1


def test_whole_stbn_is_blind_with_nearest_warping_and_in_graph_flow():
    model = _stbn()
    clip = torch.rand(1, 4, 3, 40, 40, generator=make_generator(1))
    prior_mean = lambda c: model.prior(c)[0]
    maps = check_blind_spot(prior_mean, clip, frame_index=1, pixels=[(20, 20), (9, 31)], blind_offsets=lattice_offsets(2, 20))
    blind = find_blind_set(maps[0], (20, 20), rtol=0)
    assert (0, 0) in blind and all(dy % 2 == 0 and dx % 2 == 0 for dy, dx in blind)
    # the neighbouring frames are used, including the pixel itself
    assert blind_spot_map(prior_mean, clip, 1, [(20, 20)], source_frame=2)[0][20, 20] > 0


def test_whole_stbn_leaks_with_bilinear_warping_of_an_in_graph_flow():
    model = _stbn()
    bilinear = _stbn(); bilinear.cfg = dataclasses.replace(bilinear.cfg, warp_mode="bilinear")
    clip = torch.rand(1, 4, 3, 40, 40, generator=make_generator(1))
    with pytest.raises(BlindSpotLeak, match=r"offset \(0, 0\)"):
        check_blind_spot(lambda c: bilinear.prior(c)[0], clip, frame_index=1, pixels=[(20, 20)])
    with torch.no_grad(): fixed = model.estimate_flows(clip)
    check_blind_spot(lambda c: bilinear.prior(c, *fixed)[0], clip, frame_index=1, pixels=[(20, 20)])
    assert perturbation_effect(lambda c: model.prior(c, *fixed)[0], clip, 1, (20, 20)) == 0.0


def test_stbn_shapes_odd_sizes_and_all_table3_configs():
    clip = torch.rand(1, 3, 3, 37, 45)
    with torch.no_grad():
        for bsa, srfe, refine in itertools.product((False, True), repeat=3):
            assert STBN(STBNConfig(bsa=bsa, srfe=srfe, flow_refinement=refine, **SMALL))(clip).shape == (1, 3, 3, 37, 45)
        for row in get_table("stbn_t3").rows:
            assert STBN(STBNConfig(**row.overrides, **SMALL))(clip).shape == (1, 3, 3, 37, 45)
        assert STBN(STBNConfig(warp_mode="bilinear", loss="l2", **SMALL))(clip[:, :1]).shape == (1, 1, 3, 37, 45)
    with pytest.raises(rk.ConfigError, match="flow_refinement"):
        STBNConfig(flow_source="dis_medium")


def test_a_few_training_steps_reduce_the_self_supervised_loss():
    g = make_generator(0)
    clean = torch.linspace(0.2, 0.8, 32).view(1, 1, 1, 1, 32).expand(1, 3, 3, 32, 32)
    noisy = (clean + 30 / 255 * torch.randn(clean.shape, generator=g)).clamp(0, 1)
    torch.manual_seed(0)
    model = STBN(STBNConfig(loss="nll", distill_warmup=5, **SMALL))
    opt = stbn_optimizer(model, lr=2e-3, flow_lr=2e-5)
    teacher, history = None, []
    for step in range(20):
        if step == 5: teacher = frozen_copy(model)
        parts = stbn_loss(model, noisy, step, teacher)
        opt.zero_grad(); parts["loss"].backward(); opt.step()
        history.append(parts["denoise"].item())
    assert min(history[-3:]) < history[0] - 0.3


@pytest.mark.parametrize("visible, bsa", list(itertools.product((True, False), repeat=2)))
def test_hand_on_state_may_see_its_own_frame_but_the_output_stays_blind(visible, bsa):
    "visible_state: the state passed to frame t+1 reads x_t whole; the prediction of frame t is still blind on p + 2Z²."
    model = _stbn(visible_state=visible, bsa=bsa)
    clip = torch.rand(1, 4, 3, 40, 40, generator=make_generator(3))
    check_blind_spot(lambda c: model.prior(c)[0], clip, frame_index=1, pixels=[(20, 20), (9, 31)], blind_offsets=lattice_offsets(2, 20))
    check_blind_spot(lambda c: model.prior(c)[1], clip, frame_index=2, pixels=[(20, 20)], blind_offsets=lattice_offsets(2, 20))
    b, t, c, h, w = clip.shape
    # the forward state handed on from frame 1 depends on x_1 at its own position exactly when visible_state is on
    x = clip.clone().requires_grad_(True)
    features = model.bsa_forward(x[:, 1], torch.zeros(b, model.cfg.channels, h, w))
    state = model._hand_on(model.reveal_forward if visible else None, x[:, 1], features)
    grad = torch.autograd.grad(state[:, :, 20, 20].sum(), x)[0][0, 1, :, 20, 20].abs().sum()
    assert (grad > 0) == visible
