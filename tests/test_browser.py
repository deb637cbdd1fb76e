"""End-to-end: a restorekit viewer works in a real JupyterLab in a real browser.

Starts JupyterLab headless on 127.0.0.1 (token, free port) in a temporary copy of
tests/browser/clip_viewer.ipynb, opens it in Debian's Chromium driven by Playwright
(`executable_path=/usr/bin/chromium`; Playwright's own browser download is never used), runs all
cells, moves the frame slider and checks that the label, the plotted image and the pixels change.

Needs: the `playwright` Python package (dev requirement; its wheel carries its driver) and
Debian's `chromium`. If chromium is missing and we are root with apt-get, the test installs it
(`apt-get install -y chromium`, as CI on these machines can); otherwise it skips with the reason.
Set RESTOREKIT_BROWSER_TEST=0 to skip it, RESTOREKIT_SCREENSHOT_DIR to keep the screenshots.
"""
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).parent
NOTEBOOK = HERE / "browser" / "clip_viewer.ipynb"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_S, KERNEL_RUN_S, UPDATE_S = 90, 180, 60   # upper bounds of every wait

pytestmark = pytest.mark.skipif(os.environ.get("RESTOREKIT_BROWSER_TEST") == "0", reason="RESTOREKIT_BROWSER_TEST=0")


def _chromium() -> str:
    "Path of Debian's chromium, installing the package when we may (root + apt-get); else skip."
    if Path(CHROMIUM).exists(): return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{CHROMIUM} missing and not root with apt-get: run `apt-get install -y chromium` to enable this test")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if r.returncode != 0: pytest.skip(f"`{' '.join(cmd)}` failed (exit {r.returncode}): {r.stderr.strip()[-300:]}")
    if not Path(CHROMIUM).exists(): pytest.skip(f"apt-get installed chromium but {CHROMIUM} is missing")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None: pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def jupyterlab(tmp_path):
    "A headless JupyterLab on 127.0.0.1 serving a temporary copy of the test notebook; yields (base url, token)."
    root = tmp_path / "root"; root.mkdir()
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "IPYTHONDIR": str(tmp_path / "ipython"), "OMP_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    log = tmp_path / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=",
           f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
           "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False"] + (["--allow-root"] if os.geteuid() == 0 else [])
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", proc, log, SERVER_START_S)
        yield base, token, log
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try: proc.wait(timeout=15)
            except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait(timeout=10)


RUN_ALL = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  await app.commands.execute('notebook:run-all-cells');
  return panel.sessionContext.session.kernel.name;
}"""


def test_clip_viewer_slider_changes_figure_in_jupyterlab(jupyterlab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="the `playwright` package (a dev requirement) is not installed")
    chromium = _chromium()
    base, token, log = jupyterlab
    shots = Path(os.environ.get("RESTOREKIT_SCREENSHOT_DIR", tmp_path)); shots.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(tmp_path / "chromium-profile"), executable_path=chromium, headless=True,
                                                    args=CHROMIUM_FLAGS, viewport={"width": 1280, "height": 900})
        try:
            page = ctx.new_page()
            page.set_default_timeout(UPDATE_S * 1000)
            page.goto(f"{base}/lab/tree/{NOTEBOOK.name}?token={token}", timeout=SERVER_START_S * 1000)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && "
                                   "window.jupyterapp.shell.currentWidget.context", timeout=SERVER_START_S * 1000)
            assert page.evaluate(RUN_ALL) == "python3"
            label = page.locator(".widget-html-content", has_text="frame 0 /")
            label.wait_for(timeout=KERNEL_RUN_S * 1000)
            plot = page.locator(".js-plotly-plot").first
            plot.locator("image").first.wait_for(state="attached", timeout=KERNEL_RUN_S * 1000)
            page.wait_for_function("() => { const i = document.querySelector('.js-plotly-plot image'); "
                                   "return i && (i.getAttribute('href') || '').startsWith('data:image/png'); }")
            before_href = plot.locator("image").first.get_attribute("href")
            before_label = label.inner_text()
            before_png = plot.screenshot(path=str(shots / "clip_viewer_before.png"))

            slider = page.locator(".widget-slider", has_text="frame").first
            slider.locator(".noUi-handle").first.focus()
            for _ in range(3): page.keyboard.press("ArrowRight")
            page.locator(".widget-html-content", has_text="frame 3 /").wait_for(timeout=UPDATE_S * 1000)
            page.wait_for_function("(old) => { const i = document.querySelector('.js-plotly-plot image'); "
                                   "return i && i.getAttribute('href') !== old; }", arg=before_href, timeout=UPDATE_S * 1000)
            after_label = page.locator(".widget-html-content", has_text="PSNR").first.inner_text()
            after_png = plot.screenshot(path=str(shots / "clip_viewer_after.png"))
            page.screenshot(path=str(shots / "clip_viewer_page.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(shots / "clip_viewer_failure.png"), full_page=True)
            print(f"failure screenshot: {shots / 'clip_viewer_failure.png'}; JupyterLab log: {log}")
            raise
        finally:
            ctx.close()
    elapsed = time.monotonic() - t0
    assert before_label.startswith("frame 0 /") and after_label.startswith("frame 3 /"), (before_label, after_label)
    assert before_label.split("·")[1:] != after_label.split("·")[1:], "the PSNR readout did not change with the frame"
    assert hashlib.sha256(before_png).digest() != hashlib.sha256(after_png).digest(), "the rendered figure did not change"
    print(json.dumps({"browser_seconds": round(elapsed, 1), "before": before_label, "after": after_label, "screenshots": str(shots)}))
