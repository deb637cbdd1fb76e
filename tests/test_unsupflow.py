"""S2SVR's unsupervised flow: the losses of Eq. 11, 13, 16 and the PWC-lite net they train."""
import pytest
import torch

import restorekit as rk
from restorekit.core import ConfigError, ShapeError
from restorekit.pwcflow import PWCLite
from types import SimpleNamespace

from restorekit.exp_s2svr import FLOW_PRESETS, FlowLoss, _cache_file
from restorekit.unsupflow import (FlowLossWeights, distillation_loss, floor_visible, photometric_loss, smoothness_loss,
                                  unsupervised_flow_loss)
from restorekit.warp import occlusion_mask, resize_flow


def _shift_pair(shift: int = 3, seed: int = 0):
    "other is ref moved `shift` px right, so ref(p) = other(p + shift); exact flows and occlusion."
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(2, 3, 24, 40 + shift, generator=g)
    ref, other = base[..., shift:], base[..., :-shift]
    fwd = torch.zeros(2, 2, 24, 40); fwd[:, 0] = float(shift)
    return ref, other, fwd, occlusion_mask(fwd, -fwd)


def test_public_names():
    assert rk.photometric_loss is photometric_loss
    assert rk.smoothness_loss is smoothness_loss
    assert rk.distillation_loss is distillation_loss
    assert rk.PWCLite is PWCLite


@pytest.mark.parametrize("kind", ["l1", "charbonnier", "ssim", "census"])
def test_photometric_exact_vs_wrong_flow(kind):
    ref, other, fwd, occ = _shift_pair()
    assert occ[:, :, :, -3:].eq(1).all() and occ[:, :, :, :-3].eq(0).all()
    exact = photometric_loss(ref, other, fwd, occ, kind=kind)
    if kind == "l1": assert exact < 1e-6
    if kind == "charbonnier": assert abs(exact - 0.01) < 1e-6
    for wrong in (torch.zeros_like(fwd), -fwd, fwd + 1.0, fwd.flip(1)):
        assert photometric_loss(ref, other, wrong, occ, kind=kind) > 3 * exact + 0.01


def test_photometric_mask_matters_and_bad_inputs():
    ref, other, fwd, occ = _shift_pair()
    assert photometric_loss(ref, other, fwd) > 1e-3                        # occluded columns counted without the mask
    with pytest.raises(ConfigError): photometric_loss(ref, other, fwd, kind="l2")
    with pytest.raises(ShapeError): photometric_loss(ref, other[..., :-1], fwd[..., :-1])
    with pytest.raises(ShapeError): photometric_loss(ref, other, fwd, occ[..., :-1])


def test_smoothness_constant_zero_and_edge_weighting():
    image = torch.zeros(1, 3, 16, 16); image[..., 8:] = 1.0
    assert smoothness_loss(torch.full((1, 2, 16, 16), -1.7), image) == 0
    jump = torch.zeros(1, 2, 16, 16); jump[:, 1, :, 8:] = 3.0
    plain, weighted = smoothness_loss(jump, image, edge_weight=0), smoothness_loss(jump, image, edge_weight=10)
    assert plain > 0 and weighted < 1e-3 * plain
    flat = torch.zeros_like(image)                                          # no edge: no relief
    assert torch.isclose(smoothness_loss(jump, flat, 10), smoothness_loss(jump, flat, 0))
    off_edge = torch.zeros(1, 2, 16, 16); off_edge[:, 1, :, 4:] = 3.0          # flow jump away from the image edge
    assert torch.isclose(smoothness_loss(off_edge, image, 10), smoothness_loss(off_edge, image, 0), rtol=1e-3)


def test_distillation_gradient_reaches_student_only():
    student = PWCLite(levels=2, channels=(8, 8), hidden=(8,))
    teacher = PWCLite(levels=2, channels=(8, 8), hidden=(8,))
    for net in (student, teacher):
        torch.nn.init.normal_(net.to_flow.weight, std=0.1)
    x, y = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    distillation_loss(student(x, y), teacher(x, y)).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert student.to_flow.weight.grad.abs().sum() > 0


def test_distillation_resize_scales_vectors_for_sr():
    teacher_hr = torch.zeros(2, 2, 64, 48); teacher_hr[:, 0], teacher_hr[:, 1] = 8.0, -4.0
    down = resize_flow(teacher_hr, (16, 12))
    assert torch.allclose(down[:, 0], torch.full_like(down[:, 0], 2.0)) and torch.allclose(down[:, 1], torch.full_like(down[:, 1], -1.0))
    student_lr = down.clone()
    assert distillation_loss(student_lr, teacher_hr) < 1e-5                 # F_u(F^x) on the HR grid
    assert distillation_loss(student_lr, teacher_hr, to="student") < 1e-5
    assert abs(distillation_loss(student_lr * 4, teacher_hr) - (24 + 12)) < 1e-3   # unscaled LR vectors are wrong by 3x


