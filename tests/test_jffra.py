"""restorekit.jffra: the JFFRA model (window attention, flow head, level transitions, Table-5 variants, odd sizes)."""
import math

import pytest
import torch
import torch.nn as nn

import restorekit as rk
from restorekit.core import ConfigError, ShapeError
from restorekit.jffra import (JFFRA, JFFRAConfig, JFFRBlock, FlowHead, refine_flow, window_attention, window_partition,
                              window_reverse, jffra_batch_loss, initial_flows)

VARIANTS = [dict(alignment="flow", flow_refinement=True), dict(alignment="flow", flow_refinement=False),
            dict(alignment="mutual_attention", flow_refinement=False), dict(alignment="learnable_offset", flow_refinement=False)]


def _naive_window_attention(q, k, v, ws, heads):
    """Reference: explicit loops over windows and heads; k, v may carry a frame axis (B, N, C, H, W)."""
    if k.dim() == 4: k, v = k[:, None], v[:, None]
    b, c, h, w = q.shape; d = c // heads; out = torch.zeros_like(q)
    for bi in range(b):
        for y0 in range(0, h, ws):
            for x0 in range(0, w, ws):
                for hd in range(heads):
                    ch = slice(hd * d, (hd + 1) * d)
                    tok = lambda t: t[bi, ch, y0:y0 + ws, x0:x0 + ws].reshape(d, -1).T
                    qw = tok(q)
                    kw = torch.cat([tok(k[:, n]) for n in range(k.shape[1])])
                    vw = torch.cat([tok(v[:, n]) for n in range(v.shape[1])])
                    attn = torch.softmax(qw @ kw.T / math.sqrt(d), dim=-1)
                    out[bi, ch, y0:y0 + ws, x0:x0 + ws] = (attn @ vw).T.reshape(d, ws, ws)
    return out


@pytest.mark.parametrize("heads,frames", [(1, 0), (2, 0), (4, 3)])
def test_window_attention_matches_naive(heads, frames):
    g = torch.Generator().manual_seed(heads + frames)
    q = torch.randn(2, 8, 16, 24, generator=g, dtype=torch.float64)
    kshape = (2, 8, 16, 24) if frames == 0 else (2, frames, 8, 16, 24)
    k, v = torch.randn(*kshape, generator=g, dtype=torch.float64), torch.randn(*kshape, generator=g, dtype=torch.float64)
    torch.testing.assert_close(window_attention(q, k, v, 8, heads), _naive_window_attention(q, k, v, 8, heads), atol=1e-10, rtol=1e-10)


def test_window_attention_is_local():
    """Changing keys in one 8x8 window changes the output only inside that window."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 4, 16, 16, generator=g) for _ in range(3))
    k2 = k.clone(); k2[..., :8, :8] = torch.randn(1, 4, 8, 8, generator=g)
    diff = (window_attention(q, k2, v, 8) - window_attention(q, k, v, 8)).abs()
    assert diff[..., :8, :8].max() > 1e-4 and diff[..., 8:, :].max() == 0 and diff[..., :, 8:].max() == 0


def test_window_partition_roundtrip_and_error():
    x = torch.randn(2, 3, 16, 24)
    torch.testing.assert_close(window_reverse(window_partition(x, 8), 8, 16, 24), x)
    with pytest.raises(ShapeError, match="window_size=8"): window_partition(torch.randn(1, 3, 12, 16), 8)


def test_refined_flow_is_initial_plus_head_offset():
    """Eq. 5: O' - O equals FlowHead(CV(f_t, W(f_nbr, O)), f_t, W(f_nbr, O)) exactly, and is non-zero for a non-zero head."""
    torch.manual_seed(0)
    head = FlowHead(6, radius=3)
    nn.init.normal_(head.out.weight, std=0.05)
    f_t, f_nbr, flow = torch.randn(2, 6, 12, 20), torch.randn(2, 6, 12, 20), 2 * torch.randn(2, 2, 12, 20)
    with torch.no_grad():
        refined = refine_flow(head, f_t, f_nbr, flow)
        f_w = rk.warp(f_nbr, flow)
        offset = head(rk.cost_volume(f_t, f_w, 3), f_t, f_w)
    torch.testing.assert_close(refined - flow, offset, atol=1e-5, rtol=0)
    assert offset.abs().mean() > 1e-3


