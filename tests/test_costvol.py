"""restorekit.costvol: the fast cost volume equals Eq. 3 written as loops, in value and gradient."""
import pytest
import torch

import restorekit as rk
import restorekit.costvol as cvmod
from restorekit.core import ShapeError


def _pair(b, c, h, w, seed, dtype=torch.float32, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(b, c, h, w, generator=g, dtype=dtype).requires_grad_(requires_grad) for _ in range(2))


@pytest.mark.parametrize("radius", [0, 1, 2, 4])
@pytest.mark.parametrize("size", [(7, 9), (13, 11), (37, 45), (1, 6)])
@pytest.mark.parametrize("tile", [None, 1, 3, 5, 16])
def test_equals_bruteforce(monkeypatch, radius, size, tile):
    h, w = size
    b, c = 1 + (h + radius) % 2, 1 + (w * 3 + radius) % 5          # vary batch and channels with the case
    f_ref, f_nbr = _pair(b, c, h, w, seed=10 * radius + h)
    if tile is not None:
        monkeypatch.setattr(cvmod, "_TILE", tile)
        assert cvmod._geometry(f_ref.shape, radius)[0] == max(tile, 2 * radius)
    expected = cvmod._cost_volume_bruteforce(f_ref, f_nbr, radius)
    out = rk.cost_volume(f_ref, f_nbr, radius)
    assert out.shape == (b, (2 * radius + 1) ** 2, h, w) and out.dtype == torch.float32
    torch.testing.assert_close(out.double(), expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(rk.cost_volume_unfold(f_ref, f_nbr, radius).double(), expected, atol=1e-5, rtol=0)


def test_channel_order_is_v_then_u():
    # a single bright pixel in the neighbour at (y=3, x=5); reference pixel (y=2, x=3) sees it at u=+2, v=+1
    f_ref = torch.zeros(1, 1, 6, 8); f_ref[0, 0, 2, 3] = 1
    f_nbr = torch.zeros(1, 1, 6, 8); f_nbr[0, 0, 3, 5] = 1
    cv = rk.cost_volume(f_ref, f_nbr, radius=2)
    k = (1 + 2) * 5 + (2 + 2)
    assert cv[0, :, 2, 3].argmax().item() == k
    assert cv.view(1, 5, 5, 6, 8)[0, 1 + 2, 2 + 2, 2, 3] == 1
    assert rk.cost_volume_displacements(2)[k].tolist() == [2, 1]


@pytest.mark.parametrize("radius,size,tile", [(0, (3, 4), None), (1, (5, 4), None), (2, (4, 5), None), (1, (5, 7), 2), (1, (5, 4), 1), (0, (3, 4), 3)])
def test_gradcheck_float64(monkeypatch, radius, size, tile):
    a, b = _pair(2, 3, *size, seed=radius, dtype=torch.float64, requires_grad=True)
    if tile is not None:
        monkeypatch.setattr(cvmod, "_TILE", tile)
    assert torch.autograd.gradcheck(lambda x, y: rk.cost_volume(x, y, radius), (a, b))


@pytest.mark.parametrize("radius,tile", [(4, None), (1, None), (1, 3)])
def test_gradients_match_unfold(monkeypatch, radius, tile):
    if tile is not None: monkeypatch.setattr(cvmod, "_TILE", tile)   # 3 px tiles on a 15-px row: overlapping tiles, a partial last one
    a, b = _pair(2, 6, 17, 15, seed=5, requires_grad=True)
    up = torch.randn(2, (2 * radius + 1) ** 2, 17, 15, generator=torch.Generator().manual_seed(6))
    fast = torch.autograd.grad(rk.cost_volume(a, b, radius), (a, b), up)
    slow = torch.autograd.grad(rk.cost_volume_unfold(a, b, radius), (a, b), up)
    for x, y in zip(fast, slow):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5)


def test_second_derivative_raises():
    a, _ = _pair(1, 2, 5, 5, seed=7, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(rk.cost_volume(a, a.detach(), 1).square().sum(), a, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        grad.sum().backward()


def test_warped_cost_volume_finds_the_residual_shift():
    g = torch.Generator().manual_seed(8)
    scene = torch.nn.functional.avg_pool2d(torch.rand(1, 8, 60, 60, generator=g), 3, 1)   # (1, 8, 58, 58)
    f_ref = scene[..., 10:-10, 10:-10]
    f_nbr = torch.roll(scene, shifts=(1, -3), dims=(-2, -1))[..., 10:-10, 10:-10]        # content 3 px left, 1 px down
    f_ref, f_nbr = f_ref - f_ref.mean(1, keepdim=True), f_nbr - f_nbr.mean(1, keepdim=True)
    flow = torch.zeros(1, 2, 38, 38); flow[:, 0] = -2                                    # misses 1 px in x and 1 px in y
    cv = rk.warped_cost_volume(f_ref, f_nbr, flow, radius=2)
    torch.testing.assert_close(cv, rk.cost_volume(f_ref, rk.warp(f_nbr, flow, padding_mode="zeros"), 2))
    f_ref_n = f_ref / f_ref.norm(dim=1, keepdim=True); f_nbr_n = f_nbr / f_nbr.norm(dim=1, keepdim=True)
    best = rk.cost_volume_displacements(2)[rk.warped_cost_volume(f_ref_n, f_nbr_n, flow, 2).argmax(1)]   # (1, H, W, 2)
    inner = best[0, 4:-4, 4:-4].reshape(-1, 2)
    assert (inner == torch.tensor([-1, 1])).all(1).float().mean() > 0.95


def test_bad_inputs():
    x = torch.randn(1, 4, 8, 8)
    with pytest.raises(ShapeError, match="f_nbr: expected the shape of f_ref"):
        rk.cost_volume(x, torch.randn(1, 4, 8, 9))
    with pytest.raises(ShapeError, match="f_ref: expected"):
        rk.cost_volume(x[0], x[0])
    with pytest.raises(ShapeError, match="f_nbr: expected dtype"):
        rk.cost_volume(x, x.double())
    with pytest.raises(ValueError, match="radius"):
        rk.cost_volume(x, x, radius=-1)
    with pytest.raises(ValueError, match="radius"):
        rk.cost_volume(x, x, radius=True)
    with pytest.raises(ShapeError, match="flow_ref_to_nbr"):
        rk.warped_cost_volume(x, x, torch.zeros(1, 3, 8, 8))
