"Model checkpoints (restorekit.checkpoint): `restorekit restore` with a tiny model of every kind, chunking, and every refusal."
import dataclasses
import io
from contextlib import redirect_stderr, redirect_stdout

import pytest
import torch

from restorekit.checkpoint import MODEL_FORMAT_VERSION, LoadedModel, checkpoint_info, load_model, save_model
from restorekit.restore import restore_chunks, restore_clip
from restorekit.cli import main
from restorekit.degrade import add_gaussian_noise
from restorekit.flownet import PyramidFlowNet
from restorekit.jffra import JFFRA, JFFRAConfig
from restorekit.ncfl import NCFL, NCFLConfig
from restorekit.pwcflow import PWCLite
from restorekit.s2svr import S2SVRConfig, build_model
from restorekit.stbn import STBN, STBNConfig
from restorekit.synthetic import synthetic_clip
from restorekit.core import CheckpointError
from restorekit.train import save_checkpoint
from restorekit.video import VideoWriter, read_video, write_video

T, H, W = 9, 37, 51  # an odd size that is a multiple of nothing the models need

NCFL_SMALL = dict(channels=4, latent_channels=4, mvr_channels=4, attention_channels=4, flow_source="dis_medium")
# kind, factory, upscale factor, True if the model sees a finite temporal window (chunking is then exact)
MODELS = {
    "stbn": ("stbn", lambda: STBN(STBNConfig(channels=4, n_blocks=1, srfe_blocks=1, flow_source="dis_medium", flow_refinement=False)), 1, False),
    "stbn_flownet": ("stbn", lambda: STBN(STBNConfig(channels=4, n_blocks=1, srfe_blocks=1, flow_levels=3, flow_refinement=False)), 1, False),
    "s2svr_sr": ("s2svr", lambda: build_model(S2SVRConfig(scale=2, channels=4, gru_layers=1, flow_source="dis_medium")), 2, False),
    "s2svr_sliding": ("s2svr", lambda: build_model(S2SVRConfig(scale=1, task="deblur", channels=4, propagation="sliding_window",
                                                               window=3, flow_source="dis_medium")), 1, True),
    "jffra_sr": ("jffra", lambda: JFFRA(JFFRAConfig(task="sr", scale=2, channels=4, levels=1, window_size=4, radius=1)), 2, True),
    "ncfl": ("ncfl", lambda: NCFL(NCFLConfig(**NCFL_SMALL)), 1, False),
    "ncfl_bidirectional": ("ncfl", lambda: NCFL(NCFLConfig(**NCFL_SMALL, bidirectional=True)), 1, False),
}


def perturbed(factory, seed=0):
    "A model whose zero-initialised output layers are perturbed, so that its output depends on its input and on time."
    torch.manual_seed(seed)
    model = factory()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters(): p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return model


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    "A noisy synthetic 9-frame 37x51 clip written losslessly, and the clip as decoded."
    d = tmp_path_factory.mktemp("restore")
    clip = add_gaussian_noise(synthetic_clip(n_frames=T, size=(H, W), seed=1).frames, 20, seed=2, clip_range=True)
    write_video(clip, d / "in.mkv", codec="ffv1")
    return d, read_video(d / "in.mkv")


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err): code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", list(MODELS))
def test_restore_command_every_kind(video, name):
    d, clip = video
    kind, factory, scale, _ = MODELS[name]
    model = perturbed(factory)
    ckpt = save_model(d / f"{name}.pt", model, data={"task": "test"}, preset="tiny", metrics={"psnr": 1.0})
    code, _, err = run_cli("restore", d / "in.mkv", "-o", d / f"{name}.mkv", "--checkpoint", ckpt, "--chunk", 4, "--context", 2, "--no-progress")
    assert code == 0, err
    assert "frames per second" in err and f"with a {kind} model" in err
    out = read_video(d / f"{name}.mkv")
    assert out.shape == (T, 3, H * scale, W * scale)
    # the file holds exactly what restore_chunks computes (FFV1 is lossless up to the 8-bit rounding)
    expected = torch.cat(list(restore_chunks(load_model(ckpt).model, clip.split(4), chunk_size=4, context=2)))
    assert (out - expected).abs().max() <= 1 / 255 + 1e-5


@pytest.mark.parametrize("name", list(MODELS))
def test_chunks_are_the_restorations_of_their_windows(video, name):
    _, clip = video
    model = perturbed(MODELS[name][1])
    start = 0
    for piece in restore_chunks(model, clip.split(2), chunk_size=3, context=2):
        lo, hi = max(start - 2, 0), min(start + piece.shape[0] + 2, T)
        torch.testing.assert_close(piece, restore_clip(model, clip[lo:hi])[start - lo: start - lo + piece.shape[0]], atol=1e-5, rtol=0)
        start += piece.shape[0]
    assert start == T


