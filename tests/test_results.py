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
