"""The fixed evaluation set through real papermill runs of an ablation notebook: the run seed moves the
results but not the evaluation windows; rows of one seed with one architecture start from the same
weights; a notebook run alone leaves no temporary folder behind."""
import json
from pathlib import Path

import papermill
import pytest

from restorekit.registry import ablations_dir, get_table
from restorekit.sweep import execute_run


def run_row(variant, seed, table="jffra_t6"):
    tab = get_table(table)
    params = {"table": table, "variant": variant, "seed": seed, "preset": "smoke", **tab.preset("smoke")}
    result = execute_run(tab.notebook_path().read_text(), params, columns=tab.columns)
    assert result["status"] == "done", result["error"]
    return json.loads(result["record"])


@pytest.fixture(scope="module")
def records():
    return {(v, s): run_row(v, s) for v, s in (("temporal_loss", 0), ("temporal_loss", 1), ("no_temporal_loss", 0))}


def test_eval_set_is_fixed_and_the_seed_moves_the_rest(records):
    a, b = records[("temporal_loss", 0)], records[("temporal_loss", 1)]
    assert a["eval_set"] == b["eval_set"] == records[("no_temporal_loss", 0)]["eval_set"]
    assert a["eval_set"]["n"] == get_table("jffra_t6").preset("smoke")["n_eval"]
    assert a["init_hash"] != b["init_hash"]
    assert a["metrics"]["psnr"] != b["metrics"]["psnr"] and a["per_item"] != b["per_item"]


def test_rows_of_one_seed_share_initial_weights(records):
    # the two rows differ only in the loss: same architecture, same seed, same initial weights
    assert records[("temporal_loss", 0)]["init_hash"] == records[("no_temporal_loss", 0)]["init_hash"]


def test_record_carries_mechanism_metrics_and_clock(records):
    r = records[("temporal_loss", 0)]
    assert {"epe_initial", "epe_refined", "epe_zero", "epe_dis"} <= set(r["metrics"])
    for name, values in r["per_item"].items():
        assert len(values) == r["eval_set"]["n"]
        assert values and abs(sum(values) / len(values) - r["metrics"][name]) < 1e-9
    assert r["wall_time"] > 0 and r["cpu_time"] > 0


def test_run_alone_leaves_no_temporary_folder(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"; scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))           # the kernel's tempfile folder
    papermill.execute_notebook(str(ablations_dir() / "flow_estimators.ipynb"), str(tmp_path / "out.ipynb"),
                               kernel_name="python3", progress_bar=False, log_output=False)
    assert [p.name for p in scratch.iterdir() if p.name.startswith("restorekit-")] == []
