"""The library keeps its floor plan: foundation < ops < models < workbench, arrows pointing down only."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("import_graph", ROOT / "tools" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec); spec.loader.exec_module(import_graph)


def test_no_upward_private_or_lazy_package_import():
    edges = import_graph.graph(ROOT / "restorekit")
    assert import_graph.violations(edges) == []


def test_every_module_has_a_floor():
    edges = import_graph.graph(ROOT / "restorekit")
    assert all(import_graph.floor_of(m) is not None for m in edges)


def test_the_checker_sees_each_kind_of_violation(tmp_path):
    pkg = tmp_path / "restorekit"; pkg.mkdir()
    (pkg / "core.py").write_text("X = 1\n_Y = 2\n")
    (pkg / "train.py").write_text("from .core import X\n")
    (pkg / "warp.py").write_text("from .train import X\nfrom .core import _Y\ndef f():\n    import restorekit\n")
    (pkg / "mystery.py").write_text("")
    found = "\n".join(import_graph.violations(import_graph.graph(pkg)))
    assert "upward: warp.py:1 warp (foundation) imports train (workbench)" in found
    assert "private: warp.py:2 warp imports _Y from core" in found
    assert "lazy package import: warp.py:4" in found
    assert "unplaced: mystery" in found
