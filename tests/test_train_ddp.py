"""Two gloo processes under torchrun train like one process with the doubled batch (restorekit.train)."""
import json
import os
import socket
import subprocess
import sys
import textwrap

import torch
import torch.nn as nn
from torch.utils.data import Dataset

from restorekit.train import TrainConfig, load_checkpoint, train

SCRIPT = textwrap.dedent('''
    import json, os, sys
    from pathlib import Path
    import torch, torch.nn as nn, torch.distributed as dist
    from torch.utils.data import Dataset
    from restorekit.train import TrainConfig, train

    {common}

    out = Path(sys.argv[1])
    torch.manual_seed(0 if os.environ["RANK"] == "0" else 100)   # rank 1 starts from other weights: DDP must broadcast rank 0's
    model = make_model()
    res = train(model, loss_fn, Points(), make_cfg(batch_size=4), ckpt_path=out / "ckpt.pt")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.save(model.state_dict(), out / f"rank{{rank}}.pt")
    (out / f"history{{rank}}.json").write_text(json.dumps({{"world": world, "history": res.history, "evals": res.evals}}))
    dist.destroy_process_group()
''')

COMMON = '''
class Points(Dataset):
    "48 noisy samples of a smooth function of 4 inputs."
    def __init__(self):
        g = torch.Generator().manual_seed(7)
        self.x = torch.randn(48, 4, generator=g)
        self.y = torch.sin(self.x @ torch.tensor([1.0, -0.5, 0.25, 2.0])) + 0.05 * torch.randn(48, generator=g)
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i], self.y[i]

def make_model():
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))

def loss_fn(model, batch):
    x, y = batch
    return (model(x).squeeze(-1) - y).square().mean()

def make_cfg(batch_size):
    return TrainConfig(steps=15, batch_size=batch_size, lr=0.02, schedule="cosine", warmup_steps=3, seed=3,
                       log_every=5, ckpt_every=10, grad_clip=5.0, progress=False)
'''
exec(COMMON)   # the test process and the torchrun script share these definitions


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_processes_match_one_process_with_doubled_batch(tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(SCRIPT.format(common=COMMON))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), str(script), str(tmp_path)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name          # the replicas never diverge
    ckpt = load_checkpoint(tmp_path / "ckpt.pt")
    assert ckpt["step"] == 15 and len(ckpt["rng"]) == 2              # rank 0 saved both processes' random states
    for name in rank0:
        assert torch.equal(ckpt["model"][name], rank0[name]), name
    logs = [json.loads((tmp_path / f"history{r}.json").read_text()) for r in (0, 1)]
    untimed = lambda history: [{k: v for k, v in h.items() if k != "time"} for h in history]
    assert logs[0]["world"] == 2 and untimed(logs[0]["history"]) == untimed(logs[1]["history"])   # losses averaged over ranks

    # one process, the same initial weights (rank 0's), batch 2 × 4: the same updates
    torch.manual_seed(0)
    single = make_model()
    res = train(single, loss_fn, Points(), make_cfg(batch_size=8))
    for name, value in single.state_dict().items():
        torch.testing.assert_close(rank0[name], value, atol=1e-5, rtol=0)
    ddp_losses = [h["loss"] for h in logs[0]["history"]]
    torch.testing.assert_close(torch.tensor(ddp_losses), torch.tensor(res.losses), atol=1e-5, rtol=0)
    assert ddp_losses[-1] < ddp_losses[0]