def test_pwclite_odd_sizes_and_gradients():
    net = PWCLite(levels=3, channels=(8, 12, 16), hidden=(16, 16), iters=2)
    for h, w in ((17, 23), (33, 31), (8, 9)):
        ref, other = torch.rand(2, 3, h, w), torch.rand(2, 3, h, w)
        assert net(ref, other).shape == (2, 2, h, w)
        assert [tuple(f.shape) for f in net(ref, other, all_levels=True)] == [(2, 2, h, w)] * 3
    loss, logs = unsupervised_flow_loss(net, torch.rand(2, 3, 21, 27), torch.rand(2, 3, 21, 27))
    loss.backward()
    assert net.to_flow.weight.grad.abs().sum() > 0 and set(logs) == {"ph", "ssim", "sm", "visible"}


def test_student_loss_uses_frozen_teacher_for_sr():
    teacher, student = PWCLite(levels=2, channels=(8, 8), hidden=(8,)), PWCLite(levels=2, channels=(8, 8), hidden=(8,))
    torch.nn.init.normal_(teacher.to_flow.weight, std=0.1)
    batch = {"hq": torch.rand(2, 2, 3, 32, 32), "lq": torch.rand(2, 2, 3, 8, 8)}
    loss, logs = FlowLoss("student", teacher)(student, batch)
    loss.backward()
    assert logs["dis"] > 0 and all(p.grad is None for p in teacher.parameters())
    with pytest.raises(ValueError): FlowLoss("student")
    with pytest.raises(ConfigError): FlowLoss("raft")


class _Disagreeing(torch.nn.Module):
    "Forward and backward flows both +3 px: the forward-backward check fails everywhere (the collapsed state)."
    def __init__(self):
        super().__init__(); self.v = torch.nn.Parameter(torch.tensor([3.0, 0.0]))
    def forward(self, ref, other, all_levels=False):
        return [self.v.view(1, 2, 1, 1).expand(ref.shape[0], 2, *ref.shape[-2:])]


def test_visible_floor_prevents_the_all_occluded_minimum():
    ref, other, fwd, occ = _shift_pair()
    _, logs = unsupervised_flow_loss(_Disagreeing(), ref, other, FlowLossWeights(min_visible=0.0))
    assert logs["ph"] == 0 and logs["ssim"] == 0 and logs["visible"] == 0          # the trap: nothing to minimise
    net = _Disagreeing()
    loss, logs = unsupervised_flow_loss(net, ref, other)                            # default floor 0.5
    assert logs["ph"] > 0.01 and logs["visible"] == 1.0
    loss.backward(); assert net.v.grad.abs().sum() > 0
    assert torch.equal(floor_visible(occ, 0.5), occ)                                # a plausible mask is kept
    half = torch.zeros(2, 1, 4, 4); half[0, :, :3] = 1; half[1, :, :1] = 1          # 25 % and 75 % visible
    assert floor_visible(half, 0.5).flatten(1).sum(1).tolist() == [0.0, 4.0]


@pytest.mark.parametrize("variant", ["teacher", "student_nodistill"])
def test_occlusion_warmup_is_the_same_rule_for_every_variant(variant):
    loss = FlowLoss(variant, weights=FlowLossWeights(occlusion_warmup=0.25))
    seen = []
    for step in range(8):
        loss.on_step_begin(SimpleNamespace(step=step, cfg=SimpleNamespace(steps=8)))
        seen.append(loss.mask_occlusion)
    assert seen == [False, False] + [True] * 6
    ref, other, fwd, occ = _shift_pair()
    batch = {"hq": torch.stack([ref, other], 1), "lq": torch.stack([ref, other], 1)}
    net = _Disagreeing()
    _, masked = FlowLoss(variant, weights=FlowLossWeights(min_visible=0.0))(net, batch)
    warm = FlowLoss(variant, weights=FlowLossWeights(min_visible=0.0, occlusion_warmup=0.2))
    warm.on_step_begin(SimpleNamespace(step=0, cfg=SimpleNamespace(steps=10)))
    _, unmasked = warm(net, batch)
    assert masked["ph"] == 0 and unmasked["ph"] > 0.01
    default = FlowLoss(variant)                                                     # the default masks from the first step
    default.on_step_begin(SimpleNamespace(step=0, cfg=SimpleNamespace(steps=10)))
    assert default.mask_occlusion


def test_cache_key_covers_sources_and_weights():
    key = lambda **kw: _cache_file("/tmp/x", "teacher", "sr", FLOW_PRESETS["tiny"], 0, kw.get("w", FlowLossWeights()), {}, {},
                                   kw.get("sources", ("synthetic",)))
    assert key() == key()
    assert key() != key(sources=("synthetic", "bikes"))
    assert key() != key(w=FlowLossWeights(occlusion_warmup=0.2))
