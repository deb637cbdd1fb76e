"""Every command checks every path and option before any work: a refusal is exit code 2 and one line naming the input,
with no traceback, and leaves every file in the folder as it was (same names, same bytes, no new files)."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import restorekit as rk
from restorekit.checkpoint import save_model
from restorekit.cli import main
from restorekit.degrade import add_gaussian_noise
from restorekit.denoise import denoise_video
from restorekit.stbn import STBN, STBNConfig
from restorekit.synthetic import synthetic_clip
from restorekit.train import save_checkpoint
from restorekit.video import read_video, write_video

RESTOREKIT = str(Path(sys.executable).with_name("restorekit"))
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def snapshot(folder: Path) -> dict:
    "Name -> SHA-256 of every file (link target of every symbolic link) under `folder`."
    return {p.relative_to(folder).as_posix(): f"-> {os.readlink(p)}" if p.is_symlink() else
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder" for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    "Tiny 8-frame 32x32 clips (whole, cut in half, linked), a model checkpoint, and files that belong to the user."
    d = tmp_path_factory.mktemp("guard")
    clip = add_gaussian_noise(synthetic_clip(n_frames=8, size=(32, 32), seed=1).frames, 25, seed=2, clip_range=True)
    for name in ("same.mkv", "victim.mkv"): write_video(clip, d / name, codec="ffv1")
    for name, codec in (("cut.mkv", "ffv1"), ("cut_h264.mkv", "h264"), ("cut.mp4", "h264")):
        whole = write_video(clip, d / f"whole_{name}", codec=codec).read_bytes()
        (d / name).write_bytes(whole[: len(whole) // 2])
    os.symlink("same.mkv", d / "link.mkv")
    os.link(d / "same.mkv", d / "hard.mkv")
    (d / "notes.txt").write_text("the user's notes\n")
    (d / "old.mkv").write_bytes(b"a video the user made elsewhere")
    (d / "random.bin").write_bytes(bytes(range(256)) * 20)
    save_model(d / "model.pt", STBN(STBNConfig(channels=4, n_blocks=1, srfe_blocks=1, flow_source="dis_medium", flow_refinement=False)))
    return d


def run_in(folder, monkeypatch, capsys, argv):
    monkeypatch.chdir(folder)
    code = main(argv)
    return code, capsys.readouterr().err


RESTORE = ["restore", "same.mkv", "--checkpoint", "model.pt"]
CASES = [
    # the output or checkpoint is an input, or a link to one
    (["denoise", "same.mkv", "-o", "same.mkv"], "output video 'same.mkv': is the noisy video 'same.mkv'"),
    (["denoise", "victim.mkv", "-o", "o.mkv", "--checkpoint", "victim.mkv", "--no-resume"],
     "training checkpoint 'victim.mkv': is the noisy video 'victim.mkv'"),
    (["denoise", "same.mkv", "-o", "link.mkv"], "output video 'link.mkv': is the noisy video 'same.mkv' (or a link to it)"),
    (["denoise", "same.mkv", "-o", "hard.mkv"], "output video 'hard.mkv': is the noisy video 'same.mkv' (or a link to it)"),
    (["denoise", "same.mkv", "-o", "o.mkv", "--checkpoint", "link.mkv"], "training checkpoint 'link.mkv': is the noisy video"),
    (["denoise", "same.mkv", "-o", "o.mkv", "--checkpoint", "o.mkv"], "training checkpoint 'o.mkv': is also the output video"),
    ([*RESTORE, "-o", "same.mkv"], "output video 'same.mkv': is the input video 'same.mkv'"),
    ([*RESTORE, "-o", "link.mkv"], "output video 'link.mkv': is the input video 'same.mkv' (or a link to it)"),
    # a file the command did not create
    (["denoise", "same.mkv", "-o", "old.mkv"], "output video 'old.mkv': already exists; pass --overwrite"),
    (["denoise", "same.mkv", "-o", "o.mkv", "--checkpoint", "notes.txt"], "training checkpoint 'notes.txt': already exists"),
    (["denoise", "same.mkv", "-o", "o.mkv", "--checkpoint", "model.pt"], "training checkpoint 'model.pt': already exists"),
    ([*RESTORE, "-o", "old.mkv"], "output video 'old.mkv': already exists; pass --overwrite"),
    # a container that cannot be written, a folder that does not exist or cannot be written
    (["denoise", "same.mkv", "-o", "out.avi"], "output video 'out.avi': cannot write a '.avi' file; expected one of .mp4, .mov, .mkv"),
    (["denoise", "same.mkv", "-o", "notes.txt"], "output video 'notes.txt': cannot write a '.txt' file"),
    (["denoise", "same.mkv", "-o", "nodir/out.mkv"], "output video 'nodir/out.mkv': the folder"),
    (["denoise", "same.mkv", "-o", "notes.txt/out.mkv"], "output video 'notes.txt/out.mkv': "),
    pytest.param(["denoise", "same.mkv", "-o", "/proc/out.mkv"], "output video '/proc/out.mkv': the folder '/proc' cannot be written",
                 marks=pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="no /proc")),
    ([*RESTORE, "-o", "r.avi"], "output video 'r.avi': cannot write a '.avi' file"),
    ([*RESTORE, "-o", "nodir/r.mkv"], "output video 'nodir/r.mkv': the folder"),
    # truncated Matroska (FFV1 and H.264) and MP4
    (["denoise", "cut.mkv", "-o", "o.mkv", "--steps", "2"], "cut.mkv: decoded 3 frames"),
    (["denoise", "cut_h264.mkv", "-o", "o.mkv", "--steps", "2"], "cut_h264.mkv: decoded "),
    (["restore", "cut.mkv", "-o", "r.mkv", "--checkpoint", "model.pt"], "cut.mkv: decoded 3 frames"),
    (["restore", "cut.mp4", "-o", "r.mkv", "--checkpoint", "model.pt", "--no-progress"], "cut.mp4: decoding failed after 0 frames"),
    # numbers and devices, refused while parsing
    (["denoise", "same.mkv", "-o", "o.mkv", "--steps", "0"], "argument --steps: expected a positive integer, got '0'"),
    (["denoise", "same.mkv", "-o", "o.mkv", "--steps", "-3"], "argument --steps: expected a positive integer, got '-3'"),
    (["denoise", "same.mkv", "-o", "o.mkv", "--crop", "4"], "argument --crop: expected an integer >= 16, got '4'"),
    (["denoise", "same.mkv", "-o", "o.mkv", "--sigma", "nan"], "argument --sigma: expected a number in (0, 255), got 'nan'"),
    (["denoise", "same.mkv", "-o", "o.mkv", "--threads", "0"], "argument --threads: expected a positive integer, got '0'"),
    pytest.param(["denoise", "same.mkv", "-o", "o.mkv", "--device", "cuda"], "argument --device: 'cuda' asks for a CUDA GPU", marks=NO_CUDA),
    (["denoise", "same.mkv", "-o", "o.mkv", "--device", "bogus"], "argument --device: unknown device 'bogus'"),
    ([*RESTORE, "-o", "r.mkv", "--chunk", "0"], "argument --chunk: expected a positive integer, got '0'"),
    ([*RESTORE, "-o", "r.mkv", "--context", "-1"], "argument --context: expected a non-negative integer, got '-1'"),
    pytest.param([*RESTORE, "-o", "r.mkv", "--device", "cuda"], "argument --device: 'cuda' asks for a CUDA GPU", marks=NO_CUDA),
    ([*RESTORE, "-o", "r.mkv", "--device", "bogus"], "argument --device: unknown device 'bogus'"),
    ([*RESTORE, "-o", "r.mkv", "--sigma", "-10"], "argument --sigma: expected a number in (0, 255), got '-10'"),
    ([*RESTORE, "-o", "r.mkv", "--sigma", "nan"], "argument --sigma: expected a number in (0, 255), got 'nan'"),
    ([*RESTORE, "-o", "r.mkv", "--threads", "two"], "argument --threads: expected a positive integer, got 'two'"),
    (["ablate", "flow_estimators", "--out", "notes.txt"], "argument --out: 'notes.txt' exists and is not a folder"),
    (["ablate", "flow_estimators", "--out", "runs", "--seeds", "0"], "argument --seeds: expected a positive integer, got '0'"),
    (["ablate", "flow_estimators", "--out", "runs", "--workers", "-2"], "argument --workers: expected a positive integer, got '-2'"),
    # an untrusted file: never torch's advice to load it with weights_only=False
    (["info", "random.bin"], "model checkpoint 'random.bin': cannot be read"),
    (["info", "same.mkv"], "model checkpoint 'same.mkv': cannot be read"),
    (["info", "."], "model checkpoint '.': is a folder"),
]


@pytest.mark.parametrize("argv, words", CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_refused_in_one_line_and_nothing_changes(folder, monkeypatch, capsys, argv, words):
    before = snapshot(folder)
    code, err = run_in(folder, monkeypatch, capsys, argv)
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert "weights_only=False" not in err and "set to `False`" not in err, err
    assert snapshot(folder) == before


def test_console_script_refuses_before_training(folder):
    before = snapshot(folder)
    run = subprocess.run([RESTOREKIT, "denoise", "victim.mkv", "-o", "o.mkv", "--checkpoint", "victim.mkv", "--no-resume"],
                         cwd=folder, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stderr.startswith("restorekit: error: training checkpoint 'victim.mkv'"), run.stderr
    assert "Traceback" not in run.stderr and snapshot(folder) == before


def test_denoise_keeps_its_own_files_and_resumes(tmp_path, folder, monkeypatch, capsys):
    "denoise replaces only its own checkpoint and model; an existing output needs --overwrite; an interrupted run resumes."
    for name in ("same.mkv", "notes.txt"): (tmp_path / name).write_bytes((folder / name).read_bytes())
    monkeypatch.chdir(tmp_path)

    class Stop(Exception): pass
    def stop_at_2(state):
        if state.step == 2: raise Stop
    with pytest.raises(Stop):   # interrupted while training: only the untagged training state is on disk
        denoise_video("same.mkv", "o.mkv", steps=4, crop=16, ckpt_every=1, callbacks=[stop_at_2], progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "o.mkv.ckpt", "same.mkv"]
    assert main(["denoise", "same.mkv", "-o", "o.mkv", "--steps", "4", "--crop", "16"]) == 0   # resumes, no --overwrite needed
    assert read_video("o.mkv").shape == (8, 3, 32, 32)

    before = snapshot(tmp_path)
    assert main(["denoise", "same.mkv", "-o", "o.mkv", "--steps", "4", "--crop", "16"]) == 2
    assert "output video 'o.mkv': already exists" in capsys.readouterr().err and snapshot(tmp_path) == before

    (tmp_path / "o.mkv").unlink()   # interrupted while writing the video: its own checkpoint and model are reused
    assert main(["denoise", "same.mkv", "-o", "o.mkv", "--steps", "4", "--crop", "16"]) == 0
    assert main(["denoise", "same.mkv", "-o", "o.mkv", "--steps", "4", "--crop", "16", "--overwrite"]) == 0

    capsys.readouterr()
    save_checkpoint("other.mkv.ckpt", torch.nn.Conv2d(3, 3, 1))   # training state of another model
    (tmp_path / "mine.mkv.model.pt").write_bytes((folder / "model.pt").read_bytes())   # a model not trained on same.mkv
    before = snapshot(tmp_path)
    for out, words in (("other.mkv", "training checkpoint 'other.mkv.ckpt': already exists"),
                       ("mine.mkv", "model checkpoint 'mine.mkv.model.pt': already exists")):
        assert main(["denoise", "same.mkv", "-o", out, "--steps", "2", "--crop", "16"]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, err
    assert snapshot(tmp_path) == before


def test_restore_overwrites_only_when_asked(tmp_path, folder, monkeypatch, capsys):
    for name in ("same.mkv", "model.pt"): (tmp_path / name).write_bytes((folder / name).read_bytes())
    monkeypatch.chdir(tmp_path)
    assert main(["restore", "same.mkv", "-o", "r.mkv", "--checkpoint", "model.pt", "--no-progress"]) == 0
    first, frames = snapshot(tmp_path), read_video("r.mkv")
    assert main(["restore", "same.mkv", "-o", "r.mkv", "--checkpoint", "model.pt", "--no-progress"]) == 2
    assert "output video 'r.mkv': already exists" in capsys.readouterr().err and snapshot(tmp_path) == first
    (tmp_path / "r.mkv").write_bytes(b"stale")
    assert main(["restore", "same.mkv", "-o", "r.mkv", "--checkpoint", "model.pt", "--no-progress", "--overwrite"]) == 0
    assert torch.equal(read_video("r.mkv"), frames) and sorted(snapshot(tmp_path)) == sorted(first)


def test_threads_option_sets_torch_threads(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    monkeypatch.chdir(tmp_path)
    assert main(["restore", "missing.mkv", "-o", "r.mkv", "--checkpoint", "missing.pt", "--threads", "3"]) == 2
    assert main(["ablate", "nope", "--out", str(tmp_path / "runs")]) == 2
    assert calls == [3, rk.default_threads()]
    assert main(["list"]) == 0 and calls == [3, rk.default_threads()]   # a command that computes nothing takes no --threads


@pytest.mark.parametrize("name", ["cut.mkv", "cut_h264.mkv", "cut.mp4"])
def test_truncated_files_are_refused_by_every_reader(folder, name):
    for reader in (rk.read_video, lambda p: list(rk.iter_video(p, chunk_size=2))):
        with pytest.raises(rk.VideoFileError, match="truncated") as info:
            reader(folder / name)
        assert str(folder / name) in str(info.value)
    if name.endswith(".mkv"): assert rk.read_video(folder / name, end=2).shape == (2, 3, 32, 32)   # the intact head is still readable


@pytest.mark.parametrize("call, words", [
    (lambda x: rk.psnr(x, x.flip(-1), data_range=0), "data_range: expected a positive number, got 0"),
    (lambda x: rk.psnr(x, x.flip(-1), data_range=-1), "data_range: expected a positive number, got -1"),
    (lambda x: rk.ssim(x, x.flip(-1), data_range=float("nan")), "data_range: expected a positive number, got nan"),
    (lambda x: rk.add_gaussian_noise(x, float("inf")), "sigma: expected a non-negative number, got inf"),
    (lambda x: rk.add_gaussian_noise(x, "25"), "sigma: expected a non-negative number, got str '25'"),
    (lambda x: rk.write_video(x, "never.mp4", fps=float("nan")), "fps: expected a positive number, got nan"),
    (lambda x: rk.read_video("never.mp4", start=-1), "frame range"),
    (lambda x: rk.restore_chunks(torch.nn.Identity(), [x], chunk_size=0).__next__(), "chunk_size: expected an integer >= 1"),
])
def test_public_functions_refuse_bad_numbers(tmp_path, monkeypatch, call, words):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(rk.RestoreKitError) as info:
        call(torch.rand(4, 3, 16, 16))
    assert words in str(info.value) and isinstance(info.value, ValueError), str(info.value)
    assert list(tmp_path.iterdir()) == []
