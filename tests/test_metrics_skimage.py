"""restorekit's PSNR and SSIM agree with scikit-image's independent implementations.

SSIM is compared with `structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1, channel_axis=...)` to 1e-4, PSNR with
`peak_signal_noise_ratio(..., data_range=1)` to 1e-3 dB, on random and real images of odd sizes.
"""
import math

import numpy as np
import pytest
import torch
from skimage import data as skdata
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import restorekit as rk


def _sk_ssim(pred: np.ndarray, target: np.ndarray, channel_axis=0) -> float:
    return structural_similarity(pred, target, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=1, channel_axis=channel_axis)


def _photo(name: str, h: int, w: int) -> torch.Tensor:
    img = getattr(skdata, name)()
    return torch.from_numpy(np.ascontiguousarray(img[:h, :w])).permute(2, 0, 1).float() / 255


def _pairs():
    g = torch.Generator().manual_seed(1234)
    yield "random 143x175", torch.rand(3, 143, 175, generator=g), torch.rand(3, 143, 175, generator=g)
    yield "random 11x12 (smallest window)", torch.rand(3, 11, 12, generator=g), torch.rand(3, 11, 12, generator=g)
    smooth = torch.rand(3, 97, 64, generator=g)
    yield "random 97x64, small error", (smooth + 0.01 * torch.randn(smooth.shape, generator=g)).clamp(0, 1), smooth
    for name, sigma in [("astronaut", 10), ("coffee", 30), ("chelsea", 50)]:
        photo = _photo(name, 143, 175)
        noisy = (photo + sigma / 255 * torch.randn(photo.shape, generator=g)).clamp(0, 1)
        yield f"{name} 143x175 sigma={sigma}", noisy, photo
    photo = _photo("astronaut", 201, 133)
    blurred = torch.nn.functional.avg_pool2d(photo[None], 3, stride=1, padding=1, count_include_pad=False)[0]
    yield "astronaut 201x133 box blur", blurred, photo


PAIRS = list(_pairs())


@pytest.mark.parametrize("name,pred,target", PAIRS, ids=[p[0] for p in PAIRS])
def test_psnr_matches_skimage(name, pred, target):
    ours = rk.psnr(pred[None], target[None]).item()
    theirs = peak_signal_noise_ratio(target.double().numpy(), pred.double().numpy(), data_range=1)
    assert abs(ours - theirs) < 1e-3, (ours, theirs)


@pytest.mark.parametrize("name,pred,target", PAIRS, ids=[p[0] for p in PAIRS])
def test_ssim_rgb_matches_skimage(name, pred, target):
    ours = rk.ssim(pred[None], target[None]).item()
    theirs = _sk_ssim(pred.double().numpy(), target.double().numpy())
    assert abs(ours - theirs) < 1e-4, (ours, theirs)


@pytest.mark.parametrize("name,pred,target", PAIRS, ids=[p[0] for p in PAIRS])
def test_y_channel_matches_skimage(name, pred, target):
    y_pred, y_target = rk.rgb_to_y(pred)[0].double().numpy(), rk.rgb_to_y(target)[0].double().numpy()
    ours_ssim = rk.ssim(pred[None], target[None], y_channel=True).item()
    ours_psnr = rk.psnr(pred[None], target[None], y_channel=True).item()
    assert abs(ours_ssim - _sk_ssim(y_pred, y_target, channel_axis=None)) < 1e-4
    assert abs(ours_psnr - peak_signal_noise_ratio(y_target, y_pred, data_range=1)) < 1e-3


def test_bt601_y_against_skimage_ycbcr():
    # skimage's rgb2ycbcr is the same BT.601 studio-swing transform, with Y on the 0-255 scale
    from skimage.color import rgb2ycbcr
    photo = _photo("coffee", 143, 175)
    theirs = rgb2ycbcr(photo.permute(1, 2, 0).double().numpy())[..., 0] / 255
    assert np.abs(rk.rgb_to_y(photo)[0].double().numpy() - theirs).max() < 1e-5


def test_crop_matches_skimage_on_cropped_images():
    pred, target = PAIRS[3][1], PAIRS[3][2]
    crop = 4
    p, t = pred[:, crop:-crop, crop:-crop].double().numpy(), target[:, crop:-crop, crop:-crop].double().numpy()
    assert abs(rk.ssim(pred[None], target[None], crop=crop).item() - _sk_ssim(p, t)) < 1e-4
    assert abs(rk.psnr(pred[None], target[None], crop=crop).item() - peak_signal_noise_ratio(t, p, data_range=1)) < 1e-3


def test_clip_reduction_is_mean_of_per_frame_skimage_values():
    frames = [(PAIRS[i][1], PAIRS[i][2]) for i in (3, 4, 5)]
    pred = torch.stack([f[0] for f in frames]); target = torch.stack([f[1] for f in frames])
    sk_psnr = np.mean([peak_signal_noise_ratio(t.double().numpy(), p.double().numpy(), data_range=1) for p, t in frames])
    sk_ssim = np.mean([_sk_ssim(p.double().numpy(), t.double().numpy()) for p, t in frames])
    assert abs(rk.psnr(pred, target, reduction="clip").item() - sk_psnr) < 1e-3
    assert abs(rk.ssim(pred, target, reduction="clip").item() - sk_ssim) < 1e-4
    batch_p, batch_t = torch.stack([pred, pred.flip(0)]), torch.stack([target, target.flip(0)])
    assert rk.psnr(batch_p, batch_t, reduction="frame").shape == (2, 3)
    assert torch.allclose(rk.ssim(batch_p, batch_t, reduction="clip"), torch.full((2,), float(sk_ssim)), atol=1e-4)


def test_identical_inputs():
    x = PAIRS[3][2][None]
    assert rk.psnr(x, x).item() == 100.0
    assert math.isinf(rk.psnr(x, x, max_db=None).item())
    assert abs(rk.ssim(x, x).item() - 1) < 1e-6
    assert _sk_ssim(x[0].double().numpy(), x[0].double().numpy()) == pytest.approx(1.0)
