"""The public API that other chapters and users rely on is importable as `import restorekit as rk`."""
import restorekit as rk


def test_version_matches_settings():
    from configparser import ConfigParser
    from pathlib import Path
    cfg = ConfigParser(); cfg.read(Path(__file__).parents[1] / "settings.ini")
    assert rk.__version__ == cfg["DEFAULT"]["version"]


def test_public_names():
    for name in ["RestoreKitError", "ShapeError", "VideoFileError", "check_clip", "warp", "occlusion_mask",
                 "flow_to_color", "resize_flow"]:
        assert hasattr(rk, name), name