def test_fresh_flow_head_passes_flow_through():
    torch.manual_seed(0)
    blk = JFFRBlock(8, "flow", True, radius=2)
    flows = [torch.randn(1, 2, 16, 16) for _ in range(2)]
    with torch.no_grad(): _, fp, fn = blk(*(torch.randn(1, 8, 16, 16) for _ in range(3)), *flows)
    torch.testing.assert_close(fp, flows[0]); torch.testing.assert_close(fn, flows[1])


@pytest.mark.parametrize("overrides", VARIANTS, ids=lambda o: f"{o['alignment']}-{o['flow_refinement']}")
def test_variants_forward_backward(overrides):
    """Every Table-5 variant builds, runs on an odd size and back-propagates into its attention."""
    torch.manual_seed(0)
    net = JFFRA(JFFRAConfig(channels=8, radius=2, **overrides))
    nn.init.normal_(net.tail.weight, std=0.1)                      # the zero-initialised tail would block every gradient
    out = net(torch.rand(2, 3, 3, 19, 23))
    assert out.shape == (2, 3, 3, 19, 23)
    out.square().mean().backward()
    for block in (net.encoder[0], net.decoder[0]):
        assert block.to_q.weight.grad.abs().sum() > 0 and block.to_k.weight.grad.abs().sum() > 0
    if overrides["flow_refinement"]: assert net.encoder[0].flow_head.out.weight.grad.abs().sum() > 0
    if overrides["alignment"] == "learnable_offset": assert net.encoder[0].offset_head[-1].weight.grad.abs().sum() > 0
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)


@pytest.mark.parametrize("task,size,levels", [("deblur", (17, 33), 2), ("denoise", (9, 8), 3), ("sr", (7, 13), 2)])
def test_odd_sizes(task, size, levels):
    net = JFFRA(JFFRAConfig(channels=8, radius=1, task=task, levels=levels))
    s = 4 if task == "sr" else 1
    with torch.no_grad(): out = net(torch.rand(1, 2, 3, *size))
    assert out.shape == (1, 2, 3, size[0] * s, size[1] * s)


def test_untrained_model_returns_its_input():
    """The zero-initialised tail and flow head: restoration starts from the LQ centre frame."""
    lq = torch.rand(1, 3, 3, 16, 16)
    with torch.no_grad(): out = JFFRA(JFFRAConfig(channels=8, radius=1))(lq)
    torch.testing.assert_close(out, lq)


def test_flows_rescaled_between_levels():
    """Eq. 1 level transition: without refinement the flow is only resized, its values halved per level down and doubled up."""
    net = JFFRA(JFFRAConfig(channels=8, levels=3, flow_refinement=False))
    flow = torch.zeros(1, 2, 2, 32, 48); flow[:, :, 0], flow[:, :, 1] = 4.0, -2.0
    with torch.no_grad(): _, trace = net(torch.rand(1, 2, 3, 32, 48), flow, -flow, return_flows=True)
    expected = {"initial": 1, "encoder 0": 1, "encoder 1": 0.5, "encoder 2": 0.25, "decoder 1": 0.5, "decoder 0": 1}
    assert [n for n, *_ in trace] == list(expected)
    for name, fp, fn in trace:
        f = expected[name]
        assert fp.shape[-2:] == (int(32 * f), int(48 * f))
        torch.testing.assert_close(fp[0, 0, :, 3, 3], torch.tensor([4.0 * f, -2.0 * f]))
        torch.testing.assert_close(fn, -fp)


def test_level_transition_uses_resize_flow():
    """A non-constant flow at level 1 is exactly resize_flow of the level-0 output (not just interpolated)."""
    torch.manual_seed(0)
    net = JFFRA(JFFRAConfig(channels=8, levels=2, flow_refinement=False))
    flow = torch.randn(1, 1, 2, 16, 32) * 3
    with torch.no_grad(): _, trace = net(torch.rand(1, 1, 3, 16, 32), flow, flow, return_flows=True)
    torch.testing.assert_close(trace[2][1][0], rk.resize_flow(trace[1][1][0], (8, 16)))
    assert trace[2][1].abs().max() < 0.75 * trace[1][1].abs().max()       # values rescaled, not only resampled


def test_given_flows_are_checked():
    net = JFFRA(JFFRAConfig(channels=8, radius=1))
    with pytest.raises(ShapeError, match="flows_t_to_next"):
        net(torch.rand(1, 2, 3, 16, 16), torch.zeros(1, 2, 2, 16, 16), torch.zeros(1, 2, 2, 8, 8))
    with pytest.raises(ShapeError, match="lq"): net(torch.rand(2, 3, 16, 16))


