"""A sweep of a table that trains (`stbn_t3` at `smoke`): killed with SIGKILL after its first run, then resumed
from what git carries of its results folder (the `runs.jsonl` lines alone) — only the missing runs execute, each
run's trained model is kept beside its record, `restorekit info` reads it and `restorekit restore` uses it, and
nothing is left in the temporary directory."""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from restorekit.store import RUNS_FILE, read_runs
from restorekit.synthetic import synthetic_clip
from restorekit.video import read_video, write_video
from test_sweep import kill9, start, sweep_env, wait_for

RESTOREKIT = str(Path(sys.executable).with_name("restorekit"))
ROWS = ["propagation", "bsa"]


def ablate(out):
    return [RESTOREKIT, "ablate", "stbn_t3", "--preset", "smoke", "--seeds", "2", *sum((["--variant", v] for v in ROWS), []), "--out", str(out)]


def runs(out):
    return [r for f in sorted(Path(out).glob(f"*/*/{RUNS_FILE}")) for r in read_runs(f)]


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    base = tmp_path_factory.mktemp("stbn_resume")
    env = sweep_env(base / "tmp")
    first = base / "machine_a"
    proc = start(ablate(first), env)
    assert wait_for(lambda: any(r.status == "done" for r in runs(first)), timeout=600), "no run finished"
    kill9(proc)
    killed = [r for r in runs(first) if r.status == "done"]
    clone = base / "machine_b"  # a fresh clone: the committed runs.jsonl files, no notebooks, records or models
    for f in first.rglob(RUNS_FILE):
        (clone / f.relative_to(first)).parent.mkdir(parents=True)
        shutil.copy(f, clone / f.relative_to(first))
    done = subprocess.run(ablate(clone), capture_output=True, text=True, timeout=1200, env=env)
    assert done.returncode == 0, done.stderr
    return base, killed, clone, done


def test_resume_runs_only_the_missing_runs(resumed):
    base, killed, clone, done = resumed
    assert 1 <= len(killed) < 4
    assert f"4 runs: {len(killed)} already done, {4 - len(killed)} to run" in done.stderr
    final = {r.key: r for r in runs(clone)}
    assert len(final) == 4 and all(r.status == "done" for r in final.values())
    for r in killed: assert final[r.key].finished == r.finished  # not run again
    for r in final.values(): assert r.wall_time > 0 and r.cpu_time > 0 and r.code_version
    assert "Propagation" in done.stdout and "+ BSA" in done.stdout


def test_no_leftovers_in_the_temporary_directory(resumed):
    base, *_ = resumed
    time.sleep(2)  # an orphaned kernel of the killed sweep notices its parent is gone within a second
    assert not list((base / "tmp").iterdir()), list((base / "tmp").iterdir())
    assert not list(base.rglob("*.tmp"))


def test_trained_model_is_kept_and_usable(resumed, tmp_path):
    base, killed, clone, done = resumed
    models = sorted(clone.rglob("seed*.pt"))
    assert len(models) == 4 - len(killed)  # one per run executed on this machine, beside its record
    for m in models: assert m.with_suffix(".json").exists() and m.with_suffix(".ipynb").exists()
    info = subprocess.run([RESTOREKIT, "info", str(models[0])], capture_output=True, text=True, timeout=300)
    assert info.returncode == 0 and "stbn" in info.stdout.lower(), info.stdout + info.stderr
    clip = synthetic_clip(n_frames=5, size=(32, 48), seed=3).frames
    write_video(clip, tmp_path / "noisy.mkv", codec="ffv1")
    restored = subprocess.run([RESTOREKIT, "restore", str(tmp_path / "noisy.mkv"), "-o", str(tmp_path / "clean.mkv"),
                               "--checkpoint", str(models[0])], capture_output=True, text=True, timeout=600)
    assert restored.returncode == 0, restored.stderr
    assert read_video(tmp_path / "clean.mkv").shape == clip.shape