@pytest.mark.parametrize("name", list(MODELS))
def test_chunking_with_overlap_matches_one_call(video, name):
    "Window models: exact once the context covers the window. Recurrent ones: the seam shrinks with the context, to < 0.02."
    _, clip = video
    _, factory, _, windowed = MODELS[name]
    model = perturbed(factory)
    whole = restore_clip(model, clip)
    error = {c: (torch.cat(list(restore_chunks(model, clip.split(4), chunk_size=3, context=c))) - whole).abs().max().item()
             for c in (0, 3)}
    assert error[3] <= (1e-5 if windowed else 0.02), error
    assert error[3] <= error[0], error
    if windowed: assert error[0] > 1e-3, error   # without context the chunk edges lose their neighbours


def test_info_command(video):
    d, _ = video
    model = perturbed(MODELS["stbn"][1])
    ckpt = save_model(d / "info.pt", model, data={"task": "denoise", "sigma": 25.0}, preset="cpu", metrics={"psnr": 31.5})
    code, out, _ = run_cli("info", ckpt)
    assert code == 0
    for text in ("kind:       stbn", f"parameters: {sum(p.numel() for p in model.parameters()):,}", "task='denoise'",
                 "preset:     cpu", "psnr=31.5", "same model code; loads"):
        assert text in out, out
    info = checkpoint_info(ckpt)
    assert info["code_matches"] and info["loads"] and info["config"]["channels"] == 4


def test_round_trip_of_flow_nets_and_learned_flow_inside_s2svr(tmp_path):
    for net in (PyramidFlowNet(levels=3, widths=(8, 4), kernel_size=3), PWCLite(levels=2, channels=(8, 8), hidden=(8,), context=False)):
        loaded = load_model(save_model(tmp_path / "flow.pt", net))
        assert type(loaded.model) is type(net)
        assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), loaded.model.state_dict().values()))
        with pytest.raises(Exception, match="estimates optical flow"):
            restore_clip(loaded.model, torch.rand(2, 3, 16, 16))
    for flow_source, net in (("pyramid", PyramidFlowNet(levels=2, widths=(4,), kernel_size=3)),
                          ("pwclite", PWCLite(levels=2, channels=(8, 8), hidden=(8,), context=False))):
        s2svr = perturbed(lambda: build_model(S2SVRConfig(scale=1, task="deblur", channels=4, gru_layers=1, flow_source=flow_source), flow_net=net))
        loaded = load_model(save_model(tmp_path / "s2svr.pt", s2svr))
        assert type(loaded.model.flow_net) is type(net) and loaded.model.flow_net.levels == 2   # not the default-sized net
        x = torch.rand(3, 3, 20, 20)
        torch.testing.assert_close(restore_clip(loaded.model, x), restore_clip(s2svr, x))


# ---- refusals ------------------------------------------------------------------------------------

@pytest.fixture()
def stbn_ckpt(tmp_path):
    model = STBN(STBNConfig(channels=4, n_blocks=1, srfe_blocks=1, flow_source="dis_medium", flow_refinement=False))
    return tmp_path, model, save_model(tmp_path / "stbn.pt", model, data={"task": "denoise"}, preset="smoke")


def forge(path, target, **changes):
    record = torch.load(path, weights_only=True)
    record.update(changes)
    torch.save(record, target)
    return target


def test_refuses_a_checkpoint_of_another_model(stbn_ckpt):
    d, _, ckpt = stbn_ckpt
    with pytest.raises(CheckpointError, match=r"stbn\.pt.*is a checkpoint of a 'stbn' model, expected a 'ncfl' model"):
        load_model(ckpt, expected_kind="ncfl")
    with pytest.raises(CheckpointError, match="'unet' is unknown.*expected one of"):
        load_model(forge(ckpt, d / "unet.pt", kind="unet"))


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.0])
def test_refuses_a_truncated_checkpoint(stbn_ckpt, fraction):
    d, _, ckpt = stbn_ckpt
    data = ckpt.read_bytes()
    (d / "cut.pt").write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(CheckpointError, match=r"cut\.pt.*truncated or not a restorekit checkpoint"):
        load_model(d / "cut.pt")