def test_config_validation_and_registry_rows():
    for bad, match in [(dict(alignment="x"), "alignment"), (dict(alignment="mutual_attention"), "needs alignment='flow'"),
                       (dict(task="x"), "task"), (dict(flow_source="raft"), "raft"), (dict(channels=6, heads=4), "divisible")]:
        with pytest.raises(ConfigError, match=match): JFFRAConfig(**bad)
    for name in ("jffra_t5", "jffra_t6"):
        for row in rk.get_table(name).rows:
            assert JFFRAConfig(**row.overrides).to_dict() == JFFRAConfig.from_dict(JFFRAConfig(**row.overrides).to_dict()).to_dict()


def test_initial_flows_small_frames_and_ends():
    lq = torch.rand(1, 3, 3, 10, 10)
    to_prev, to_next = initial_flows(lq)
    assert to_prev.shape == (1, 3, 2, 10, 10) and to_prev[:, 0].abs().sum() == 0 and to_next[:, 2].abs().sum() == 0


def test_batch_loss_switches_temporal_term():
    ds = rk.RestorationDataset("denoise", "train", n_frames=3, crop=16, length=2, sources=("synthetic",))
    batch = torch.utils.data.default_collate([ds[0], ds[1]])
    torch.manual_seed(0)
    on = JFFRA(JFFRAConfig(channels=8, radius=1, task="denoise"))
    loss, logs = jffra_batch_loss(on, batch)
    assert set(logs) == {"l1", "temporal"} and logs["temporal"] > 0
    torch.testing.assert_close(loss, logs["l1"] + 0.2 * logs["temporal"])
    off = JFFRA(JFFRAConfig(channels=8, radius=1, task="denoise", temporal_loss=False))
    off.load_state_dict(on.state_dict())
    loss_off, logs_off = jffra_batch_loss(off, batch)
    assert set(logs_off) == {"l1"}
    torch.testing.assert_close(loss_off, logs["l1"])


def test_train_jffra_passes_synthetic_options_to_the_data():
    """Slower synthetic motion (the cpu preset of Table 5) means a milder frame-average blur: a higher input PSNR."""
    from restorekit.exp_jffra import train_jffra
    kw = dict(iters=1, batch_size=1, crop=16, n_train=1, n_eval=2, sources=("synthetic",))
    cfg = JFFRAConfig(channels=8, radius=1, task="deblur", temporal_loss=False)
    _, fast = train_jffra(cfg, synthetic_options={"max_translation": 4.0}, **kw)
    _, slow = train_jffra(cfg, synthetic_options={"max_translation": 0.5}, **kw)
    assert slow["psnr_input"] > fast["psnr_input"] + 1


def test_table5_brackets_no_neighbours_and_exact_flow():
    "The lower bracket ignores the neighbours; the upper one aligns with the flows it is given and refuses to run without them."
    torch.manual_seed(0)
    lower = JFFRA(JFFRAConfig(channels=8, radius=1, alignment="none", flow_refinement=False))
    for p in lower.tail.parameters(): torch.nn.init.normal_(p, std=0.1)
    a = torch.rand(1, 3, 3, 16, 16); b = a.clone(); b[:, 0] = torch.rand(3, 16, 16)
    torch.testing.assert_close(lower(a)[:, 1:], lower(b)[:, 1:])
    ds = rk.RestorationDataset("denoise", "train", n_frames=3, crop=16, length=2, sources=("synthetic",))
    batch = torch.utils.data.default_collate([ds[0], ds[1]])
    upper = JFFRA(JFFRAConfig(channels=8, radius=1, task="denoise", flow_refinement=False, flow_source="exact"))
    with pytest.raises(ConfigError, match="exact flows"): upper(batch["lq"])
    from restorekit.jffra import exact_flows, jffra_flow_inputs
    _, trace = upper(batch["lq"], **jffra_flow_inputs(upper, batch), return_flows=True)
    torch.testing.assert_close(trace[0][1][:, 1:], batch["flow_bwd"].float())
    torch.testing.assert_close(exact_flows(batch)[1][:, :-1], batch["flow_fwd"].float())
    loss, logs = jffra_batch_loss(upper, batch)
    assert torch.isfinite(loss) and set(logs) == {"l1", "temporal"}


