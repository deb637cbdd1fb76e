"""restorekit.temporal: JFFRA's occlusion-aware temporal loss (Eq. 12-15) on frames with known flow."""
import pytest
import torch

import restorekit as rk
from restorekit.core import ShapeError


def _rolled_pair(shift=(3, -2), size=(32, 36), dtype=torch.float64, seed=0):
    """Clean frames t-1 and t with frame_t(p) = frame_prev(p + shift) (x, y) wherever p + shift is inside; exact flow = shift."""
    g = torch.Generator().manual_seed(seed)
    h, w = size
    prev = torch.nn.functional.avg_pool2d(torch.rand(1, 3, h + 2, w + 2, generator=g, dtype=dtype), 3, 1)
    sx, sy = shift
    cur = torch.roll(prev, shifts=(-sy, -sx), dims=(-2, -1))          # wraps at the border: those pixels leave the frame
    flow = torch.zeros(1, 2, h, w, dtype=dtype); flow[:, 0], flow[:, 1] = sx, sy
    return cur, prev, flow


def test_zero_for_exact_restoration():
    cur, prev, flow = _rolled_pair()
    assert rk.temporal_consistency_loss(cur, prev, cur, prev, flow, reduction="sum") < 1e-9
    cur32, prev32, flow32 = (x.float() for x in (cur, prev, flow))
    assert rk.temporal_consistency_loss(cur32, prev32, cur32, prev32, flow32) < 1e-7
    # the wrapped-around border is exactly what exclude_outside removes
    mask = rk.non_occlusion_mask(cur, prev, flow)
    assert mask[..., :, -3:].max() == 0 and mask[..., :2, :].max() == 0
    assert mask[..., 2:, :-3].min() > 0.999


def test_zero_for_exact_restoration_of_a_clip():
    cur, prev, flow = _rolled_pair(shift=(1, 1))
    clip = torch.cat([prev, cur])                                       # (2, 3, H, W)
    assert rk.jffra_loss(clip, clip, flow) < 1e-9


def test_occluded_pixels_do_not_count_whatever_the_error():
    cur, prev, flow = _rolled_pair(shift=(0, 0), dtype=torch.float32)
    cur, prev = cur * 0.2, prev * 0.2
    prev[..., 8:20, 8:20] = 1.0                                         # an object in frame t-1 that is gone in frame t
    occluded = torch.zeros(1, 1, 32, 36, dtype=torch.bool); occluded[..., 8:20, 8:20] = True
    mask = rk.non_occlusion_mask(cur, prev, flow)
    assert mask[occluded].max() < 1e-30 and mask[~occluded].min() > 0.999
    errors = torch.rand(cur.shape, generator=torch.Generator().manual_seed(1)) * 4 - 2
    for restored_t, restored_prev in [(cur + errors * occluded, prev), (cur, prev + errors * occluded), (cur + errors * occluded, prev - errors * occluded)]:
        loss_map = rk.temporal_consistency_loss(restored_t, restored_prev, cur, prev, flow, reduction="none")
        clean_map = rk.temporal_consistency_loss(cur, prev, cur, prev, flow, reduction="none")
        assert (loss_map - clean_map).abs().sum() < 1e-6
    # the same errors on visible pixels do count
    visible_errors = errors * torch.roll(occluded, 14, dims=-1)
    assert rk.temporal_consistency_loss(cur + visible_errors, prev, cur, prev, flow, reduction="sum") > 0.99 * visible_errors.abs().sum()


@pytest.mark.parametrize("delta", [0.01, 0.05])
def test_positive_for_flicker_on_a_static_scene(delta):
    cur, _, zero_flow = _rolled_pair(shift=(0, 0), dtype=torch.float32)
    loss = rk.temporal_consistency_loss(cur + delta, cur - delta, cur, cur, zero_flow)
    torch.testing.assert_close(loss, torch.tensor(2 * delta), atol=1e-6, rtol=0)
    clip = torch.cat([cur - delta, cur + delta, cur - delta])          # per-frame brightness offsets
    clean = cur.expand(3, -1, -1, -1)
    flows = torch.zeros(2, 2, 32, 36)
    torch.testing.assert_close(rk.jffra_loss(clip, clean, flows), torch.tensor(delta + 0.2 * 2 * delta), atol=1e-6, rtol=0)
    assert rk.jffra_loss(clip, clean, flows) > rk.jffra_loss(clip, clean, flows, lam=0.0)


def test_gradient_reaches_both_restored_frames_only():
    cur, prev, flow = _rolled_pair(shift=(1, 0), dtype=torch.float32)
    r_t = (cur + 0.03).requires_grad_(); r_prev = (prev - 0.03).requires_grad_()
    c_t = cur.clone().requires_grad_(); fl = flow.clone().requires_grad_()
    rk.temporal_consistency_loss(r_t, r_prev, c_t, prev, fl).backward()
    assert r_t.grad.abs().sum() > 0 and r_prev.grad.abs().sum() > 0
    assert c_t.grad is None                                             # the mask is a fixed weight


def test_batched_clip_equals_unbatched():
    g = torch.Generator().manual_seed(3)
    clean = torch.rand(4, 3, 16, 20, generator=g); restored = clean + 0.05 * torch.randn(4, 3, 16, 20, generator=g)
    flows = torch.randn(3, 2, 16, 20, generator=g)
    single = rk.jffra_loss(restored, clean, flows)
    batched = rk.jffra_loss(torch.stack([restored, restored]), torch.stack([clean, clean]), torch.stack([flows, flows]))
    torch.testing.assert_close(single, batched)


def test_bad_inputs():
    x = torch.rand(1, 3, 8, 8); flow = torch.zeros(1, 2, 8, 8)
    with pytest.raises(ShapeError, match="restored_prev: expected the shape of restored_t"):
        rk.temporal_consistency_loss(x, x[..., :7], x, x, flow)
    with pytest.raises(ShapeError, match=r"flow_t_to_prev: expected shape \(1, 2, 8, 8\)"):
        rk.temporal_consistency_loss(x, x, x, x, flow[..., :7])
    with pytest.raises(ShapeError, match="clean_t"):
        rk.temporal_consistency_loss(x, x, x[0], x, flow)
    with pytest.raises(ValueError, match="reduction"):
        rk.temporal_consistency_loss(x, x, x, x, flow, reduction="median")
    with pytest.raises(ValueError, match="alpha"):
        rk.non_occlusion_mask(x, x, flow, alpha=float("nan"))
    clip = torch.rand(3, 3, 8, 8)
    with pytest.raises(ShapeError, match=r"flow_t_to_prev: expected shape \(2, 2, 8, 8\)"):
        rk.jffra_loss(clip, clip, torch.zeros(3, 2, 8, 8))
    with pytest.raises(ShapeError, match="clean: expected the shape of restored"):
        rk.jffra_loss(clip, clip[:2], torch.zeros(2, 2, 8, 8))
    with pytest.raises(ShapeError, match="at least 2 frames"):
        rk.jffra_loss(clip[:1], clip[:1], torch.zeros(0, 2, 8, 8))
