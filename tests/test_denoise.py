"Self-supervised denoising of a video file (restorekit.denoise): plumbing, quality, resumption and bad input."
import argparse
import time

import pytest
import torch

from restorekit.core import VideoFileError
from restorekit.degrade import add_gaussian_noise
from restorekit.denoise import NoiseLevelError, add_cli, denoise_chunks, denoise_video, denoise_windows
from restorekit.metrics import psnr
from restorekit.synthetic import synthetic_clip
from restorekit.train import load_checkpoint
from restorekit.video import VideoWriter, iter_video, read_video, video_info, write_video

SMALL = dict(crop=32, window=4, channels=8, progress=False)


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory):
    "A synthetic 8-frame 48x64 clip, clean, and with AWGN sigma 30 saved losslessly."
    d = tmp_path_factory.mktemp("denoise")
    clean = synthetic_clip(n_frames=8, size=(48, 64), seed=5).frames
    write_video(add_gaussian_noise(clean, 30, seed=6, clip_range=True), d / "noisy.mkv", codec="ffv1")
    return d, clean


def test_end_to_end_shape_and_checkpoint(clip_files):
    d, clean = clip_files
    res = denoise_video(d / "noisy.mkv", d / "out.mp4", steps=3, **SMALL)
    out = read_video(res.path)
    assert out.shape == clean.shape
    assert res.frames == 8 and res.sigma_estimated
    extra = load_checkpoint(res.checkpoint)["extra"]
    assert res.checkpoint == d / "out.mp4.ckpt" and extra["model"] == "stbn" and extra["config"]["flow_source"] == "dis_medium"


def test_improves_psnr(clip_files):
    d, clean = clip_files
    noisy = read_video(d / "noisy.mkv")
    t = time.perf_counter()
    # 160 steps: at 80 the outcome of a random-init 8-channel model still swings by about 2 dB with the seed and the crops drawn
    res = denoise_video(d / "noisy.mkv", d / "better.mkv", noise_sigma=30, steps=160, **SMALL)
    before, after = psnr(noisy, clean).item(), psnr(read_video(res.path), clean).item()
    print(f"noisy {before:.2f} dB -> denoised {after:.2f} dB in {time.perf_counter() - t:.1f} s")
    assert after > before + 5


def test_interrupted_run_resumes_to_the_same_weights(clip_files):
    d, _ = clip_files
    full = denoise_video(d / "noisy.mkv", d / "full.mkv", steps=6, ckpt_every=2, **SMALL)

    def stop_at_3(state):
        if state.step == 3: state.stop = True
    cut = denoise_video(d / "noisy.mkv", d / "cut.mkv", steps=6, ckpt_every=2, callbacks=[stop_at_3], **SMALL)
    assert cut.train.final_step == 3 and load_checkpoint(cut.checkpoint)["step"] == 3
    resumed = denoise_video(d / "noisy.mkv", d / "cut.mkv", steps=6, ckpt_every=2, **SMALL)
    assert resumed.train.resumed_from == 3 and resumed.train.final_step == 6
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    fresh = denoise_video(d / "noisy.mkv", d / "cut.mkv", steps=6, ckpt_every=2, resume=False, seed=1, **SMALL)
    assert fresh.train.resumed_from is None


def test_bad_input_is_named(tmp_path, clip_files):
    d, clean = clip_files
    with pytest.raises(VideoFileError, match="missing.mp4"):
        denoise_video(tmp_path / "missing.mp4", tmp_path / "o.mkv")
    (tmp_path / "text.mp4").write_text("hello")
    with pytest.raises(VideoFileError, match="text.mp4"):
        denoise_video(tmp_path / "text.mp4", tmp_path / "o.mkv")
    write_video(torch.full((3, 3, 32, 32), 0.3), tmp_path / "flat.mkv", codec="ffv1")
    with pytest.raises(NoiseLevelError, match="flat.mkv"):
        denoise_video(tmp_path / "flat.mkv", tmp_path / "o.mkv", steps=1)
    write_video(clean[:1], tmp_path / "one.mkv", codec="ffv1")
    with pytest.raises(ValueError, match="at least 2"):
        denoise_video(tmp_path / "one.mkv", tmp_path / "o.mkv", steps=1)
    write_video(clean[:, :, :10, :12], tmp_path / "tiny.mkv", codec="ffv1")
    with pytest.raises(ValueError, match="smaller than"):
        denoise_video(tmp_path / "tiny.mkv", tmp_path / "o.mkv", steps=1)
    with pytest.raises(NoiseLevelError, match="noise_sigma"):
        denoise_video(d / "noisy.mkv", tmp_path / "o.mkv", noise_sigma=-3, steps=1)


