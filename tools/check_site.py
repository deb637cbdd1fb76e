"""Check a built restorekit site (tools/build_site.py) page by page in headless Chromium, offline.

    python tools/build_site.py --out site/ --no-execute
    python tools/check_site.py site/ --screens site/_screens       # exit 1 when any page has a problem

For every page (each chapter, ablation notebook and api.html) the browser runs with the network switched
off and the script checks:

- console: no console error, no uncaught exception, no failed request (a page that needs the network fails here),
  and no banner saying the notebook failed while the site was built;
- equations: MathJax is loaded where the page has TeX, it finishes, no TeX error is shown, every equation it
  found is rendered, and no raw `$...$`, `\\(...\\)` or `\\[...\\]` is left in the rendered prose;
- figures: every plotly figure placeholder (`div.rk-plot`) is drawn by the local plotly.js (an SVG inside it),
  and every image has loaded;
- links: every relative link points to a file of the site and every `#fragment` to an id on its target page;
  links to the web are counted, not fetched.

With --screens DIR, a PNG of each page's first screen (1280×900) is saved there. Chromium is Debian's
(/usr/bin/chromium, or --chromium PATH), driven by the `playwright` package; no browser is downloaded.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Runs in the page after load: waits for MathJax (version 2, as copied by build_site.py) to finish its queue.
_MATHJAX_DONE = """() => new Promise(resolve => {
  if (!window.MathJax || !window.MathJax.Hub) return resolve(false);
  window.MathJax.Hub.Queue(() => resolve(true));
})"""

# Runs in the page after MathJax: everything the checks need, as plain JSON.
_INSPECT = r"""() => {
  const skip = el => el.closest('code, pre, script, style, textarea, .MathJax, .MathJax_Display, .MathJax_Preview, .jp-OutputArea-output pre');
  const prose = document.querySelectorAll('.jp-RenderedMarkdown, .jp-RenderedHTMLCommon');
  const raw = [];
  const tex = /\$[^$\s][^$]*\$|\\\(|\\\[|\\begin\{/;
  for (const root of prose) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.parentElement || skip(n.parentElement)) continue;
      const m = n.textContent.match(tex);
      if (m) raw.push(n.textContent.trim().slice(0, 120));
    }
  }
  const mathScripts = document.querySelectorAll('script[type^="math/tex"]');
  let unrendered = 0;
  for (const s of mathScripts) {
    const prev = s.previousElementSibling;
    const ok = prev && [...prev.classList].some(c => c.startsWith('MathJax') && c !== 'MathJax_Preview') && prev.getBoundingClientRect().width > 0;
    if (!ok) unrendered += 1;
  }
  const texErrors = [...document.querySelectorAll('.MathJax_Error, .noError, .merror, merror, [data-mjx-error]')].map(e => (e.textContent || '').slice(0, 120));
  const plots = [...document.querySelectorAll('div.rk-plot')];
  const undrawn = plots.filter(p => !p.querySelector('svg.main-svg')).map(p => p.id);
  const images = [...document.images];
  const badImages = images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => (i.getAttribute('src') || '').slice(0, 80));
  const links = [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'));
  const ids = [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name'));
  const banners = [...document.querySelectorAll('.rk-banner')].map(b => b.textContent.trim().slice(0, 200));
  return {raw, banners, equations: mathScripts.length, unrendered, texErrors, plots: plots.length, undrawn,
          images: images.length, badImages, links, ids, mathjax: !!(window.MathJax && window.MathJax.Hub)};
}"""


@dataclass
class PageReport:
    page: str
    console: list[str] = field(default_factory=list)
    build_errors: list[str] = field(default_factory=list)
    equations: int = 0
    raw_tex: list[str] = field(default_factory=list)
    tex_errors: list[str] = field(default_factory=list)
    unrendered: int = 0
    mathjax_missing: bool = False
    plots: int = 0
    undrawn: list[str] = field(default_factory=list)
    images: int = 0
    bad_images: list[str] = field(default_factory=list)
    links: int = 0
    external: int = 0
    broken: list[str] = field(default_factory=list)
    screen: str | None = None
    seconds: float = 0.0

    def problems(self) -> list[str]:
        out = [f"console: {m}" for m in self.console] + [f"build: {b}" for b in self.build_errors]
        if self.mathjax_missing: out.append("TeX on the page but MathJax is not loaded")
        out += [f"raw TeX left: {t!r}" for t in self.raw_tex]
        out += [f"TeX error: {t!r}" for t in self.tex_errors]
        if self.unrendered: out.append(f"{self.unrendered} of {self.equations} equations not rendered")
        out += [f"plotly figure not drawn: #{d}" for d in self.undrawn]
        out += [f"image not loaded: {s}" for s in self.bad_images]
        out += [f"broken link: {b}" for b in self.broken]
        return out


def pages_of(site: Path) -> list[Path]:
    "Every HTML page of the site, front page first (MathJax's own files and the build cache excluded)."
    pages = [p for p in site.rglob("*.html") if not ({"_cache", "mathjax", "_screens"} & set(p.relative_to(site).parts))]
    return sorted(pages, key=lambda p: (p.name != "index.html" or p.parent != site, str(p.relative_to(site))))


def check_site(site: Path, screens: Path | None = None, chromium: str = CHROMIUM, timeout_s: float = 60,
               log=print) -> list[PageReport]:
    "Open every page of `site` offline in headless Chromium and return one report per page."
    from playwright.sync_api import sync_playwright
    site = site.resolve()
    if not (site / "plotly.min.js").exists():
        raise FileNotFoundError(f"{site} is not a built restorekit site (no plotly.min.js): run tools/build_site.py --out {site}")
    if not Path(chromium).exists():
        raise FileNotFoundError(f"no Chromium at {chromium}: `apt-get install -y chromium` or pass --chromium PATH")
    if screens: screens.mkdir(parents=True, exist_ok=True)
    reports, ids_of, links_of = [], {}, {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
            for path in pages_of(site):
                rel = str(path.relative_to(site)); rep = PageReport(rel); t0 = time.monotonic()
                page = context.new_page(); page.set_default_timeout(timeout_s * 1000)
                page.on("console", lambda m, rep=rep: m.type == "error" and rep.console.append(m.text[:200]))
                page.on("pageerror", lambda e, rep=rep: rep.console.append(f"uncaught {e}"[:200]))
                page.on("requestfailed", lambda r, rep=rep: rep.console.append(f"request failed: {r.url[:120]} ({r.failure})"))
                page.goto(path.as_uri(), wait_until="load")
                page.evaluate(_MATHJAX_DONE)
                info = page.evaluate(_INSPECT)
                rep.equations, rep.unrendered, rep.tex_errors = info["equations"], info["unrendered"], info["texErrors"]
                rep.raw_tex, rep.plots, rep.undrawn = info["raw"], info["plots"], info["undrawn"]
                rep.images, rep.bad_images, rep.build_errors = info["images"], info["badImages"], info["banners"]
                rep.mathjax_missing = bool(info["raw"]) and not info["mathjax"]
                ids_of[path] = set(info["ids"]); links_of[path] = info["links"]
                if screens:
                    shot = screens / (rel.replace("/", "__")[:-5] + ".png")
                    page.screenshot(path=str(shot)); rep.screen = str(shot)
                page.close()
                rep.seconds = time.monotonic() - t0
                reports.append(rep)
                log(f"{rel}: {rep.equations} equations, {rep.plots} figures, {len(info['links'])} links, "
                    f"{len(rep.problems())} problems ({rep.seconds:.1f} s)")
        finally:
            browser.close()
    for rep in reports:   # links, once every page's ids are known
        path = site / rep.page
        for link in links_of[path]:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto") or link.startswith("//"): rep.external += 1; continue
            rep.links += 1
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists(): rep.broken.append(f"{link} (no such file)"); continue
            if parts.fragment and target.suffix == ".html":
                ids = ids_of.get(target)
                if ids is None:
                    from html.parser import HTMLParser
                    class _Ids(HTMLParser):
                        def __init__(self): super().__init__(); self.ids = set()
                        def handle_starttag(self, tag, attrs):
                            a = dict(attrs); self.ids |= {v for k, v in a.items() if k in ("id", "name") and v}
                    parser = _Ids(); parser.feed(target.read_text(encoding="utf-8", errors="replace")); ids = ids_of[target] = parser.ids
                if parts.fragment not in ids and unquote(parts.fragment) not in ids:
                    rep.broken.append(f"{link} (no id {parts.fragment!r})")
    return reports


def summary(reports: list[PageReport]) -> dict:
    return {"pages": len(reports), "console_errors": sum(len(r.console) for r in reports),
            "pages_failed_to_execute": sum(bool(r.build_errors) for r in reports),
            "equations": sum(r.equations for r in reports), "equations_unrendered": sum(r.unrendered for r in reports),
            "raw_tex_left": sum(len(r.raw_tex) for r in reports), "tex_errors": sum(len(r.tex_errors) for r in reports),
            "figures": sum(r.plots for r in reports), "figures_undrawn": sum(len(r.undrawn) for r in reports),
            "images": sum(r.images for r in reports), "images_broken": sum(len(r.bad_images) for r in reports),
            "links": sum(r.links for r in reports), "links_broken": sum(len(r.broken) for r in reports),
            "links_external_not_fetched": sum(r.external for r in reports),
            "pages_with_problems": sum(bool(r.problems()) for r in reports)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("site", type=Path, help="the folder tools/build_site.py wrote")
    ap.add_argument("--screens", type=Path, help="save a PNG of each page's first screen in this folder")
    ap.add_argument("--chromium", default=CHROMIUM, help=f"Chromium executable (default {CHROMIUM})")
    ap.add_argument("--json", type=Path, help="write every page's report as JSON here")
    args = ap.parse_args(argv)
    if not args.site.is_dir(): print(f"check_site: {args.site} is not a folder (expected a site built by tools/build_site.py)", file=sys.stderr); return 2
    try: reports = check_site(args.site, args.screens, args.chromium)
    except FileNotFoundError as e: print(f"check_site: {e}", file=sys.stderr); return 2
    for rep in reports:
        for p in rep.problems(): print(f"PROBLEM {rep.page}: {p}")
    s = summary(reports)
    if args.json: args.json.write_text(json.dumps({"summary": s, "pages": [r.__dict__ for r in reports]}, indent=1))
    print("summary: " + ", ".join(f"{k} {v}" for k, v in s.items()))
    return 1 if s["pages_with_problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
