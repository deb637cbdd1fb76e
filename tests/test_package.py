"""The public API that other chapters and users rely on is importable as `import restorekit as rk`."""
from configparser import ConfigParser
from pathlib import Path

import restorekit as rk


def test_version_matches_settings():
    cfg = ConfigParser(); cfg.read(Path(__file__).parents[1] / "settings.ini")
    assert rk.__version__ == cfg["DEFAULT"]["version"]


def test_public_names_of_the_foundation():
    names = ["read_video", "write_video", "sample_clip", "warp", "occlusion_mask", "flow_to_color", "psnr", "ssim",
             "epe", "warping_error", "add_gaussian_noise", "compress_clip", "DISFlow", "RestoreKitError", "ShapeError",
             "VideoFileError", "check_clip", "resize_flow", "synthetic_clip", "RestorationDataset", "train", "TrainConfig",
             "cost_volume", "temporal_consistency_loss", "adaptive_quantize", "laplace_likelihood", "rate_bits"]
    missing = [n for n in names if not hasattr(rk, n)]
    assert not missing, f"missing from restorekit: {missing}"


def test_no_public_name_is_exported_by_two_modules():
    import importlib, pkgutil
    owners = {}
    for info in pkgutil.iter_modules(rk.__path__):
        if info.name.startswith("_"): continue
        mod = importlib.import_module(f"restorekit.{info.name}")
        for name in getattr(mod, "__all__", []):
            assert name not in owners, f"{name!r} is exported by both restorekit.{owners[name]} and restorekit.{info.name}"
            owners[name] = info.name
