"""`restorekit` console script: exit codes and one-line messages for user errors."""
import subprocess
import sys
from pathlib import Path

import pytest

from restorekit.cli import SUBCOMMANDS, main
from restorekit.registry import AblationTable, get_table, register_table

# a declared table whose notebook does not exist
_flow = get_table("flow_estimators")
register_table(AblationTable("cli_planned", "test", "t", "m", True, "cli_planned.ipynb", _flow.rows, _flow.presets), replace=True)

RESTOREKIT = str(Path(sys.executable).with_name("restorekit"))


@pytest.mark.parametrize("argv, words", [
    (["ablate", "stbn_t99"], "unknown table 'stbn_t99'"),
    (["ablate", "flow_estimators", "--variant", "raft"], "unknown variant 'raft'"),
    (["ablate", "flow_estimators", "--set", "n_clipz=3"], "unknown parameter 'n_clipz'"),
    (["ablate", "flow_estimators", "--set", "n_clips"], "expected key=value"),
    (["ablate", "flow_estimators", "--preset", "smoke", "--set", "n_clips=0"], "parameter 'n_clips': expected a positive integer, got 0"),
    (["ablate", "flow_estimators", "--set", "n_frames=1"], "parameter 'n_frames': expected an integer >= 2, got 1"),
    (["ablate", "flow_estimators", "--set", "size=big"], "parameter 'size': expected a number"),
    (["ablate", "cli_planned"], "declared but not runnable yet"),
    (["ablate", "flow_estimators", "--executor", "dask"], "needs the scheduler address"),
    (["tables"], "no results store"),
])
def test_user_errors_exit_2_with_one_line(tmp_path, capsys, argv, words):
    assert main([*argv, "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_ablate_threads_reach_the_sweep(tmp_path, monkeypatch):
    "`--threads` is passed to `run_sweep`, which starts every run's kernel with it (tested in the sweep chapter)."
    import restorekit.cli as cli
    seen = {}
    def fake_sweep(table, **kwargs):
        seen.update(kwargs)
        raise cli.RestoreKitError("stop before running")
    monkeypatch.setattr(cli, "run_sweep", fake_sweep)
    assert main(["ablate", "flow_estimators", "--threads", "3", "--out", str(tmp_path / "runs")]) == 2
    assert seen["threads"] == 3
    assert main(["ablate", "flow_estimators", "--out", str(tmp_path / "runs")]) == 2
    assert seen["threads"] == 1


def test_argparse_errors_and_help(capsys):
    assert main([]) == 2
    assert main(["ablate", "flow_estimators", "--preset", "huge"]) == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert set(SUBCOMMANDS) >= {"ablate", "tables", "list"}


def test_list_shows_runnable_and_declared(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for key in ["jffra_t5", "jffra_t6", "s2svr_t4", "s2svr_t5", "stbn_t3", "stbn_align", "ncfl_t5", "ncfl_t6", "ncfl_t7"]:
        assert f"{key}  [" in out
    assert "flow_estimators  [restorekit]" in out and "— runnable" in out
    assert "cli_planned  [test]" in out and "declared, not runnable yet" in out


def test_console_script():
    bad = subprocess.run([RESTOREKIT, "ablate", "nope"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("restorekit: error: unknown table 'nope'") and "Traceback" not in bad.stderr
