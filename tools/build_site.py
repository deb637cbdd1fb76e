"""Build restorekit's offline HTML site: every chapter (nbs/*.ipynb) and ablation notebook with
its outputs, a sidebar, links between chapters, and an API reference — no network, no quarto.

    python tools/build_site.py --out site/                 # execute every notebook (cached), render
    python tools/build_site.py --out site/ --no-execute    # render the notebooks as they are on disk
    python tools/build_site.py --out site/ --only 02_warp --only 60_viewers --check-links

Notebooks are executed with nbclient (cells carrying an nbdev test flag such as `#| slow` are
shown but not run unless --run-slow), with RESTOREKIT_STATIC_VIEWERS=1 so restorekit's viewers
emit static plotly figures. Executed notebooks are cached under <out>/_cache, keyed by the
notebook's text and the library's source, so a rebuild re-executes only what changed. Plotly
figures render with the plotly.js shipped in the plotly package, and equations with the MathJax of the
`jupyter-server-mathjax` package (a dev requirement), both copied into the site: nothing is fetched.
`python tools/check_site.py site/` then opens every page in headless Chromium and checks it.
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures as futures
import hashlib
import html
import importlib
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from configparser import ConfigParser
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SITE_CSS = """
body.jp-Notebook { margin: 0; }
nav.rk-sidebar { position: fixed; top: 0; left: 0; bottom: 0; width: 260px; overflow-y: auto; padding: 14px 12px;
  background: #f6f7f9; border-right: 1px solid #dde1e6; font: 13px/1.45 system-ui, sans-serif; box-sizing: border-box; }
nav.rk-sidebar h2 { font-size: 15px; margin: 4px 0 10px; } nav.rk-sidebar h3 { font-size: 12px; margin: 14px 0 4px; color: #555;
  text-transform: uppercase; letter-spacing: .04em; }
nav.rk-sidebar a { display: block; padding: 2px 6px; border-radius: 4px; color: #1f4e99; text-decoration: none; }
nav.rk-sidebar a:hover { background: #e3e8f0; } nav.rk-sidebar a.rk-current { background: #1f4e99; color: #fff; }
main.rk-main { margin-left: 270px; padding: 10px 24px 40px; max-width: 1100px; }
.rk-banner { background: #fdecea; border: 1px solid #e0a39b; padding: 8px 12px; border-radius: 4px; margin: 8px 0; }
.rk-skipped { color: #8a6d00; font: 12px system-ui, sans-serif; padding: 2px 0 6px 90px; }
.rk-api h2 { border-bottom: 1px solid #dde1e6; } .rk-api table { border-collapse: collapse; width: 100%; }
.rk-api td { vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #eee; } .rk-api code { font-size: 12px; }
.rk-anchor { display: none; }
"""


def load_config() -> dict:
    "The nbdev settings this script needs: the test flags whose cells are not executed."
    cfg = ConfigParser(); cfg.read(ROOT / "settings.ini")
    return {"tst_flags": cfg["DEFAULT"].get("tst_flags", "notest slow").split()}


# ---------------------------------------------------------------- which pages exist, and where
def collect(only: list[str]) -> list[Path]:
    "Notebooks of the site, in reading order: nbs/index, the chapters, then the ablations."
    chapters = sorted(p for p in (ROOT / "nbs").glob("*.ipynb") if p.stem != "index")
    nbs = [p for p in [ROOT / "nbs" / "index.ipynb"] if p.exists()] + chapters + sorted((ROOT / "ablations").glob("*.ipynb"))
    if only: nbs = [p for p in nbs if any(o == p.stem or o in str(p.relative_to(ROOT)) for o in only)]
    return nbs


def site_path(repo_path: Path) -> Path:
    "Where a repository notebook's page lives in the site (relative): nbs/X -> X.html, ablations/X -> ablations/X.html."
    rel = repo_path.relative_to(ROOT)
    if rel.parts[0] == "nbs": return Path(rel.with_suffix(".html").name)
    return rel.with_suffix(".html")


def title_of(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m: return m.group(1).strip()
    return "untitled"


# ---------------------------------------------------------------- execution (cached)
def _flags(source: str) -> set[str]:
    return {w for line in source.splitlines() if line.startswith("#|") for w in line[2:].split()}


def _library_hash() -> str:
    h = hashlib.sha256()
    for p in sorted((ROOT / "restorekit").glob("*.py")): h.update(p.read_bytes())
    return h.hexdigest()[:16]


# The kernel's environment (part of the cache key): static viewers, plotly figures as JSON, and matplotlib's
# inline backend, which returns each figure as a PNG output (a non-interactive backend such as Agg would drop it).
_KERNEL_ENV = {"RESTOREKIT_STATIC_VIEWERS": "1", "PLOTLY_RENDERER": "plotly_mimetype",
               "MPLBACKEND": "module://matplotlib_inline.backend_inline", "IN_TEST": "1"}


def execute(path: Path, cache: Path, skip_flags: set[str], timeout: int, lib_hash: str) -> tuple[str, float, str | None]:
    "Execute one notebook (or take it from the cache); returns (cached notebook path, seconds, error or None)."
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    key = hashlib.sha256(path.read_bytes() + lib_hash.encode() + " ".join(sorted(skip_flags)).encode()
                         + json.dumps(_KERNEL_ENV, sort_keys=True).encode()).hexdigest()[:20]
    out = cache / f"{path.stem}-{key}.ipynb"
    if out.exists(): return str(out), 0.0, None
    nb = nbformat.read(path, as_version=4)
    skipped = {}
    for i, cell in enumerate(nb.cells):
        hit = _flags(cell.source) & skip_flags if cell.cell_type == "code" else set()
        if hit: skipped[i] = (cell.source, sorted(hit)); cell.source = ""
    os.environ.update(_KERNEL_ENV)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    t0, error = time.time(), None
    try: client.execute()
    except CellExecutionError as e: error = str(e).strip().splitlines()[-1][:300]
    except Exception as e: error = f"{type(e).__name__}: {e}"[:300]
    for i, (src, flags) in skipped.items():
        nb.cells[i].source = src; nb.cells[i].metadata["rk_skipped"] = flags
    nb.metadata["rk_error"] = error
    if error is None:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp"); nbformat.write(nb, tmp); os.replace(tmp, out)
        return str(out), time.time() - t0, None
    failed = cache / f"{path.stem}-{key}.failed.ipynb"; nbformat.write(nb, failed)
    return str(failed), time.time() - t0, error


# ---------------------------------------------------------------- outputs: plotly, widgets, anchors
def _plotly_html(fig_json: dict) -> str:
    div = "rk-plot-" + uuid.uuid4().hex[:12]
    payload = json.dumps({"data": fig_json.get("data", []), "layout": fig_json.get("layout", {})}).replace("</", "<\\/")
    return (f'<div id="{div}" class="rk-plot"></div><script type="text/javascript">'
            f'(function(){{var f={payload};Plotly.newPlot("{div}",f.data,f.layout,{{responsive:true}});}})();</script>')


def prepare(nb, exported_names: dict[int, list[str]]):
    "Rewrite outputs for a static page: plotly JSON -> a div drawn by the local plotly.js; drop widget views and plotly's loader blobs."
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code": continue
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "application/vnd.plotly.v1+json" in data:
                data["text/html"] = _plotly_html(data.pop("application/vnd.plotly.v1+json"))
            if "application/vnd.jupyter.widget-view+json" in data and len(data) > 1:
                data.pop("application/vnd.jupyter.widget-view+json")
            if data.get("text/html") and "window.PlotlyConfig" in "".join(data["text/html"]) and "Plotly.newPlot" not in "".join(data["text/html"]):
                continue
            kept.append(out)
        cell["outputs"] = kept
        names = exported_names.get(i)
        if names: cell.metadata["rk_anchors"] = names
        if cell.metadata.get("rk_skipped"):
            cell.metadata["rk_note"] = f"not executed in this build (#| {' '.join(cell.metadata['rk_skipped'])})"
    # as nbdev's own docs do: `#| hide` cells (tests, checkers' proofs, answers) and the `#| default_exp` line stay off the page
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and _flags(c.source) & {"hide", "default_exp"})]
    return nb


def exported_definitions(nb) -> dict[int, list[str]]:
    "Cell index -> public names defined at top level in `#| export` cells."
    out = {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not ({"export", "exports"} & _flags(cell.source)): continue
        try: tree = ast.parse("\n".join(l for l in cell.source.splitlines() if not l.startswith("%")))
        except SyntaxError: continue
        names = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.append(node.name)
            elif isinstance(node, ast.Assign): names += [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name): names.append(node.target.id)
        names = [n for n in names if not n.startswith("_")]
        if names: out[i] = names
    return out


# ---------------------------------------------------------------- HTML
_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}
{%- if resources.rk_mathjax %}<script type="text/x-mathjax-config">MathJax.Hub.Config({tex2jax: {inlineMath: [['$','$'], ['\\(','\\)']], processEscapes: true}, showMathMenu: false, messageStyle: "none",
  MMLorHTML: {prefer: "HTML"}, menuSettings: {assistiveMML: false}, "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
    styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local('MathJax_Blank')"}}}});</script>
<script src="{{ resources.rk_mathjax }}"></script>{% endif -%}
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<link rel="stylesheet" href="{{ resources.rk_root }}site.css">
<script src="{{ resources.rk_root }}plotly.min.js"></script>
{%- endblock html_head_css -%}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
{{ resources.rk_nav }}
<main class="rk-main">
{{ resources.rk_banner }}
{%- endblock body_header -%}
{% block codecell %}
{%- for name in cell.metadata.get('rk_anchors', []) %}<a class="rk-anchor" id="{{ name }}"></a>{% endfor -%}
{{ super() }}
{%- if cell.metadata.get('rk_note') %}<div class="rk-skipped">{{ cell.metadata.rk_note }}</div>{% endif -%}
{% endblock codecell %}
"""


def exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    return HTMLExporter(extra_loaders=[DictLoader({"rk_page.html.j2": _TEMPLATE})], template_file="rk_page.html.j2",
                        exclude_anchor_links=False)


def nav_html(pages: list[tuple[Path, str]], current: Path) -> str:
    "The sidebar: front page, chapters grouped by hundreds-decade, ablations, API reference."
    groups = {0: "Foundations", 1: "Ablation workbench", 2: "JFFRA", 3: "S2SVR", 4: "STBN", 5: "NCFL", 6: "Tools for readers"}
    def group_of(path):
        if path.parts[0] == "ablations": return "Ablation notebooks"
        if not path.name[:2].isdigit(): return "Chapters"
        n = int(path.name[:2]); return groups.get(0 if n <= 10 else n // 10, "Chapters")
    rel = lambda target: os.path.relpath(target, current.parent)
    has_index = any(path == Path("index.html") for path, _ in pages)   # a partial build (--only) may leave it out
    parts = ['<nav class="rk-sidebar"><h2>%s</h2>' % (f'<a href="{rel(Path("index.html"))}">restorekit</a>' if has_index else "restorekit")]
    last = None
    for path, title in pages:
        if path.name == "index.html" and path.parent == Path("."): continue
        group = group_of(path)
        if group != last: parts.append(f"<h3>{html.escape(group)}</h3>"); last = group
        cls = ' class="rk-current"' if path == current else ""
        label = (path.stem.split("_")[0] + " " if path.parts[0] != "ablations" else "") + title
        parts.append(f'<a{cls} href="{rel(path)}">{html.escape(label)}</a>')
    cls = ' class="rk-current"' if current == Path("api.html") else ""
    parts.append(f'<h3>Reference</h3><a{cls} href="{rel(Path("api.html"))}">API reference</a></nav>')
    return "\n".join(parts)


_HREF = re.compile(r'(href|src)="([^"#?:]+\.ipynb)(#[^"]*)?"')


def rewrite_links(body: str, source: Path, page: Path) -> str:
    "Point links to notebooks at their pages: resolve against the source notebook, map, make relative to the page."
    def fix(m):
        target = (source.parent / unquote(m.group(2))).resolve()
        try: dest = site_path(target)
        except ValueError: return m.group(0)
        return f'{m.group(1)}="{os.path.relpath(dest, page.parent)}{m.group(3) or ""}"'
    return _HREF.sub(fix, body)


def render_page(nb, source: Path, page: Path, pages, out: Path, error: str | None, mathjax: str | None):
    nb = prepare(nb, exported_definitions(nb))
    root = os.path.relpath(".", page.parent); root = "" if root == "." else root + "/"
    banner = ""
    if error: banner = f'<div class="rk-banner">This notebook failed while the site was built: {html.escape(error)}</div>'
    resources = {"metadata": {"name": title_of(nb)}, "rk_root": root, "rk_nav": nav_html(pages, page), "rk_banner": banner,
                 "rk_mathjax": (root + mathjax) if mathjax else None}
    body, _ = exporter().from_notebook_node(nb, resources=resources)
    dest = out / page; dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(rewrite_links(body, source, page), encoding="utf-8")


# ---------------------------------------------------------------- API reference
def chapter_of(module_file: Path) -> Path | None:
    "The notebook a library module is exported from (its AUTOGENERATED header)."
    m = re.search(r"File to edit: \.\./(nbs/[^\s]+\.ipynb)", module_file.read_text(encoding="utf-8")[:600])
    return ROOT / m.group(1) if m else None


def api_page(pages, out: Path):
    "One page listing every public name of restorekit by module: kind, signature, docstring, link to its chapter."
    sys.path.insert(0, str(ROOT))
    modidx = importlib.import_module("restorekit._modidx").d["syms"]
    page = Path("api.html")
    sections = []
    for module in sorted(modidx, key=lambda m: str(chapter_of(ROOT / (m.replace(".", "/") + ".py")) or m)):
        mod = importlib.import_module(module)
        chapter = chapter_of(Path(mod.__file__))
        href = os.path.relpath(site_path(chapter), page.parent) if chapter and (out / site_path(chapter)).exists() else None
        rows = []
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "constant"
            try: sig = str(inspect.signature(obj)) if callable(obj) else f" = {obj!r}"[:80]
            except (TypeError, ValueError): sig = ""
            sig = re.sub(r"\s+", " ", sig)
            doc = (inspect.getdoc(obj) or "").split("\n")[0] if kind != "constant" else ""
            link = f'<a href="{href}#{name}">{name}</a>' if href else name
            rows.append(f"<tr><td><code>{link}</code></td><td>{kind}</td><td><code>{html.escape(sig[:160])}</code><br>{html.escape(doc)}</td></tr>")
        where = f' — <a href="{href}">{html.escape(title_of(nbformat.read(chapter, as_version=4)))}</a>' if href else ""
        sections.append(f'<h2 id="{module}"><code>{module}</code>{where}</h2><table>{"".join(rows)}</table>')
    nav = nav_html(pages, page)
    doc = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>restorekit API reference</title>'
           f'<link rel="stylesheet" href="site.css"></head><body>{nav}<main class="rk-main rk-api"><h1>API reference</h1>'
           f'<p>Every public name of <code>restorekit</code> (each module\'s <code>__all__</code>), linked to the chapter that '
           f'defines, explains and tests it.</p>{"".join(sections)}</main></body></html>')
    (out / page).write_text(doc, encoding="utf-8")


# ---------------------------------------------------------------- link checker
class _Links(HTMLParser):
    def __init__(self):
        super().__init__(); self.links, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"): self.ids.add(a["id"])
        if tag == "a" and a.get("name"): self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and key == "href" and "stylesheet" not in (a.get("rel") or "")): self.links.append(a[key])


def check_links(out: Path) -> list[str]:
    "Every relative href/src in the site resolves to a file, and every #fragment to an id in it."
    parsed = {}
    def parse(p: Path):
        if p not in parsed:
            parser = _Links(); parser.feed(p.read_text(encoding="utf-8", errors="replace")); parsed[p] = parser
        return parsed[p]
    broken = []
    for page in sorted(out.rglob("*.html")):
        if "_cache" in page.parts: continue
        for link in parse(page).links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"): continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.exists(): broken.append(f"{page.relative_to(out)}: {link} (no such file)"); continue
            ids = parse(target).ids if target.suffix == ".html" else None
            if parts.fragment and ids is not None and parts.fragment not in ids and unquote(parts.fragment) not in ids:
                broken.append(f"{page.relative_to(out)}: {link} (no id {parts.fragment!r})")
    return broken


def external_links(out: Path) -> list[str]:
    "Resources the pages would fetch from the network (scripts, stylesheets, images) — an offline site has none."
    found = []
    for page in sorted(out.rglob("*.html")):
        if "_cache" in page.parts: continue
        for m in re.finditer(r'<(script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', page.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{page.relative_to(out)}: {m.group(2)}")
    return found


# ---------------------------------------------------------------- main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "site", help="output folder (default: site/)")
    ap.add_argument("--no-execute", action="store_true", help="render notebooks as stored, without executing them")
    ap.add_argument("--cache", type=Path, help="folder of executed notebooks (default: <out>/_cache)")
    ap.add_argument("--only", action="append", default=[], help="only notebooks whose stem or path contains this (repeatable)")
    ap.add_argument("--run-slow", action="store_true", help="also execute cells flagged with nbdev test flags (slow, notest, ...)")
    ap.add_argument("--jobs", type=int, default=1, help="notebooks executed in parallel")
    ap.add_argument("--timeout", type=int, default=900, help="seconds a cell may run")
    ap.add_argument("--check-links", action="store_true", help="check every relative link and #fragment in the site; exit 1 if broken")
    ap.add_argument("--screenshot", type=Path, help="PNG of the front page taken with headless Chromium (if installed)")
    args = ap.parse_args(argv)
    out = args.out.resolve(); out.mkdir(parents=True, exist_ok=True)
    cache = (args.cache or out / "_cache").resolve()
    skip = set() if args.run_slow else set(load_config()["tst_flags"])

    sources = collect(args.only)
    if not sources: print("no notebooks matched", file=sys.stderr); return 2
    results = {p: (str(p), 0.0, None) for p in sources}
    if not args.no_execute:
        lib_hash = _library_hash()
        with futures.ProcessPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
            jobs = {pool.submit(execute, p, cache, skip, args.timeout, lib_hash): p for p in sources}
            for job in futures.as_completed(jobs):
                p = jobs[job]; results[p] = job.result()
                _, secs, err = results[p]
                print(f"executed {p.relative_to(ROOT)}: {'cached' if secs == 0 else f'{secs:.1f} s'}{'' if err is None else ' FAILED: ' + err}", flush=True)

    shutil.copy(Path(importlib.import_module("plotly").__file__).parent / "package_data" / "plotly.min.js", out / "plotly.min.js")
    (out / "site.css").write_text(SITE_CSS, encoding="utf-8")
    mathjax = _copy_mathjax(out)
    nbs = {p: nbformat.read(results[p][0], as_version=4) for p in sources}
    all_pages = [(site_path(p), title_of(nbformat.read(p, as_version=4))) for p in collect([])]
    built = [site_path(p) for p in sources]
    pages = [(p, t) for p, t in all_pages if p in built or (out / p).exists()]
    for p in sources:
        render_page(nbs[p], p, site_path(p), pages, out, results[p][2], mathjax)
    api_page(pages, out)
    failed = [p for p in sources if results[p][2]]
    print(f"wrote {len(sources)} notebook pages and api.html to {out}" + (f"; {len(failed)} failed to execute" if failed else ""))
    status = 1 if failed else 0
    if args.check_links:
        broken = check_links(out)
        for b in broken: print("broken link:", b)
        for e in external_links(out): print("network resource:", e)
        print(f"link check: {len(broken)} broken")
        status = status or int(bool(broken))
    if args.screenshot: _screenshot(out / ("index.html" if (out / "index.html").exists() else site_path(sources[0])), args.screenshot)
    return status


def _copy_mathjax(out: Path) -> str:
    """MathJax 2 from the `jupyter-server-mathjax` package (a dev requirement), copied into the site so that equations
    are typeset offline. It ships the STIX-Web fonts only, so the page configures MathJax's HTML-CSS output for them."""
    try: import jupyter_server_mathjax
    except ImportError:
        raise SystemExit("build_site: the `jupyter-server-mathjax` package is missing, so the site could not typeset its "
                         "equations offline; install the dev requirements: pip install -e \".[dev]\"")
    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (src / "MathJax.js").exists():
        raise SystemExit(f"build_site: {src} has no MathJax.js; reinstall `jupyter-server-mathjax`")
    dest = out / "mathjax"
    if not dest.exists(): shutil.copytree(src, dest)
    return "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"


def _screenshot(page: Path, png: Path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists(): print("no chromium: screenshot skipped"); return
    profile = png.parent / (png.stem + "-profile")
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,1000",
           "--virtual-time-budget=5000", f"--screenshot={png}", page.as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    print(f"screenshot {png}: {'ok' if png.exists() else 'failed: ' + r.stderr[-300:]}")


if __name__ == "__main__":
    sys.exit(main())