def test_cli_handler(clip_files):
    d, _ = clip_files
    parser = argparse.ArgumentParser()
    add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["denoise", str(d / "noisy.mkv"), "-o", str(d / "cli.mkv"), "--steps", "2", "--crop", "32", "--seed", "3"])
    assert args.func(args) == 0
    assert read_video(d / "cli.mkv").shape[0] == 8


@pytest.mark.parametrize("name, codec", [("streamed.mkv", "ffv1"), ("streamed.mp4", "h264")])
def test_streamed_output_equals_the_buffered_path(clip_files, tmp_path, monkeypatch, name, codec):
    "denoise_video writes chunk by chunk (as the 16-frame reads come in) the frames a buffered run gives, and the file holds them in order."
    d, _ = clip_files
    written = []
    original = VideoWriter.write
    monkeypatch.setattr(VideoWriter, "write", lambda self, chunk: (written.append(chunk.clone()), original(self, chunk))[1])
    res = denoise_video(d / "noisy.mkv", tmp_path / name, noise_sigma=30, steps=2, infer_window=5, **SMALL)
    sizes = [c.shape[0] for c in written]
    assert sum(sizes) == 8 and max(sizes) <= 16 and len(sizes) > 1 and res.frames == 8
    monkeypatch.undo()
    # the buffered path: every frame denoised from other read chunks gives the same 8-bit frames
    to8 = lambda x: x.clamp(0, 1).mul(255).round().to(torch.uint8)
    buffered = torch.cat(list(denoise_windows(res.model, iter_video(d / "noisy.mkv", chunk_size=3), 5)))
    assert torch.equal(to8(torch.cat(written)), to8(buffered))
    # and the file holds those frames in order: exactly for lossless FFV1; for H.264 each decoded frame is nearest its own
    # frame and close to it (x264's threaded encoder does not give byte-identical files across encodes, measured)
    decoded, frames = read_video(res.path), torch.cat(written)
    if codec == "ffv1": assert torch.equal(to8(decoded), to8(frames))
    else:
        dist = (decoded[:, None] - frames[None]).abs().flatten(2).mean(-1)
        assert torch.equal(dist.argmin(1), torch.arange(8)) and psnr(decoded, frames) > 35, (dist, psnr(decoded, frames))


def test_video_writer_is_atomic(tmp_path):
    clip = synthetic_clip(n_frames=4, size=(32, 32), seed=1).frames
    with pytest.raises(RuntimeError):
        with VideoWriter(tmp_path / "v.mkv", codec="ffv1") as w:
            w.write(clip[:2])
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    with VideoWriter(tmp_path / "v.mkv", codec="ffv1") as w:
        w.write(clip[:2]); w.write(clip[2:])
        with pytest.raises(ValueError, match="16x16"):
            w.write(clip[:1, :, :16, :16])
    assert torch.equal(read_video(tmp_path / "v.mkv"), clip.mul(255).round().div(255))


def test_training_checkpoint_in_older_config_words_is_the_same_model(tmp_path):
    "A training checkpoint whose STBN config says flow='dis' (the field's older name and value) resumes; another model does not."
    from restorekit.core import CheckpointError
    from restorekit.denoise import _check_checkpoint, _model_config
    from restorekit.stbn import STBN
    from restorekit.train import save_checkpoint
    cfg = _model_config(8, 25)
    older = {k: v for k, v in cfg.to_dict().items() if k != "flow_source"} | {"flow": "dis"}
    path = save_checkpoint(tmp_path / "old.ckpt", STBN(cfg), extra={"config": older, "task": "denoise"})
    _check_checkpoint(path, cfg)
    other = save_checkpoint(tmp_path / "other.ckpt", STBN(cfg), extra={"config": older | {"flow": "net", "flow_refinement": True}, "task": "denoise"})
    with pytest.raises(CheckpointError, match="flow_source='pyramid'"): _check_checkpoint(other, cfg)


