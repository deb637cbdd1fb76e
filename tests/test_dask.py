"""The same sweep on a Dask cluster: a LocalCluster on loopback, runs submitted through its scheduler
address, results written to the store by the submitting process only."""
import json
from pathlib import Path

import nbformat
import pytest

distributed = pytest.importorskip("distributed")

from restorekit.registry import AblationTable, Variant, register_table
from restorekit.store import ResultsStore
from restorekit.sweep import run_sweep


def toy_table(folder):
    "A table whose notebook needs no torch: score = base[variant] * gain + seed / 10."
    params = nbformat.v4.new_code_cell('table = "dask_toy"\nvariant = "low"\nseed = 0\npreset = "smoke"\noutput = ""\ngain = 1.0')
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import json, os\n"
        "score = {'low': 1.0, 'high': 2.0}[variant] * gain + seed / 10\n"
        "json.dump({'metrics': {'score': score}, 'parameters': {'variant': variant, 'seed': seed}, 'timings': {}}, open(output + '.tmp', 'w'))\n"
        "os.replace(output + '.tmp', output)")
    path = folder / "dask_toy.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[params, body]), str(path))
    return register_table(AblationTable("dask_toy", "test", "toy", "score", True, str(path),
                                        [Variant("low", {}, 1.0), Variant("high", {}, 2.0)],
                                        {"smoke": {"gain": 1.0}, "cpu": {"gain": 2.0}, "paper": {"gain": 4.0}}), replace=True)


def test_sweep_on_local_dask_cluster(tmp_path):
    toy_table(tmp_path)
    # a papermill run in this thread first: jupyter keeps its event loop in a context variable, and Dask's
    # worker threads used to inherit it and collide ("This event loop is already running")
    assert len(run_sweep("dask_toy", variants=["low"], out_dir=tmp_path / "local", log=None).ran) == 1
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        res = run_sweep("dask_toy", seeds=2, executor="dask", address=cluster.scheduler_address,
                        out_dir=tmp_path / "runs", log=None)
        assert (len(res.ran), len(res.failed)) == (4, 0), [r.error for r in ResultsStore(tmp_path / "runs").runs()]
        again = run_sweep("dask_toy", seeds=2, executor="dask", address=cluster.scheduler_address,
                          out_dir=tmp_path / "runs", log=None)
        assert (len(again.ran), len(again.skipped)) == (0, 4)
    runs = ResultsStore(tmp_path / "runs").runs(table="dask_toy")
    assert sorted((r.variant, r.seed, r.status, r.metrics["score"]) for r in runs) == [
        ("high", 0, "done", 2.0), ("high", 1, "done", 2.1), ("low", 0, "done", 1.0), ("low", 1, "done", 1.1)]
    for r in runs:  # the executed notebook and record came back to, and were written by, this process
        assert r.record["metrics"]["score"] == r.metrics["score"] and r.wall_time > 0
        assert json.loads((Path(r.notebook).parent / f"seed{r.seed}.json").read_text())["metrics"]["score"] == r.metrics["score"]
        assert nbformat.read(r.notebook, as_version=4).cells[0].metadata["tags"] == ["parameters"]
    assert res.rendered.stats("high", "score")[2] == 2
