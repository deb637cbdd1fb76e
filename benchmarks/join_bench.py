"""Join reports of `bench_denoise_vs_nlm.py --json` that were run on different clips into one report.

A report is the JSON file of `--json`, or the printed output of a run stopped before it wrote one (.txt: its
tables are read back; they lack the per-frame PSNRs). A method that a clip's report lacks is copied from --reference, an earlier report on the same clips: the noise is
seeded and the clips are cut the same way, so the noisy frames are identical, and BM3D and NLM are deterministic
functions of them. Copied rows keep their figures (including their wall and CPU times) and are marked in the
printed table. Prints every clip's table and the STBN - BM3D line, and writes --out.

    python benchmarks/join_bench.py A.json B.json --reference benchmarks/old.json --out benchmarks/denoise_vs_bm3d.json
"""
import argparse
import json
import sys
from pathlib import Path


def read_printed(path: Path) -> dict:
    "A report from the printed output of `bench_denoise_vs_nlm.py`: its header's sigma and seed, and every clip's table."
    lines = path.read_text().splitlines()
    words = lines[0].replace(",", " ").split()
    report = {"sigma": float(words[words.index("sigma") + 1]), "seed": int(words[words.index("seed") + 1]), "clips": {}}
    clip = None
    for line in lines[1:]:
        tokens = line.split()
        if len(tokens) == 2 and tokens[1].startswith("(") and "x" in tokens[1]:
            clip = report["clips"][tokens[0]] = {"shape": [int(v) for v in tokens[1].strip("()").split("x")], "methods": {}}
        elif clip is not None and len(tokens) >= 11 and tokens[0] != "method" and not line.startswith("STBN - BM3D"):
            psnr, ssim, seam_db, seam_gl, colour, band, ring, edge, wall, cpu = tokens[-10:]
            clip["methods"][" ".join(tokens[:-10])] = {
                "psnr": float(psnr), "ssim": float(ssim), "seam_psnr_spread": float(seam_db), "seam_bright_spread": float(seam_gl),
                "colour_offset": [float(v) for v in colour.split("/")], "border_minus_interior": float(band),
                "edge_minus_interior": float(ring), "edge_penalty": float(edge), "wall_s": float(wall), "cpu_s": float(cpu)}
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", nargs="+", type=Path)
    ap.add_argument("--reference", type=Path, default=None, help="report to take missing methods from")
    ap.add_argument("--methods", nargs="+", default=["BM3D"], help="methods taken from --reference when a clip lacks them")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    reports = [read_printed(p) if p.suffix == ".txt" else json.loads(p.read_text()) for p in args.reports]
    reference = json.loads(args.reference.read_text())["clips"] if args.reference else {}
    joined = {k: v for k, v in reports[0].items() if k != "clips"} | {"clips": {}, "joined_from": [str(p) for p in args.reports]}
    for report in reports:
        if report["sigma"] != reports[0]["sigma"] or report["seed"] != reports[0]["seed"]:
            sys.exit(f"join_bench: {args.reports[reports.index(report)]} has another sigma or seed")
        for name, clip in report["clips"].items():
            for method in args.methods:
                if method not in clip["methods"] and name in reference and method in reference[name]["methods"]:
                    clip["methods"][method] = reference[name]["methods"][method] | {"from": str(args.reference)}
            joined["clips"][name] = clip
    for name, clip in joined["clips"].items():
        print(f"\n{name} ({'x'.join(map(str, clip['shape']))})")
        print(f"{'method':14s} {'PSNR':>6s} {'SSIM':>6s} {'seam dB':>7s} {'seam gl':>7s} {'colour R/G/B (gl)':>19s} "
              f"{'band dB':>7s} {'ring dB':>7s} {'edge dB':>7s} {'wall s':>7s} {'CPU s':>7s}")
        for method, f in clip["methods"].items():
            colour = "/".join(f"{v:+.1f}" for v in f["colour_offset"])
            mark = "  (copied from --reference)" if "from" in f else ""
            print(f"{method:14s} {f['psnr']:6.2f} {f['ssim']:6.3f} {f['seam_psnr_spread']:7.2f} {f['seam_bright_spread']:7.2f} "
                  f"{colour:>19s} {f['border_minus_interior']:+7.2f} {f['edge_minus_interior']:+7.2f} {f['edge_penalty']:+7.2f} "
                  f"{f['wall_s']:7.1f} {f['cpu_s']:7.1f}{mark}")
    gaps = {n: c["methods"]["STBN"]["psnr"] - c["methods"]["BM3D"]["psnr"] for n, c in joined["clips"].items()
            if "STBN" in c["methods"] and "BM3D" in c["methods"]}
    if gaps:
        print("\nSTBN - BM3D (dB): " + ", ".join(f"{n} {g:+.2f}" for n, g in gaps.items()) + f"; mean {sum(gaps.values()) / len(gaps):+.2f}")
    args.out.write_text(json.dumps(joined, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
