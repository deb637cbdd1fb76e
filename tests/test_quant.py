"""restorekit.quant: NCFL's adaptive quantization (Eq. 2), quantized-Laplace likelihood (Eq. 5) and rate (Eq. 4)."""
import math

import pytest
import torch
import torch.nn.functional as F

import restorekit as rk
from restorekit.core import ConfigError, ShapeError


def _params(n, seed, dtype=torch.float64, spread=12.0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(n, generator=g, dtype=dtype) * 2
    sigma = torch.exp(torch.randn(n, generator=g, dtype=dtype))
    q = torch.exp(torch.randn(n, generator=g, dtype=dtype) * 1.5)
    x = (torch.rand(n, generator=g, dtype=dtype) * 2 - 1) * spread * sigma
    return mu, sigma, q, x


def _direct(e_hat, mu, sigma, q):
    lap = torch.distributions.Laplace(mu.double(), sigma.double())
    return lap.cdf(e_hat.double() + q.double() / 2) - lap.cdf(e_hat.double() - q.double() / 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_likelihood_equals_cdf_difference(seed):
    mu, sigma, q, x = _params(5000, seed)
    x[:500] = q[:500] / 2 * torch.sign(x[:500])                       # branch boundary d = q/2
    x[500:1500] = torch.round(x[500:1500] / q[500:1500]) * q[500:1500]  # grid points
    e_hat = mu + x
    direct = _direct(e_hat, mu, sigma, q)
    ours = rk.laplace_likelihood(e_hat, mu, sigma, q, bound=0)
    assert (ours - direct).abs().max() < 1e-12
    ok = direct > 1e-4                                                # where the direct difference has its digits
    assert ((ours - direct).abs() / direct)[ok].max() < 1e-9
    # float32 computation, given the same float32 difference ê − μ
    x32, s32, q32 = x.float(), sigma.float(), q.float()
    ours32 = rk.laplace_likelihood(x32, torch.zeros(()), s32, q32, bound=0)
    assert ours32.dtype == torch.float32
    assert (ours32.double() - _direct(x32, torch.zeros_like(x), s32, q32)).abs().max() < 1e-6


@pytest.mark.parametrize("mu,sigma,q", [(0.3, 1.0, 1.0), (-2.0, 0.2, 1.5), (5.0, 4.0, 0.25), (0.0, 1e-3, 1.0), (1.0, 50.0, 3.0)])
def test_likelihood_sums_to_one_over_grid(mu, sigma, q):
    k = torch.arange(-5000, 5001, dtype=torch.float64)
    total = rk.laplace_likelihood(mu + k * q, torch.tensor(mu, dtype=torch.float64), sigma, q, bound=0).sum()
    assert abs(float(total) - 1) < 1e-6


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_far_tail_is_finite(dtype):
    mu, b, q = torch.tensor(0.5, dtype=dtype), torch.tensor(0.1, dtype=dtype), torch.tensor(0.4, dtype=dtype)
    far = mu + torch.tensor([1e3, -1e3, 1e4], dtype=dtype) * b
    naive = _direct(far, mu.expand(3), b.expand(3), q.expand(3))
    assert (naive == 0).all()                                         # the direct difference gives log = -inf
    logp = rk.laplace_log_likelihood(far, mu, b, q, bound=0)
    expected = math.log(0.5) - ((far - mu).abs() - q / 2) / b + math.log(-math.expm1(-4.0))
    torch.testing.assert_close(logp, expected, rtol=1e-5, atol=0)
    p = rk.laplace_likelihood(far, mu, b, q)
    assert torch.isfinite(p).all() and (p > 0).all() and torch.isfinite(p.log()).all()
    assert torch.isfinite(rk.rate_bits(far, mu, b, q, bound=0))
    bits = rk.rate_bits(far, mu, b, q, reduction="none")
    torch.testing.assert_close(bits, torch.full_like(bits, -math.log2(rk.LIKELIHOOD_BOUND)))
    # the bound clamps the value but keeps the gradient of the exact log-likelihood
    e = far.clone().requires_grad_()
    rk.rate_bits(e, mu, b, q).backward()
    torch.testing.assert_close(e.grad, torch.sign(far - mu) / (b * math.log(2)))


def test_rate_is_minus_log2_of_likelihood():
    mu, sigma, q, x = _params(1000, 5, dtype=torch.float32, spread=4.0)
    e_hat = rk.adaptive_quantize(mu + x, mu, q, mode="round")
    bits = rk.rate_bits(e_hat, mu, sigma, q, reduction="none")
    torch.testing.assert_close(bits, -torch.log2(rk.laplace_likelihood(e_hat, mu, sigma, q)))
    torch.testing.assert_close(rk.rate_bits(e_hat, mu, sigma, q), bits.sum())
    torch.testing.assert_close(rk.rate_bits(e_hat, mu, sigma, q, reduction="mean"), bits.mean())


def test_quantize_forward_and_straight_through_gradients():
    g = torch.Generator().manual_seed(0)
    e, mu = torch.randn(3, 4, 5, 6, generator=g) * 3, torch.randn(3, 4, 5, 6, generator=g)
    q = torch.rand(3, 4, 5, 6, generator=g) + 0.2
    e_, mu_, q_ = (t.clone().requires_grad_() for t in (e, mu, q))
    e_hat = rk.adaptive_quantize(e_, mu_, q_)
    expected = torch.round((e - mu) / q) * q + mu
    torch.testing.assert_close(e_hat, expected)
    e_hat.sum().backward()
    u = (e - mu) / q
    torch.testing.assert_close(e_.grad, torch.ones_like(e))
    torch.testing.assert_close(mu_.grad, torch.zeros_like(e), atol=1e-5, rtol=0)
    torch.testing.assert_close(q_.grad, u.round() - u, atol=1e-4, rtol=0)
    fixed, step = rk.quantize(e, mu, q, kind="fixed", fixed_step=0.5)
    torch.testing.assert_close(fixed, torch.round((e - mu) / 0.5) * 0.5 + mu)
    none, step = rk.quantize(e, mu, q, kind="none")
    assert none is e and step is None


def test_gradients_reach_mu_sigma_q_and_encoder():
    torch.manual_seed(0)
    codec = rk.NeuralCompression(3, latent_channels=4, hidden=8, downsample=1)
    with torch.no_grad():
        codec.prior.net[-1].bias[8:].fill_(-4.0)                      # small steps: latents spread over many bins
    x = torch.rand(2, 3, 16, 16)
    out = codec(x)
    for t in (out.e, *out.prior):
        t.retain_grad()
    (F.mse_loss(out.x_hat, x) + 0.01 * out.bits / x[:, 0].numel()).backward()
    for name, t in zip(["e", "mu", "sigma", "q"], (out.e, *out.prior)):
        assert t.grad is not None and t.grad.abs().sum() > 0, name
    for part in (codec.encoder, codec.prior, codec.decoder):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    for part in (codec.hyper_encoder, codec.hyper_decoder, codec.factorized):   # the hyperprior is trained too
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    # the rate alone
    codec.zero_grad()
    out = codec(x)
    for t in (out.e, *out.prior):
        t.retain_grad()
    out.bits.backward()
    assert all(t.grad.abs().sum() > 0 for t in (out.e, *out.prior))


def test_prior_model_bounds_and_shapes():
    prior = rk.PriorModel(6, 5, hidden=16, downsample=1, sigma_min=0.05, q_min=0.02)
    out = prior(torch.randn(2, 6, 20, 12))
    assert [tuple(t.shape) for t in out] == [(2, 5, 10, 6)] * 3
    with torch.no_grad():
        prior.net[-1].bias.fill_(-1e4)
    out = prior(torch.randn(1, 6, 8, 8))
    assert (out.sigma == 0.05).all() and (out.q == 0.02).all()


def test_bad_input():
    e = torch.randn(4)
    with pytest.raises(ShapeError, match="q: expected quantization steps > 0"):
        rk.adaptive_quantize(e, 0.0, torch.tensor([1.0, 0.0, 1.0, 1.0]))
    with pytest.raises(ShapeError, match="e: contains NaN"):
        rk.adaptive_quantize(torch.tensor([0.0, float("nan")]), 0.0, 1.0)
    with pytest.raises(ShapeError, match="sigma: expected Laplace scales >= 0"):
        rk.rate_bits(e, 0.0, -1.0, 1.0)
    with pytest.raises(ShapeError, match="e_hat: contains NaN"):
        rk.rate_bits(torch.tensor([float("nan")]), 0.0, 1.0, 1.0)
    with pytest.raises(ConfigError):
        rk.quantize(e, 0.0, 1.0, kind="vector")
    with pytest.raises(ConfigError):
        rk.adaptive_quantize(e, 0.0, 1.0, mode="floor")
    # sigma = 0 is clamped at SIGMA_MIN: finite, the centre bin gets ~all the mass
    p = rk.laplace_likelihood(torch.tensor([0.0, 2.0]), 0.0, 0.0, 1.0)
    torch.testing.assert_close(p, torch.tensor([1.0, rk.LIKELIHOOD_BOUND]))


def test_entropy_model_is_decodable_and_counts_both_streams():
    torch.manual_seed(1)
    codec = rk.NeuralCompression(3, latent_channels=4, hidden=8, downsample=2, hyper_channels=2).eval()
    x = torch.rand(2, 3, 24, 16)
    with torch.no_grad():
        out = codec(x)
        assert out.e_hat.shape == (2, 4, 6, 4) and out.z_hat.shape == (2, 2, 3, 2)
        # the decoder's half needs ẑ only, and gives the very (μ, σ, q) used for ê
        for a, b in zip(codec.decode_prior(out.z_hat.clone()), out.prior):
            assert torch.equal(a, b)
        m, s = codec.factorized.params()
        z_bits = rk.rate_bits(out.z_hat, m, s, 1.0)
        torch.testing.assert_close(out.z_bits, z_bits)
        torch.testing.assert_close(out.bits, rk.rate_bits(out.e_hat, *out.prior) + z_bits)
        assert float(out.z_bits) > 0                                   # the side information is paid for
        # a different input with the same ẑ gets the same prior: the prior never sees x or e directly
        other = codec.decode_prior(out.z_hat)
        assert torch.equal(other.mu, out.prior.mu)
    assert rk.NeuralCompression(3, kind="none").prior is None
    fixed = rk.NeuralCompression(3, latent_channels=4, hidden=8, downsample=1, kind="fixed", fixed_step=0.25).eval()
    with torch.no_grad():
        assert (fixed(torch.rand(1, 3, 8, 8)).prior.q == 0.25).all()
    with pytest.raises(ShapeError, match="context"):
        codec(x, x)
    with pytest.raises(ShapeError, match="divisible by 8"):
        codec(torch.rand(1, 3, 20, 16))


def test_a_leaky_context_is_refused_unless_declared():
    with_ctx = rk.NeuralCompression(3, 3, latent_channels=4, hidden=8, downsample=1)
    with pytest.raises(ShapeError, match="context"):
        with_ctx(torch.rand(1, 3, 8, 8))
    out = with_ctx(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8))
    assert out.x_hat.shape == (1, 3, 8, 8)


def test_rate_weight_trades_rate_for_distortion():
    clip = rk.sample_clip("carphone_pristine", 0, 1)[..., 40:72, 60:92]          # a real 32x32 crop
    noisy = rk.add_gaussian_noise(clip, 30, seed=0)

    def train(lam):
        torch.manual_seed(0)
        codec = rk.NeuralCompression(3, latent_channels=4, hidden=16, downsample=1, hyper_channels=2)
        opt = torch.optim.Adam(codec.parameters(), lr=3e-3)
        for _ in range(80):
            out = codec(noisy)
            loss = F.mse_loss(out.x_hat, clip) * 255 ** 2 + lam * out.bits / clip[0, 0].numel()
            opt.zero_grad(); loss.backward(); opt.step()
        with torch.no_grad():
            out = codec.eval()(noisy)
        return float(out.bits) / clip[0, 0].numel(), float(F.mse_loss(out.x_hat, clip))

    (rate_lo, mse_lo), (rate_hi, mse_hi) = train(1.0), train(200.0)
    assert rate_lo > 0.1                          # a decodable prior cannot hide the rate
    assert rate_hi < 0.7 * rate_lo                # pricing bits higher buys fewer bits ...
    assert mse_hi > mse_lo                        # ... at a higher distortion