def test_refuses_files_that_are_not_model_checkpoints(stbn_ckpt):
    d, model, _ = stbn_ckpt
    save_checkpoint(d / "train.pt", model, extra={"model": "stbn", "config": dataclasses.asdict(model.cfg)})
    with pytest.raises(CheckpointError, match="training-state checkpoint of restorekit.train"):
        load_model(d / "train.pt")
    torch.save(model.state_dict(), d / "bare.pt")
    with pytest.raises(CheckpointError, match="bare state dict"):
        load_model(d / "bare.pt")
    torch.save(model, d / "pickled.pt")   # a whole pickled module: weights_only refuses to unpickle it
    with pytest.raises(CheckpointError, match=r"truncated or not a restorekit checkpoint.*pickled Python object"):
        load_model(d / "pickled.pt")
    torch.save({"format": "something-else", "weights": [1, 2]}, d / "other.pt")
    with pytest.raises(CheckpointError, match="not a restorekit model checkpoint"):
        load_model(d / "other.pt")
    with pytest.raises(CheckpointError, match="no such file"):
        load_model(d / "missing.pt")


def test_refuses_a_config_the_code_does_not_know(stbn_ckpt):
    d, model, ckpt = stbn_ckpt
    config = dataclasses.asdict(model.cfg)
    with pytest.raises(CheckpointError, match=r"field\(s\) \['gated'\] that this code's STBNConfig does not know"):
        load_model(forge(ckpt, d / "field.pt", config={**config, "gated": True}))
    with pytest.raises(CheckpointError, match="config is not valid for this code.*warp_mode"):
        load_model(forge(ckpt, d / "value.pt", config={**config, "warp_mode": "cubic"}))
    with pytest.raises(CheckpointError, match=r"weights do not match the stbn model built from its config: shape of "):
        load_model(forge(ckpt, d / "wider.pt", config={**config, "channels": 8}))
    with pytest.raises(CheckpointError, match=r"weights do not match.*(missing|unexpected) "):
        load_model(forge(ckpt, d / "srfe.pt", config={**config, "srfe": False}))
    with pytest.raises(CheckpointError, match="upgrade restorekit"):
        load_model(forge(ckpt, d / "future.pt", version=MODEL_FORMAT_VERSION + 1))


def test_cli_reports_refusals_in_one_line(stbn_ckpt, video):
    d, _, ckpt = stbn_ckpt
    vd, _ = video
    (d / "cut.pt").write_bytes(ckpt.read_bytes()[:1000])
    code, _, err = run_cli("restore", vd / "in.mkv", "-o", d / "out.mkv", "--checkpoint", d / "cut.pt")
    assert code == 2 and err.startswith("restorekit: error: model checkpoint") and "truncated" in err
    assert not (d / "out.mkv").exists()
    code, out, _ = run_cli("info", forge(ckpt, d / "wider.pt", config={**torch.load(ckpt, weights_only=True)["config"], "channels": 8}))
    assert code == 0 and "DOES NOT LOAD" in out
    code, _, err = run_cli("restore", vd / "in.mkv", "-o", d / "out.mkv", "--checkpoint", save_model(d / "flow.pt", PyramidFlowNet(levels=2)))
    assert code == 2 and "estimates optical flow" in err


def test_save_model_refuses_what_would_not_load(tmp_path):
    model = STBN(STBNConfig(channels=4, flow_source="dis_medium", flow_refinement=False))
    with pytest.raises(CheckpointError, match="do not match"):
        save_model(tmp_path / "x.pt", model, STBNConfig(channels=8, flow_source="dis_medium", flow_refinement=False))
    with pytest.raises(Exception, match="weights_only"):
        save_model(tmp_path / "x.pt", model, metrics={"curve": object()})
    with pytest.raises(Exception, match="not a registered restorekit model"):
        save_model(tmp_path / "x.pt", torch.nn.Conv2d(3, 3, 1))
    assert not list(tmp_path.iterdir())


def test_loaded_model_is_ready_to_restore(stbn_ckpt):
    _, model, ckpt = stbn_ckpt
    loaded = load_model(ckpt)
    assert isinstance(loaded, LoadedModel) and not loaded.model.training
    assert (loaded.data, loaded.preset, loaded.defaulted, loaded.code_matches) == ({"task": "denoise"}, "smoke", [], True)
    x = torch.rand(3, 3, 20, 20)
    torch.testing.assert_close(restore_clip(loaded.model, x), restore_clip(model, x))


def test_video_writer_is_atomic_and_checks_sizes(tmp_path):
    frames = torch.rand(4, 3, 18, 22)
    with pytest.raises(Exception, match="expected frames of 18x22"):
        with VideoWriter(tmp_path / "v.mp4") as w:
            w.write(frames); w.write(torch.rand(2, 3, 20, 22))
    assert list(tmp_path.iterdir()) == []
    with VideoWriter(tmp_path / "v.mp4", fps=12) as w:
        for piece in frames.split(3): w.write(piece)
    assert read_video(tmp_path / "v.mp4").shape == (4, 3, 18, 22)
