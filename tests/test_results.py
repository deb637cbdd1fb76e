"""The committed results as a reader meets them: `restorekit tables --check` passes on `results/`, and README.md
quotes the rendered tables verbatim (every block between `<!-- quote results/... -->` and `<!-- end quote -->`
is the file it names), so no number in it is typed by hand."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESTOREKIT = str(Path(sys.executable).with_name("restorekit"))


def test_committed_results_check():
    done = subprocess.run([RESTOREKIT, "tables", "--check", "--out", str(ROOT / "results")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 problem(s)" in done.stdout


def test_readme_quotes_the_rendered_tables():
    text = (ROOT / "README.md").read_text()
    quotes = re.findall(r"<!-- quote (results/\S+) -->\n(.*?)<!-- end quote -->", text, flags=re.S)
    assert quotes, "README.md quotes no committed table"
    for path, body in quotes:
        assert body == (ROOT / path).read_text(), f"README.md's quote of {path} differs from the file; copy the file again"


def test_readme_lists_every_committed_result_and_links_only_existing_files():
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((results/[^)\s]+)\)", text)
    assert links, "README.md links no committed result"
    assert [p for p in links if not (ROOT / p).is_file()] == [], "README.md links result files that do not exist"
    committed = {f"results/{d.parent.name}/{d.name}/table.md" for d in (ROOT / "results").glob("*/cpu-*") if d.is_dir()}
    assert committed - set(links) == set(), "README.md's results table misses committed results"


def test_stale_means_the_code_changed_since_the_runs():
    from restorekit.registry import get_table
    from restorekit.store import Run
    from restorekit.sweep import stale_reason
    git = lambda *a: subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True).stdout.strip()
    head, first = git("rev-parse", "--short", "HEAD"), git("rev-list", "--max-parents=0", "--abbrev-commit", "HEAD")
    run = lambda version: Run("flow_estimators", "dis_fast", 0, "cpu", "0" * 16, None, version, "done", {}, 1.0, 1.0, 0.0, 1.0,
                              None, {}, None, None)
    table = get_table("flow_estimators")
    assert stale_reason([run(f"0.1.0+g{head}")], table, ROOT / "results") is None
    assert "restorekit/" in stale_reason([run(f"0.1.0+g{first}")], table, ROOT / "results")
    assert "uncommitted" in stale_reason([run(f"0.1.0+g{head}.dirty")], table, ROOT / "results")
    assert "names no commit" in stale_reason([run("0.1.0")], table, ROOT / "results")
