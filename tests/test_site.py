"""The offline site builder: every page renders and every link between pages resolves; an executed chapter shows its outputs."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _build(out: Path, *args: str) -> str:
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"), "--out", str(out), *args],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


def test_whole_site_renders_with_working_links(tmp_path):
    out = tmp_path / "site"
    log = _build(out, "--no-execute", "--check-links")
    assert "link check: 0 broken" in log
    n_nbs = len(list((ROOT / "nbs").glob("*.ipynb"))) + len(list((ROOT / "ablations").glob("*.ipynb")))
    assert len(list(out.glob("*.html")) + list(out.glob("ablations/*.html"))) >= n_nbs + 1  # a page per notebook + api.html
    costvol = (out / "20_costvol.html").read_text()
    assert "cost_volume" in costvol and "#| hide" not in costvol and "#| default_exp" not in costvol  # hidden cells stay off the page
    api = (out / "api.html").read_text()
    assert "cost_volume" in api and "temporal_consistency_loss" in api


def test_executed_chapter_carries_its_outputs_and_loads_nothing_from_the_network(tmp_path):
    out = tmp_path / "site"
    _build(out, "--only", "00_core")
    page = (out / "00_core.html").read_text()
    assert "jp-OutputArea-output" in page
    assert not re.search(r'<script[^>]+src="https?://', page)


def test_built_chapter_passes_the_browser_check_and_a_broken_site_fails_it(tmp_path):
    "tools/check_site.py in headless Chromium: equations typeset offline, the plotly figure drawn, no console error;"
    " the same page without its MathJax copy is reported (raw TeX and failed requests)."
    import os, shutil
    import pytest
    pytest.importorskip("playwright.sync_api", reason="the `playwright` package (a dev requirement) is not installed")
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists(): pytest.skip(f"{chromium} missing: `apt-get install -y chromium` enables this test")
    sys.path.insert(0, str(ROOT / "tools"))
    import check_site
    out = tmp_path / "site"
    _build(out, "--only", "20_costvol", "--only", "99_solutions")  # executed: the chapter's figure is a plotly figure; its exercises link the solutions page
    reports = {r.page: r for r in check_site.check_site(out, tmp_path / "screens", chromium, log=lambda *a: None)}
    assert set(reports) == {"20_costvol.html", "99_solutions.html", "api.html"}
    page = reports["20_costvol.html"]
    assert page.problems() == [], page.problems()
    assert page.equations >= 5 and page.plots >= 1 and page.links > 10
    assert (tmp_path / "screens" / "20_costvol.png").stat().st_size > 10_000
    shutil.rmtree(out / "mathjax")
    broken = {r.page: r for r in check_site.check_site(out, None, chromium, log=lambda *a: None)}["20_costvol.html"]
    assert broken.console and broken.raw_tex and broken.equations == 0, broken.problems()
