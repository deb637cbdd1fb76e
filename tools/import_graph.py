"""Print restorekit's import graph by floor and flag what breaks the floor plan.

    python tools/import_graph.py            # module -> imports, with floors; violations at the end
    python tools/import_graph.py --check    # only the violations; exit 1 if there are any

The four floors (DESIGN.md) are foundation < ops < models < workbench. A module may import modules on
its own floor or below. Flagged:
- upward: a module importing a module on a higher floor (at module level or inside a function);
- private: `from .x import _name` (another module's underscore name);
- lazy package import: `import restorekit` inside a function (the package imports every module);
- unplaced: a module of the package that has no floor here (every new module gets one).
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

FLOORS = ("foundation", "ops", "models", "workbench")

FLOOR_OF = {
    # foundation: tensors and files, no learning
    "core": "foundation", "guard": "foundation", "video": "foundation", "warp": "foundation",
    "synthetic": "foundation", "degrade": "foundation", "metrics": "foundation", "data": "foundation",
    "plots": "foundation", "datasets": "foundation",
    # ops: the papers' building blocks
    "flow": "ops", "flownet": "ops", "layers": "ops", "costvol": "ops", "temporal": "ops", "pwcflow": "ops",
    "unsupflow": "ops", "blindspot": "ops", "quant": "ops", "entropy": "ops",
    # models: one model, its config and its losses per module, plus the kind registry they register into
    "kinds": "models", "jffra": "models", "s2svr": "models", "stbn": "models", "ncfl": "models",
    # workbench: training, evaluation, experiments, checkpoints, tables, sweeps, the CLI
    "train": "workbench", "checkpoint": "workbench", "restore": "workbench", "evaluation": "workbench",
    "registry": "workbench", "store": "workbench", "sweep": "workbench", "cli": "workbench",
    "denoise": "workbench", "viewers": "workbench", "exercises": "workbench",
}
WORKBENCH_PREFIXES = ("exp_",)   # experiment modules, one per paper
SKIP = {"__init__", "_modidx"}


def floor_of(module: str) -> str | None:
    "The floor of a top-level module name of the package (None: unplaced)."
    if module in FLOOR_OF: return FLOOR_OF[module]
    if module.startswith(WORKBENCH_PREFIXES): return "workbench"
    return None


def _target(node: ast.ImportFrom, package: str) -> str | None:
    "The package module an ImportFrom names (`.x`, `restorekit.x`), or None for another library."
    if node.level == 1 and node.module: return node.module.split(".")[0]
    if node.level == 0 and node.module and node.module.split(".")[0] == package:
        parts = node.module.split(".")
        return parts[1] if len(parts) > 1 else ""
    return None


def imports_of(path: Path, package: str = "restorekit") -> list[dict]:
    "Every import of another package module in one file: target, names, line, whether inside a function."
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.ImportFrom):
                target = _target(child, package)
                if target is not None:
                    names = [a.name for a in child.names]
                    if target == "":   # `from restorekit import x`: x is a module or a re-exported name
                        found.append(dict(target=package, names=names, line=child.lineno, lazy=in_function))
                    else:
                        found.append(dict(target=target, names=names, line=child.lineno, lazy=in_function))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    parts = alias.name.split(".")
                    if parts[0] == package:
                        found.append(dict(target=parts[1] if len(parts) > 1 else package, names=[], line=child.lineno,
                                          lazy=in_function))
            visit(child, inner)
    visit(tree, False)
    return found


def graph(root: Path) -> dict:
    "module -> list of imports, for every module of the package under `root`."
    package = root.name
    return {p.stem: imports_of(p, package) for p in sorted(root.glob("*.py")) if p.stem not in SKIP}


def violations(edges: dict, package: str = "restorekit") -> list[str]:
    "One line per break of the floor plan (empty when the graph is clean)."
    out = []
    for module, imports in edges.items():
        floor = floor_of(module)
        if floor is None:
            out.append(f"unplaced: {module} has no floor in tools/import_graph.py"); continue
        for imp in imports:
            target, where = imp["target"], f"{module}.py:{imp['line']}"
            if target == package:
                if imp["lazy"]: out.append(f"lazy package import: {where} imports {package} inside a function")
                else: out.append(f"package import: {where} imports {package} (the package imports every module)")
                continue
            target_floor = floor_of(target)
            if target_floor is not None and FLOORS.index(target_floor) > FLOORS.index(floor):
                out.append(f"upward: {where} {module} ({floor}) imports {target} ({target_floor})")
            private = [n for n in imp["names"] if n.startswith("_") and not n.startswith("__")]
            if private and target != module:
                out.append(f"private: {where} {module} imports {', '.join(private)} from {target}")
    return out


def render(edges: dict) -> str:
    "The graph as text, floor by floor: `module -> imported modules` (lazy imports marked with *)."
    lines = []
    for floor in FLOORS + (None,):
        members = [m for m in edges if floor_of(m) == floor]
        if not members: continue
        lines.append(f"[{floor or 'unplaced'}]")
        for m in members:
            targets = {}
            for imp in edges[m]: targets[imp["target"]] = targets.get(imp["target"], False) or imp["lazy"]
            shown = ", ".join(f"{t}{'*' if lazy else ''}({(floor_of(t) or '?')[0]})" for t, lazy in sorted(targets.items()))
            lines.append(f"  {m} -> {shown}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1] / "restorekit"))
    parser.add_argument("--check", action="store_true", help="print only the violations")
    args = parser.parse_args(argv)
    edges = graph(Path(args.root))
    bad = violations(edges, Path(args.root).name)
    if not args.check: print(render(edges)); print()
    print(f"{len(bad)} violation(s)")
    for line in bad: print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