def test_per_frame_features_align_exactly_where_3d_features_do_not():
    "With per_frame_features the flow aligns a shifted copy's features onto the centre's; the 3D front end mixes the frames first."
    torch.manual_seed(0)
    centre = torch.rand(1, 3, 24, 24)
    frames = torch.stack([torch.roll(centre, 3, -1), centre, torch.roll(centre, -3, -1)], 1)   # prev(p) = centre(p - 3), next(p) = centre(p + 3)
    flow_to_prev = torch.tensor([3.0, 0.0]).view(1, 2, 1, 1).expand(1, 2, 24, 24)               # O_{t→t-1}: sample prev at p + 3
    interior = (..., slice(6, -6), slice(6, -6))                                                 # away from the borders and the roll's seam
    for per_frame in (True, False):
        net = JFFRA(JFFRAConfig(channels=8, radius=1, flow_refinement=False, flow_source="exact", per_frame_features=per_frame))
        with torch.no_grad():
            f_prev, f_t, _ = net.context(frames).unbind(1)
            err = (rk.warp(f_prev, flow_to_prev) - f_t)[interior].abs().max()
        assert (err < 1e-5) if per_frame else (err > 1e-2), (per_frame, float(err))
    assert sum(p.numel() for p in JFFRA(JFFRAConfig(channels=8, per_frame_features=True)).context.parameters()) < \
           sum(p.numel() for p in JFFRA(JFFRAConfig(channels=8)).context.parameters())


def test_mean_residual_fusion_starts_from_the_mean_of_the_aligned_features():
    "fusion='mean_residual': with the attention's values zeroed the block returns body(mean of f_t and its flow-aligned neighbours)."
    torch.manual_seed(0)
    f_prev, f_t, f_next = torch.rand(3, 1, 8, 16, 16).unbind(0)
    flow_prev, flow_next = torch.full((1, 2, 16, 16), 1.5), torch.full((1, 2, 16, 16), -0.5)
    for alignment, mean_residual in (("flow", True), ("flow", False), ("none", True)):
        block = JFFRBlock(8, alignment, flow_refinement=False, mean_residual=mean_residual)
        torch.nn.init.zeros_(block.to_v.weight); torch.nn.init.zeros_(block.to_v.bias)
        with torch.no_grad():
            out, _, _ = block(f_prev, f_t, f_next, flow_prev, flow_next)
            fused = (rk.warp(f_prev, flow_prev) + f_t + rk.warp(f_next, flow_next)) / 3 if alignment == "flow" and mean_residual else f_t
            torch.testing.assert_close(out, block.body(fused))


def test_aligned_frames_fusion_feeds_the_front_end_the_warped_neighbours():
    "fusion='aligned_frames': frame t's front-end features are those of t between its neighbours warped onto it; rows without flow are unchanged."
    torch.manual_seed(0)
    centre = torch.rand(1, 3, 32, 32)
    frames = torch.stack([torch.roll(centre, 3, -1), centre, torch.roll(centre, -3, -1)], 1)[:, None].expand(1, 1, 3, 3, 32, 32)
    flows = [torch.tensor([3.0, 0.0]).view(1, 2, 1, 1).expand(1, 2, 32, 32), torch.tensor([-3.0, 0.0]).view(1, 2, 1, 1).expand(1, 2, 32, 32)]
    net = JFFRA(JFFRAConfig(channels=8, radius=1, flow_refinement=False, flow_source="exact", fusion="aligned_frames"))
    seen = {}
    net.encoder[0].register_forward_pre_hook(lambda m, args: seen.update(f_t=args[1]))
    with torch.no_grad():
        net._network(frames[0], flows)
        still = net.context(centre[:, None].expand(1, 3, 3, 32, 32))[:, 1]          # t with exactly aligned copies of itself
    interior = (..., slice(6, -6), slice(6, -6))
    torch.testing.assert_close(seen["f_t"][interior], still[interior])
    net.cfg.fusion = "average_input"                                                   # the centre's stack is the aligned average three times
    noisy = frames[0] + 0.1 * torch.randn(1, 3, 3, 32, 32)
    with torch.no_grad():
        net._network(noisy, flows)
        average = torch.stack([rk.warp(noisy[:, 0], flows[0]), noisy[:, 1], rk.warp(noisy[:, 2], flows[1])], 1).mean(1, keepdim=True)
        torch.testing.assert_close(seen["f_t"], net.context(average.expand(1, 3, 3, 32, 32))[:, 1])
    with pytest.raises(ConfigError, match="per_frame_features"): JFFRAConfig(fusion="aligned_frames", per_frame_features=True)
    with pytest.raises(ConfigError, match="fusion"): JFFRAConfig(fusion="average")
    clip = torch.rand(1, 3, 3, 16, 16)
    for alignment in ("none", "mutual_attention", "learnable_offset"):
        torch.manual_seed(1); plain = JFFRA(JFFRAConfig(channels=8, alignment=alignment, flow_refinement=False))
        torch.manual_seed(1); fused = JFFRA(JFFRAConfig(channels=8, alignment=alignment, flow_refinement=False, fusion="aligned_frames"))
        for p in (*plain.tail.parameters(), *fused.tail.parameters()): torch.nn.init.constant_(p, 0.01)
        with torch.no_grad(): torch.testing.assert_close(plain(clip), fused(clip))


