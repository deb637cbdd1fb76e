"""restorekit.entropy: a real range coder (constriction) reproduces the rate of Eq. 4 and round-trips bit-exactly."""
import pytest
import torch
import torch.nn.functional as F

import restorekit as rk
from restorekit.core import ShapeError


def _laplace_latent(shape, seed):
    g = torch.Generator().manual_seed(seed)
    sigma = torch.exp(torch.randn(shape, generator=g) * 0.7)
    q = torch.exp(torch.randn(shape, generator=g) * 0.5)
    mu = torch.randn(shape, generator=g)
    u = torch.rand(shape, generator=g) - 0.5
    return mu - sigma * torch.sign(u) * torch.log1p(-2 * u.abs()), mu, sigma, q


@pytest.mark.parametrize("max_window", [1024, 2])
def test_round_trip_with_escapes(max_window):
    e, mu, sigma, q = _laplace_latent((2, 4, 16, 20), seed=3)
    e.view(-1)[:3] = torch.tensor([5e5, -2e4, 1e3])
    k = rk.latent_symbols(e, mu, q)
    data = rk.encode_latents(k, sigma, q, max_window=max_window)
    assert torch.equal(rk.decode_latents(data, sigma, q), k)
    torch.testing.assert_close(rk.symbols_to_latents(k, mu, q), rk.adaptive_quantize(e, mu, q, mode="round"))


def test_synthetic_rate_agrees():
    e, mu, sigma, q = _laplace_latent((1, 8, 32, 32), seed=4)
    k = rk.latent_symbols(e, mu, q)
    data = rk.encode_latents(k, sigma, q)
    est = float(rk.rate_bits(rk.symbols_to_latents(k, mu, q), mu, sigma, q))
    assert abs(rk.coded_bits(data) / est - 1) < 0.03


def test_real_clip_round_trip_and_rate_within_3_percent():
    clip = rk.sample_clip("carphone_pristine", 0, 3)
    noisy = rk.add_gaussian_noise(clip, 30, seed=0)
    torch.manual_seed(0)
    codec = rk.NeuralCompression(3, latent_channels=8, hidden=16, downsample=2, hyper_channels=4)
    opt = torch.optim.Adam(codec.parameters(), lr=2e-3)
    for _ in range(20):                                               # a brief rate-distortion training
        out = codec(noisy[1:2])
        loss = F.mse_loss(out.x_hat, clip[1:2]) * 255 ** 2 + 8.0 * out.bits / clip[0, 0].numel()
        opt.zero_grad(); loss.backward(); opt.step()
    codec.eval()
    with torch.no_grad():
        out = codec(noisy[1:])
    symbols = rk.latent_symbols(out.e, out.prior.mu, out.prior.q)
    assert symbols.numel() >= 25000 and symbols.unique().numel() > 3   # moderately sized, non-trivial alphabet use
    data = rk.compress_features(codec, noisy[1:])
    x_dec, e_dec = rk.decompress_features(codec, data)                 # from the bytes and the weights only
    assert torch.equal(e_dec, out.e_hat)
    torch.testing.assert_close(x_dec, out.x_hat, atol=1e-5, rtol=0)
    estimated = float(out.bits)                                       # latent + hyper-latent
    assert float(out.z_bits) > 0 and estimated / clip[1:, 0].numel() > 0.01
    assert abs(data.bits / estimated - 1) < 0.03
    with pytest.raises(rk.ConfigError, match="entropy model"):
        rk.compress_features(rk.NeuralCompression(3, kind="none"), noisy[1:2])


def test_bad_input():
    e, mu, sigma, q = _laplace_latent((1, 2, 4, 4), seed=5)
    k = rk.latent_symbols(e, mu, q)
    with pytest.raises(ShapeError, match="symbols: expected an integer tensor"):
        rk.encode_latents(k.float(), sigma, q)
    with pytest.raises(ShapeError, match=r"shape \(1, 2, 4, 4\)"):
        rk.encode_latents(k[..., :2], sigma, q)
    with pytest.raises(ShapeError, match="multiple of 4 bytes"):
        rk.decode_latents(rk.encode_latents(k, sigma, q)[:-1], sigma, q)
    with pytest.raises(ShapeError, match="q: expected quantization steps > 0"):
        rk.encode_latents(k, sigma, torch.zeros_like(q))