def _seam_figures(out, clean, period, skip):
    "Spread over positions t % period of the mean per-frame PSNR (dB) and brightness error (grey levels), frames skip..T-skip."
    frames = range(skip, out.shape[0] - skip)
    err = {t: out[t] - clean[t] for t in frames}
    by_pos = lambda v: [sum(v[t] for t in frames if t % period == p) / len([t for t in frames if t % period == p]) for p in range(period)]
    db = by_pos({t: -10 * torch.log10(e.square().mean()).item() for t, e in err.items()})
    grey = by_pos({t: e.mean().item() * 255 for t, e in err.items()})
    return max(db) - min(db), max(grey) - min(grey)


def test_no_chunk_seams(tmp_path):
    "A static scene under fresh noise in every frame: no frame position may differ from another; chunked inference fails this."
    clean = synthetic_clip(n_frames=2, size=(48, 48), seed=2).frames[:1].expand(24, -1, -1, -1).contiguous()
    noisy = add_gaussian_noise(clean, 30, seed=4, clip_range=True).mul(255).round().div(255)
    write_video(noisy, tmp_path / "static.mkv", codec="ffv1")
    res = denoise_video(tmp_path / "static.mkv", tmp_path / "static_out.mkv", noise_sigma=30, steps=40, **SMALL)
    windows = read_video(res.path)
    chunked = torch.cat(list(denoise_chunks(res.model, noisy.split(16), chunk_size=4, context=0)))   # no context: the chunk ends lose their temporal support
    seam_windows, seam_chunks = _seam_figures(windows, clean, 4, 3), _seam_figures(chunked, clean, 4, 3)
    seam_noise = _seam_figures(noisy, clean, 4, 3)[1]   # the brightness spread the noise alone gives: "within noise"
    print(f"seam spread (dB, grey levels): windows {seam_windows[0]:.3f}, {seam_windows[1]:.3f}; chunks {seam_chunks[0]:.3f}, "
          f"{seam_chunks[1]:.3f}; noisy input {seam_noise:.3f} grey levels")
    assert seam_windows[0] < 0.1 and seam_windows[1] < 2 * seam_noise + 0.1
    assert seam_chunks[0] > 3 * seam_windows[0] or seam_chunks[1] > 3 * seam_windows[1]   # the figure sees the seams it is meant to catch


def _two_shots(seed_a=5, seed_b=9, n=6, size=(48, 64)):
    "Two synthetic shots of n frames each, joined: a scene cut at frame n, under AWGN sigma 30."
    shots = [synthetic_clip(n_frames=n, size=size, seed=s).frames for s in (seed_a, seed_b)]
    return add_gaussian_noise(torch.cat(shots), 30, seed=1, clip_range=True)


def test_shot_cuts_finds_the_cut_and_nothing_else():
    from restorekit.denoise import shot_cuts
    assert shot_cuts(_two_shots()) == [6]
    assert shot_cuts(add_gaussian_noise(synthetic_clip(n_frames=12, size=(48, 64), seed=5).frames, 30, seed=2, clip_range=True)) == []
    with pytest.raises(ValueError, match="clip"):
        shot_cuts(torch.rand(3, 32, 32))


def test_windows_do_not_cross_a_scene_cut():
    "Frames of one shot come out the same whatever the other shot holds, and equal to denoising that shot alone."
    from restorekit.stbn import STBN, STBNConfig
    torch.manual_seed(0)
    model = STBN(STBNConfig(flow_source="dis_medium", flow_refinement=False, channels=8)).eval()
    clip, other = _two_shots(), _two_shots(seed_b=11)                   # same first shot, another second shot
    run = lambda x, **kw: torch.cat(list(denoise_windows(model, x.split(4), window=5, pad=4, **kw)))
    a, b = run(clip), run(other)
    assert torch.equal(a[:6], b[:6])
    assert torch.allclose(a[:6], run(clip[:6]), atol=1e-6) and torch.allclose(a[6:], run(clip[6:]), atol=1e-6)
    across_a, across_b = run(clip, cut_threshold=None), run(other, cut_threshold=None)
    assert (across_a[:6] - across_b[:6]).abs().max() > 1e-3            # without the cut the other shot leaks in: the test can fail


