"""The papers' datasets end to end: `restorekit ablate --data-root` on miniature folders in each table's layout."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from restorekit.datasets import write_miniature
from restorekit.registry import get_table

RESTOREKIT = str(Path(sys.executable).with_name("restorekit"))


@pytest.mark.parametrize("table, variant, datasets, frames, size, extra", [
    ("stbn_align", None, ("set8",), 6, (48, 64), ["--set", "num_workers=2"]),  # self-supervised on Set8 itself, AWGN on the fly, 2 loader workers
    ("jffra_t5", "jffr", ("dvd",), 6, (32, 48), []),      # DVD's own blurred frames read from disk (the exact-flow bracket needs synthetic clips)
    ("s2svr_t5", None, ("reds",), 12, (64, 96), []),      # REDS' bicubic X4 frames read from disk; the smoke run's longest segment is 5 REDS4 frames
    ("ncfl_t5", None, ("davis", "set8"), 6, (32, 48), ["--set", "num_workers=2"]),  # DAVIS train+val with AWGN sigma 50 on the fly, scored on Set8; 2 loader workers
    ("ncfl_t7", "ncfl_real_compressed", ("crvd",), 6, (32, 48), []),  # CRVD's noisy raw frames read from disk, packed to RGB
    ("ncfl_t7", "no_ncfl_derain", ("rainsynall100",), 6, (32, 48), []),  # RainSynAll100's rainy frames read from disk
])
def test_ablate_runs_on_the_papers_layouts(tmp_path, table, variant, datasets, frames, size, extra):
    data = tmp_path / "data"
    for name in datasets: write_miniature(name, data, n_frames=frames, size=size)
    out = tmp_path / "runs"
    variant = variant or get_table(table).variant_names[-1]
    proc = subprocess.run([RESTOREKIT, "ablate", table, "--preset", "smoke", "--variant", variant, "--data-root", str(data),
                           "--out", str(out), *extra], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "1 runs done, 0 failed" in proc.stdout
    records = [json.loads(p.read_text()) for p in out.rglob("*.json") if "metrics" in p.read_text()]
    assert records and all(r["parameters"]["data_root"] == str(data.resolve()) for r in records)
    assert all(r["metrics"][get_table(table).metric] > 0 for r in records)
    if table.startswith("ncfl"):                  # scored on the folder's test split: the input PSNR of its windows, recomputed here
        from restorekit.evaluation import table_eval_seed
        from restorekit.exp_ncfl import ncfl_folder_sets
        from restorekit.metrics import psnr
        tab, p = get_table(table), records[0]["parameters"]
        evals = ncfl_folder_sets(tab.variant(variant).overrides.get("task", "awgn"), tab.row_data(variant), data, p["n_frames"], p["crop"], p["n_train"],
                                 p["n_eval"], eval_seed=table_eval_seed(table), noise_sigma=p["noise_sigma"])[1]
        expected = sum(float(psnr(evals[i]["lq"].clamp(0, 1), evals[i]["hq"])) for i in range(len(evals))) / len(evals)
        assert abs(records[0]["metrics"]["psnr_input"] - expected) < 1e-4, (records[0]["metrics"]["psnr_input"], expected)


def test_a_missing_frame_is_refused_before_anything_runs(tmp_path):
    data = tmp_path / "data"
    write_miniature("reds", data, size=(32, 48))
    (data / "REDS" / "train_sharp" / "011" / "00000002.png").unlink()
    out = tmp_path / "runs"
    proc = subprocess.run([RESTOREKIT, "ablate", "s2svr_t4", "--preset", "paper", "--data-root", str(data), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "REDS/train_sharp/011 skips from 00000001.png to frame number 3 (frame 2 is missing)" in proc.stderr
    assert not out.exists()
