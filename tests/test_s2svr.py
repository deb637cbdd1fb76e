"""restorekit.s2svr: serial decoding, any sequence length and frame size, local attention against Eq. 5-7 written
as loops, identity motion compensation with zero flow, and comparable parameter budgets of the two propagation models."""
import dataclasses

import pytest
import torch

import restorekit as rk
from restorekit.core import ConfigError, ShapeError
from restorekit.s2svr import (LocalAttention, S2SVR, S2SVRConfig, SlidingWindowVR, build_model, count_parameters,
                              motion_compensate)

SMALL = dict(channels=8, gru_layers=2, res_blocks=1)


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return S2SVR(S2SVRConfig(**{**SMALL, "flow_source": "zero", **kw})).eval()


def _clip(b, t, h, w, seed=0):
    return torch.rand(b, t, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_public_names():
    for name in ("S2SVR", "S2SVRConfig", "SlidingWindowVR", "ConvGRU", "ResConvGRU", "LocalAttention", "build_model",
                 "s2svr_loss", "evaluate_restorer"):
        assert hasattr(rk, name), name


@pytest.mark.parametrize("t", [1, 2, 7, 13])
@pytest.mark.parametrize("scale,size", [(4, (9, 13)), (1, (17, 11)), (4, (1, 5))])
@pytest.mark.parametrize("propagation", ["seq2seq", "sliding_window"])
def test_any_length_and_size(t, scale, size, propagation):
    model = build_model(S2SVRConfig(**SMALL, scale=scale, flow_source="zero", propagation=propagation)).eval()
    h, w = size
    with torch.no_grad():
        out = model(_clip(2, t, h, w, seed=t))
    assert out.shape == (2, t, 3, scale * h, scale * w) and torch.isfinite(out).all()


def test_unseen_length_after_training_on_short_windows():
    model = _model(scale=1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    short = _clip(2, 3, 12, 12)
    model.train()
    for _ in range(3):
        loss = (model(short) - short).abs().mean()
        opt.zero_grad(); loss.backward(); opt.step()
    model.eval()
    with torch.no_grad():
        for t in (1, 2, 5, 21):
            assert model(_clip(1, t, 12, 12, seed=t)).shape == (1, t, 3, 12, 12)


def test_decoder_is_serial_by_gradient():
    model = _model(scale=4)
    _, outs = model(_clip(1, 6, 8, 8), return_outputs=True)
    for t in range(1, 6):
        (g,) = torch.autograd.grad(outs[t].sum(), outs[t - 1], retain_graph=True)
        assert g.abs().sum() > 0, f"output {t} does not depend on output {t - 1}"
        (back,) = torch.autograd.grad(outs[t - 1].sum(), outs[t], retain_graph=True, allow_unused=True)
        assert back is None, f"output {t - 1} depends on the later output {t}"


@pytest.mark.parametrize("k", [1, 3, 5])
def test_decoder_is_serial_by_intervention(k):
    model = _model(scale=1, radius=1)
    clip = _clip(1, 6, 10, 10)
    calls = []

    def hook(module, args):
        calls.append(1)
        if len(calls) - 1 == k: return (args[0] + 1.0,)

    with torch.no_grad():
        base = model(clip)
        handle = model.prev_embed.register_forward_pre_hook(hook)
        try:
            changed = model(clip)
        finally:
            handle.remove()
    assert len(calls) == 6                                  # one decoder step per frame, in order
    assert torch.equal(changed[:, :k], base[:, :k])
    assert (changed[:, k:] - base[:, k:]).abs().flatten(2).amax(2).min() > 1e-5


def test_causal_without_lookahead():
    model = _model(scale=1, radius=0)
    clip = _clip(1, 8, 10, 12)
    with torch.no_grad():
        full = model(clip)
        for k in (1, 2, 5):
            torch.testing.assert_close(model(clip[:, :k]), full[:, :k], atol=1e-5, rtol=0)


def _naive_attention(att, s_prev, latents, i, radius):
    terms = {}
    for j in range(latents.shape[1]):
        if abs(i - j) <= radius:
            terms[j] = att.v_a(torch.tanh(att.w_a(torch.cat([s_prev, latents[:, j]], 1))))
    denom = sum(torch.exp(e) for e in terms.values())
    return sum(torch.exp(terms[j]) / denom * latents[:, j] for j in terms)


@pytest.mark.parametrize("radius", [1, 2])
@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_local_attention_equals_naive(radius, n):
    torch.manual_seed(radius * 10 + n)
    att = LocalAttention(6, radius)
    latents, s_prev = torch.randn(2, n, 6, 5, 7), torch.randn(2, 6, 5, 7)
    for i in range(n):
        ctx, alpha = att(s_prev, latents, i, return_weights=True)
        torch.testing.assert_close(ctx, _naive_attention(att, s_prev, latents, i, radius), atol=1e-5, rtol=0)
        assert alpha.shape[1] == min(n, i + radius + 1) - max(0, i - radius)
        torch.testing.assert_close(alpha.sum(1), torch.ones(2, 1, 5, 7))


def test_zero_flow_motion_compensation_is_identity():
    states = [torch.rand(2, 4, 9, 11), torch.rand(2, 4, 36, 44)]
    out = motion_compensate(states, torch.zeros(2, 2, 9, 11))
    for a, b in zip(out, states):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    model = _model(scale=4)
    clip = _clip(1, 4, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(model(clip, flows=[torch.zeros(1, 2, 8, 8)] * 3), model(clip), atol=1e-6, rtol=0)
        assert not torch.allclose(model(clip, flows=[torch.full((1, 2, 8, 8), 1.5)] * 3), model(clip), atol=1e-4)


@pytest.mark.parametrize("channels", [8, 16, 32, 64])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_parameter_budgets_comparable(channels, layers):
    cfg = S2SVRConfig(channels=channels, gru_layers=layers, flow_source="zero")
    n_s2s = count_parameters(build_model(cfg))
    sliding = build_model(dataclasses.replace(cfg, propagation="sliding_window"))
    assert isinstance(sliding, SlidingWindowVR)
    n_sw = count_parameters(sliding)
    print(f"channels {channels}, layers {layers}: S2SVR {n_s2s}, sliding window {n_sw}")
    assert abs(n_sw / n_s2s - 1) < 0.2


def test_sliding_window_sees_only_its_window():
    torch.manual_seed(0)
    model = build_model(S2SVRConfig(**SMALL, scale=1, flow_source="zero", propagation="sliding_window", window=3)).eval()
    clip = _clip(1, 6, 8, 8)
    changed = clip.clone(); changed[:, 5] = 0.5
    with torch.no_grad():
        torch.testing.assert_close(model(changed)[:, :4], model(clip)[:, :4], atol=0, rtol=0)


def test_dis_flow_on_tiny_frames():
    model = S2SVR(S2SVRConfig(**SMALL, scale=4, flow_source="dis_medium")).eval()
    with torch.no_grad():
        assert model(_clip(1, 3, 8, 8)).shape == (1, 3, 3, 32, 32)


def test_errors():
    with pytest.raises(ConfigError, match="flow_source"): S2SVRConfig(flow_source="raft2")
    with pytest.raises(ConfigError, match="propagation"): S2SVRConfig(propagation="bidirectional")
    with pytest.raises(ConfigError, match="sliding"): S2SVR(S2SVRConfig(propagation="sliding_window"))
    model = _model()
    with pytest.raises(ShapeError, match="clip"): model(torch.rand(3, 3, 8, 8))
    with pytest.raises(ShapeError, match="flows"): model(_clip(1, 3, 8, 8), flows=[torch.zeros(1, 2, 8, 8)])
    with pytest.raises(ShapeError, match=r"flows\[0\]"): model(_clip(1, 2, 8, 8), flows=[torch.zeros(1, 2, 8, 9)])


def test_recurrent_states_stay_bounded_on_long_sequences():
    torch.manual_seed(0)
    stack, states = rk.ResConvGRU(8, layers=3), None
    with torch.no_grad():
        for _ in range(80):
            x = 10 * torch.randn(1, 8, 5, 5)
            states, z = stack(states or stack.init_states(x), x)
    assert max(float(s.abs().max()) for s in states) <= 1.0
    model = _model(scale=1)
    clip = _clip(1, 60, 8, 8)
    with torch.no_grad():
        whole = model(clip)
        windows = torch.cat([model(clip[:, k:k + 5]) for k in range(0, 60, 5)], 1)
    bicubic_err = lambda y: (y - clip).abs().mean().item()
    assert bicubic_err(whole) < 2 * bicubic_err(windows) + 1e-3
