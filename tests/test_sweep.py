"""The sweep runner end to end on the real `flow_estimators` table: SIGKILL at any moment and a rerun
leave every run in the store exactly once and nothing in the temporary directory; finished sweeps rerun
nothing; bad names are refused before anything runs; the same seed gives bit-identical records."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from restorekit.cli import main
from restorekit.core import ConfigError
from restorekit.registry import AblationTable, Variant, get_table, register_table
from restorekit.store import RUNS_FILE, ResultsStore
from restorekit.sweep import notebook_parameters, reproducible_part, run_sweep

# one row x two seeds keeps the test short; every run is a real papermill execution of the notebook
VARIANTS = ["dis_fast"]
SEEDS = 2
CLI = [str(Path(sys.executable).with_name("restorekit"))]  # the installed console script


def ablate_cmd(out):
    cmd = [*CLI, "ablate", "flow_estimators", "--preset", "smoke", "--seeds", str(SEEDS), "--out", str(out)]
    for v in VARIANTS: cmd += ["--variant", v]
    return cmd


def sweep_env(tmp):
    "One thread, and a private temporary directory, so that what a sweep leaves behind there can be seen."
    Path(tmp).mkdir(parents=True, exist_ok=True)
    return {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp)}


def start(cmd, env):
    # own session: the kernels the sweep starts can be cleaned up with the group after the kill
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)


def kill9(proc):
    "SIGKILL the sweep process itself, then clean up its orphaned kernels."
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    try: os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError: pass
    proc.communicate()


def rows(out):
    "(variant, seed, status, metrics, finished, notebook, record) of every run in the store under `out`."
    if not Path(out).is_dir(): return []
    return [(r.variant, r.seed, r.status, r.metrics, r.finished, r.notebook, r.record) for r in ResultsStore(out).runs()]


def wait_for(cond, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond(): return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    "A sweep killed twice with SIGKILL (after 1 s, and just after its first run finished), then completed."
    base = tmp_path_factory.mktemp("sigkill")
    out, env = base / "runs", sweep_env(base / "tmp")
    proc = start(ablate_cmd(out), env); time.sleep(1.0); kill9(proc)
    proc = start(ablate_cmd(out), env)
    assert wait_for(lambda: any(r[2] == "done" for r in rows(out))), "no run finished"
    kill9(proc)
    killed_state = rows(out)
    done = subprocess.run(ablate_cmd(out), capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    return out, killed_state, done


def test_sigkill_then_rerun_leaves_each_run_once(finished_sweep):
    out, killed_state, done = finished_sweep
    assert 1 <= sum(r[2] == "done" for r in killed_state) < len(VARIANTS) * SEEDS
    assert all(r[2] in ("done", "running") for r in killed_state)
    final = rows(out)
    keys = sorted((r[0], r[1]) for r in final)
    assert keys == sorted((v, s) for v in VARIANTS for s in range(SEEDS))  # each exactly once
    table = get_table("flow_estimators")
    for variant, seed, status, metrics, finished, notebook, record in final:
        assert status == "done" and finished is not None
        assert set(metrics) == {*table.columns, *table.mechanism}
        assert json.loads((Path(notebook).parent / f"seed{seed}.json").read_text()) == record
        assert nbformat.read(notebook, as_version=4).cells  # the executed notebook is complete JSON
    (runs_file,) = Path(out).glob(f"*/*/{RUNS_FILE}")
    assert len(runs_file.read_text().splitlines()) == len(final)  # compacted: one line per run, no torn or running lines
    assert not list(Path(out).rglob("*.tmp"))
    # the finished runs of the killed sweeps were not run again
    before = {(r[0], r[1]): r[4] for r in killed_state if r[2] == "done"}
    after = {(r[0], r[1]): r[4] for r in final}
    assert all(after[k] == v for k, v in before.items())
    assert "DIS fast" in done.stdout and "2 runs done" not in done.stdout  # the killed sweeps had finished one
    tmp = Path(out).parent / "tmp"
    assert not list(tmp.iterdir()), list(tmp.iterdir())  # the killed sweeps' run folders and kernel files are gone


def test_rerun_of_finished_sweep_runs_nothing(finished_sweep, capsys):
    out, _, _ = finished_sweep
    before = rows(out)
    assert main(ablate_cmd(out)[1:]) == 0  # in-process: the same command line without the program name
    assert f"0 runs done, 0 failed, {len(VARIANTS) * SEEDS} already done" in capsys.readouterr().out
    assert rows(out) == before


def test_same_seed_gives_bit_identical_records(finished_sweep, tmp_path):
    out, _, _ = finished_sweep
    stored = {p.parent.name + "/" + p.stem: json.loads(p.read_text()) for p in Path(out).glob("flow_estimators/*/*/seed*.json")}
    res = run_sweep("flow_estimators", seeds=[1], variants=["dis_fast"], out_dir=tmp_path, log=None)
    assert len(res.ran) == 1
    fresh = json.loads(next(Path(tmp_path).glob("flow_estimators/*/dis_fast/seed1.json")).read_text())
    same = stored["dis_fast/seed1"]
    if fresh["versions"]["restorekit"] != same["versions"]["restorekit"]:  # a commit landed between the two runs
        fresh["versions"]["restorekit"] = same["versions"]["restorekit"]
    assert reproducible_part(fresh) == reproducible_part(same)
    assert fresh["timings"] != {} and "timings" not in reproducible_part(fresh)
    assert reproducible_part(stored["dis_fast/seed0"]) != reproducible_part(stored["dis_fast/seed1"])


def test_notebook_defaults_are_the_smoke_preset():
    defaults = notebook_parameters(get_table("flow_estimators").notebook_path())
    for knob, value in get_table("flow_estimators").preset("smoke").items():
        assert eval(defaults[knob]) == value, knob


def _notebook(path, tagged=True):
    cell = nbformat.v4.new_code_cell('table = "t"\nvariant = "a"\nseed = 0\npreset = "smoke"\noutput = ""\nscale = 1.0')
    if tagged: cell.metadata["tags"] = ["parameters"]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    return str(path)


@pytest.mark.parametrize("kwargs, words", [
    (dict(table="no_such_table"), "unknown table 'no_such_table'"),
    (dict(table="flow_estimators", variants=["raft"]), "unknown variant 'raft'"),
    (dict(table="flow_estimators", overrides={"n_clipz": 3}), "unknown parameter 'n_clipz'"),
    (dict(table="flow_estimators", overrides={"seed": 3}), "parameter 'seed' is set by the sweep"),
    (dict(table="flow_estimators", preset="huge"), "unknown preset 'huge'"),
    (dict(table="planned"), "declared but not runnable yet"),
    (dict(table="flow_estimators", executor="slurm"), "unknown executor 'slurm'"),
])
def test_bad_names_are_refused_before_anything_runs(tmp_path, kwargs, words):
    flow = get_table("flow_estimators")  # "planned": a declared table whose notebook does not exist
    register_table(AblationTable("planned", "test", "t", "m", True, "planned.ipynb", flow.rows, flow.presets), replace=True)
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        run_sweep(out_dir=tmp_path / "runs", log=None, **kwargs)
    assert not (tmp_path / "runs").exists()


def test_notebook_without_parameters_cell_is_refused(tmp_path):
    presets = {"smoke": {"scale": 1.0}, "cpu": {}, "paper": {}}
    register_table(AblationTable("untagged", "test", "t", "m", True, _notebook(tmp_path / "untagged.ipynb", tagged=False),
                                 [Variant("a", {})], presets), replace=True)
    with pytest.raises(ConfigError, match="untagged.ipynb has no cell tagged 'parameters'"):
        run_sweep("untagged", out_dir=tmp_path / "runs", log=None)
    assert not (tmp_path / "runs").exists()
    register_table(AblationTable("tagged", "test", "t", "m", True, _notebook(tmp_path / "tagged.ipynb"),
                                 [Variant("a", {})], {**presets, "smoke": {"scael": 2.0}}), replace=True)
    with pytest.raises(ConfigError, match="preset 'smoke' of table 'tagged' sets 'scael'"):
        run_sweep("tagged", out_dir=tmp_path / "runs", log=None)


def test_no_run_done_says_so(tmp_path, capsys):
    "Runs that fail inside the notebook (a device torch does not know) are stored as failed, and the table says nothing is compared instead of a verdict."
    assert main(["ablate", "flow_estimators", "--set", "device=nowhere", "--variant", "dis_fast", "--variant", "dis_medium",
                 "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "No run of this configuration is done yet: nothing to compare." in out
    assert "holds" not in out and "0 runs done, 2 failed" in out


def test_a_lower_is_better_column_is_judged_in_its_own_direction(tmp_path):
    from restorekit.registry import PRESETS, TABLES
    from restorekit.sweep import render_table
    kw = dict(paper="restorekit", title="direction", metric="psnr", unit="dB", higher_is_better=True, notebook=None,
              rows=[Variant("a", {}), Variant("b", {})], presets={p: {} for p in PRESETS}, paper_ordering=(("a", "b"),))
    register_table(AblationTable(name="_direction", columns=("epe", "psnr"), directions={"epe": False}, units={"epe": "px"}, **kw))
    try:
        with ResultsStore(tmp_path, writer=True) as store:
            for seed in range(4):   # b has the lower EPE and the higher PSNR in every seed: the claim a → b holds in both columns
                for name, epe, psnr in (("a", 1.0 + 0.01 * seed, 30.0), ("b", 0.5 + 0.03 * seed, 30.5 + 0.02 * seed)):
                    store.finish(("_direction", name, seed, "cpu", "0" * 16), {}, {"metrics": {"epe": epe, "psnr": psnr}}, 1.0)
            rendered = render_table(store, "_direction", "cpu", "0" * 16)
    finally: TABLES.pop("_direction")
    verdicts = {s.column: s for s in rendered.steps}
    assert verdicts["epe"].verdict.startswith("holds") and verdicts["epe"].mean > 0 and verdicts["epe"].agree == 4
    assert verdicts["psnr"].verdict.startswith("holds")
    text = rendered.text()
    assert "ours epe (px)" in text and "ours psnr (dB)" in text and "higher is better (epe: lower)" in text
    with pytest.raises(ConfigError, match="not one of its columns"):
        AblationTable(name="_bad", columns=("psnr",), directions={"epe": False}, **kw)
    with pytest.raises(ConfigError, match="metric's direction"):
        AblationTable(name="_bad", columns=("psnr",), directions={"psnr": False}, **kw)