def test_training_segments_split_at_cuts():
    from restorekit.denoise import _shot_segments
    segments, window = _shot_segments([_two_shots()], 5)
    assert [s.shape[0] for s in segments] == [6, 6] and window == 5
    segments, window = _shot_segments([_two_shots(n=3)], 5)                # shots shorter than the window: the window shrinks
    assert [s.shape[0] for s in segments] == [3, 3] and window == 3


def test_training_crops_from_reflect_padded_frames(clip_files, tmp_path):
    "train_pad mirrors the training frames (recorded in the model file); a negative pad is refused by name."
    from restorekit.checkpoint import load_model
    d, _ = clip_files
    res = denoise_video(d / "noisy.mkv", tmp_path / "p.mkv", noise_sigma=30, steps=2, train_pad=8, **SMALL)
    assert load_model(res.model_path, expected_kind="stbn").data["train_pad"] == 8
    with pytest.raises(ValueError, match="train_pad"):
        denoise_video(d / "noisy.mkv", tmp_path / "q.mkv", steps=1, train_pad=-1, **SMALL)


def test_full_covariance_posterior_and_nll_match_dense_algebra():
    "posterior_mean_full and gaussian_nll_full_loss against float64 torch.linalg; a diagonal factor gives the per-channel formulas."
    from restorekit.stbn import _scale_tril, gaussian_nll_full_loss, gaussian_nll_loss, posterior_mean, posterior_mean_full
    g = torch.Generator().manual_seed(0)
    raw, mean, noisy = torch.randn(2, 3, 6, 5, 7, generator=g) * 2, torch.rand(2, 3, 3, 5, 7, generator=g), torch.rand(2, 3, 3, 5, 7, generator=g)
    tril, sigma = _scale_tril(raw, 3), 30
    lower = tril.double().permute(0, 1, 4, 5, 2, 3)                      # (..., C, C) per pixel
    prior_cov = lower @ lower.transpose(-1, -2)
    noisy_cov = prior_cov + (sigma / 255) ** 2 * torch.eye(3, dtype=torch.float64)
    resid = (noisy - mean).double().permute(0, 1, 3, 4, 2)[..., None]
    dense_post = mean.double().permute(0, 1, 3, 4, 2)[..., None] + prior_cov @ torch.linalg.solve(noisy_cov, resid)
    assert torch.allclose(posterior_mean_full(mean, tril, noisy, sigma).double(), dense_post[..., 0].permute(0, 1, 4, 2, 3), atol=1e-5)
    dense_nll = 0.5 * ((resid.transpose(-1, -2) @ torch.linalg.solve(noisy_cov, resid))[..., 0, 0] + torch.logdet(noisy_cov)).mean() / 3
    assert abs(gaussian_nll_full_loss(mean, tril, noisy, sigma).item() - dense_nll.item()) < 1e-4
    log_var = torch.randn(2, 3, 3, 5, 7, generator=g) - 6
    diagonal = torch.diag_embed(log_var.div(2).exp().permute(0, 1, 3, 4, 2)).permute(0, 1, 4, 5, 2, 3)
    assert torch.allclose(posterior_mean_full(mean, diagonal, noisy, sigma), posterior_mean(mean, log_var, noisy, sigma), atol=1e-6)
    assert abs(gaussian_nll_full_loss(mean, diagonal, noisy, sigma) - gaussian_nll_loss(mean, log_var, noisy, sigma)) < 1e-5