def test_aligned_average_fusions_start_from_the_aligned_average():
    "fusion='aligned_average' or 'average_input': an untrained model returns, for every frame with both neighbours, the average of it and its neighbours warped by the flow."
    from restorekit.exp_jffra import aligned_average
    from restorekit.jffra import jffra_flow_inputs
    ds = rk.RestorationDataset("denoise", "eval", n_frames=4, crop=16, length=2, sources=("synthetic",), synthetic_options={"max_translation": 6.0})
    items = [ds[0], ds[1]]
    batch = torch.utils.data.default_collate(items)
    for fusion in ("aligned_average", "average_input"):
        net = JFFRA(JFFRAConfig(channels=8, radius=1, task="denoise", flow_refinement=False, flow_source="exact", fusion=fusion))
        with torch.no_grad(): out = net(batch["lq"], **jffra_flow_inputs(net, batch))
        for i, item in enumerate(items):
            for t in (1, 2): torch.testing.assert_close(out[i, t], aligned_average(item, t))


def test_aligned_fusion_front_end_computes_only_the_outputs_it_uses(monkeypatch):
    """fusion='aligned_average': the front end's second convolution runs on 3 of the 6 frames (the raw window's ends, the
    aligned stack's centre), and training gives the losses and weights that computing all 6 and dropping 2 gives."""
    from torch.utils.flop_counter import FlopCounterMode
    from restorekit.jffra import TemporalContext, jffra_flow_inputs
    ds = rk.RestorationDataset("denoise", "train", n_frames=4, crop=32, length=2, sources=("synthetic",), synthetic_options={"max_translation": 6.0})
    batch = torch.utils.data.default_collate([ds[0], ds[1]])
    cfg = JFFRAConfig(channels=8, radius=1, task="denoise", flow_source="exact", fusion="aligned_average", position_bias=True, flow_loss_weight=1.0)

    def train(steps=3):
        torch.manual_seed(0)
        net = JFFRA(cfg); opt = torch.optim.Adam(net.parameters(), lr=1e-3); losses = []
        for _ in range(steps):
            opt.zero_grad(); loss = jffra_batch_loss(net, batch)[0]; loss.backward(); opt.step(); losses.append(loss.item())
        return losses, net

    losses, net = train()
    with FlopCounterMode(display=False) as counter, torch.no_grad(): net(batch["lq"], **jffra_flow_inputs(net, batch))
    frame = lambda c_in: 2 * c_in * 8 * 27 * 32 * 32                               # one output frame of a 3×3×3 conv c_in -> 8 channels
    windows = 2 * 4                                                                 # B·T, each a raw and an aligned 3-frame stack
    conv1, conv2 = 2 * 3 * frame(3) * windows, (2 + 1) * frame(8) * windows         # conv1 on all 6 frames, conv2 on ends + centre
    counted = sum(counter.get_flop_counts()["JFFRA.context"].values())
    assert counted == conv1 + conv2, (counted, conv1, conv2)
    full = TemporalContext.forward                                                    # the reference: all three outputs, then a selection
    monkeypatch.setattr(TemporalContext, "forward", lambda self, frames, positions=None: full(self, frames) if positions is None
                        else full(self, frames)[:, list(positions)])
    ref_losses, ref = train()
    torch.testing.assert_close(losses, ref_losses, rtol=1e-6, atol=0)
    for (name, p), q in zip(net.named_parameters(), ref.parameters()): torch.testing.assert_close(p, q, rtol=0, atol=1e-6, msg=name)