def test_tta_output_turns_with_the_input():
    "Averaged over all 8 symmetries, the output of a turned clip is the turned output; one symmetry alone is not (the net is not symmetric)."
    from restorekit.denoise import dihedral
    from restorekit.stbn import STBN, STBNConfig
    torch.manual_seed(0)
    model = STBN(STBNConfig(flow_source="dis_medium", flow_refinement=False, loss="nll_full", channels=8)).eval()
    frame = add_gaussian_noise(synthetic_clip(n_frames=2, size=(24, 32), seed=3).frames[:1], 30, seed=1, clip_range=True)
    clip = frame.expand(5, -1, -1, -1).contiguous()                     # identical frames: the flows are zero in every orientation
    run = lambda x, tta: torch.cat(list(denoise_windows(model, x.split(2), window=3, pad=4, tta=tta)))
    for k in (1, 6):
        assert torch.allclose(run(dihedral(clip, k), 8), dihedral(run(clip, 8), k), atol=1e-5)
        assert (run(dihedral(clip, k), 1) - dihedral(run(clip, 1), k)).abs().max() > 1e-3
    from restorekit.guard import OptionError
    for bad in (3, 0, 16, "2"):
        with pytest.raises(OptionError, match="tta"):
            run(clip, bad)
    with pytest.raises(OptionError, match="ends"):
        list(denoise_windows(model, clip.split(2), window=3, ends="reflect"))


def test_mirrored_windows_stay_in_their_shot_and_never_repeat_the_frame():
    "ends='mirror': every frame sits at the centre of a full window of frames from its own shot, itself only once; a shot shorter than the window repeats a neighbour."
    from restorekit.stbn import STBN, STBNConfig
    torch.manual_seed(0)
    model = STBN(STBNConfig(flow_source="dis_medium", flow_refinement=False, loss="nll_full", channels=8)).eval()
    g = torch.Generator().manual_seed(1)
    shots = [(0, 6, 0.0), (6, 10, 0.7), (10, 12, 0.35)]                  # [start, end) and brightness: a cut before 6 and before 10
    clip = torch.cat([lo + 0.3 * torch.rand(e - s, 3, 32, 32, generator=g) for s, e, lo in shots])
    calls = []
    model.register_forward_pre_hook(lambda module, args: calls.append(args[0][0]))
    out = torch.cat(list(denoise_windows(model, clip.split(5), window=7, pad=0, ends="mirror", reverse=False)))
    assert out.shape == clip.shape and len(calls) == len(clip)
    for t, call in enumerate(calls):
        idx = [next(i for i in range(len(clip)) if torch.equal(f, clip[i])) for f in call]
        s, e = next((s, e) for s, e, _ in shots if s <= t < e)
        assert len(idx) == 7 and idx[3] == t and idx.count(t) == 1 and all(s <= i < e for i in idx), (t, idx)
    assert [next(i for i in range(len(clip)) if torch.equal(f, clip[i])) for f in calls[0]] == [3, 2, 1, 0, 1, 2, 3]
    assert [next(i for i in range(len(clip)) if torch.equal(f, clip[i])) for f in calls[10]] == [11, 11, 11, 10, 11, 11, 11]
    calls.clear()
    list(denoise_windows(model, clip.split(5), window=7, pad=0, ends="shift", reverse=False))
    assert [next(i for i in range(len(clip)) if torch.equal(f, clip[i])) for f in calls[0]] == [0, 1, 2, 3, 4, 5]
    calls.clear()
    list(denoise_windows(model, clip.split(5), window=7, pad=0, ends="shift"))   # reverse=True: each window again, backwards in time
    order = lambda call: [next(i for i in range(len(clip)) if torch.equal(f, clip[i])) for f in call]
    assert len(calls) == 2 * len(clip) and order(calls[0]) == [0, 1, 2, 3, 4, 5] and order(calls[1]) == [5, 4, 3, 2, 1, 0]


def test_prior_ships_and_is_the_starting_point(tmp_path, clip_files):
    "The shipped prior is small, loads into denoise's own configuration only, and a bad file is named."
    from restorekit.core import CheckpointError
    from restorekit.denoise import PRIOR_PATH, _model_config, load_prior
    from restorekit.stbn import STBN
    assert PRIOR_PATH.is_file() and PRIOR_PATH.stat().st_size < 256 * 1024
    model = STBN(_model_config(16, 12.5))
    assert load_prior(model)
    saved = torch.load(PRIOR_PATH, weights_only=True)["state_dict"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.items())
    assert not load_prior(STBN(_model_config(8, 30)))
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_prior(model, tmp_path / "junk.pt")
    d, _ = clip_files
    with pytest.raises(CheckpointError, match="channels=8"):
        denoise_video(d / "noisy.mkv", tmp_path / "o.mkv", steps=1, prior=True, **SMALL)
