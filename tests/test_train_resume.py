"""An interrupted and resumed run ends with the same weights as an uninterrupted one (restorekit.train)."""
import pytest
import torch
import torch.nn as nn
from torch.utils.data import Dataset

from restorekit.core import RestoreKitError
from restorekit.core import CheckpointError
from restorekit.train import TrainConfig, load_checkpoint, save_checkpoint, train


class GlobalRandomPairs(Dataset):
    "Items whose input noise comes from the *global* torch generator: exact resume needs the saved RNG state."
    def __init__(self, n=22):
        g = torch.Generator().manual_seed(11)
        self.x = torch.rand(n, 6, generator=g)
    def __len__(self): return len(self.x)
    def __getitem__(self, i): return self.x[i] + 0.1 * torch.randn(6), self.x[i]


class IndexSeededPairs(GlobalRandomPairs):
    "Items that draw their noise from a generator seeded by the index: the same in any worker process."
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(1000 + i)
        return self.x[i] + 0.1 * torch.randn(6, generator=g), self.x[i]


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 6))


def loss_fn(model, batch):
    noisy, clean = batch
    return (model(noisy) - clean).abs().mean()


def eval_fn(model):
    return {"draw": float(torch.rand(()))}   # deliberately consumes the global generator


class Crash(Exception):
    pass


def crash_at(step):
    def callback(state):
        if state.step == step:
            raise Crash(f"simulated kill at step {step}")
    return callback


def assert_same_weights(a, b):
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), name


@pytest.mark.parametrize("dataset_cls,workers", [(GlobalRandomPairs, 0), (IndexSeededPairs, 2)])
def test_kill_and_resume_is_bit_identical(tmp_path, dataset_cls, workers):
    cfg = TrainConfig(steps=24, batch_size=4, lr=3e-3, optimizer="adamw", weight_decay=1e-2, schedule="cosine",
                      warmup_steps=4, grad_clip=1.0, ckpt_every=8, eval_every=5, log_every=3, seed=5,
                      num_workers=workers, progress=False)
    whole = make_model(0)
    ref = train(whole, loss_fn, dataset_cls(), cfg, eval_fn=eval_fn, ckpt_path=tmp_path / "whole.pt")

    part = make_model(0)
    with pytest.raises(Crash):   # 22 items / 4 = 5 batches an epoch: step 8 is in the middle of epoch 1
        train(part, loss_fn, dataset_cls(), cfg, eval_fn=eval_fn, ckpt_path=tmp_path / "part.pt", callbacks=[crash_at(13)])
    assert load_checkpoint(tmp_path / "part.pt")["step"] == 8

    resumed_model = make_model(42)   # a new process would build the model from scratch with other weights
    resumed = train(resumed_model, loss_fn, dataset_cls(), cfg, eval_fn=eval_fn, ckpt_path=tmp_path / "part.pt")
    assert resumed.resumed_from == 8 and resumed.final_step == 24
    assert_same_weights(resumed_model, whole)
    untimed = lambda history: [{k: v for k, v in h.items() if k != "time"} for h in history]
    assert untimed(resumed.history) == untimed(ref.history)
    assert resumed.evals == ref.evals and [e["step"] for e in ref.evals] == [5, 10, 15, 20, 24]
    a, b = load_checkpoint(tmp_path / "part.pt"), load_checkpoint(tmp_path / "whole.pt")
    assert a["step"] == b["step"] == 24
    for key in ("exp_avg", "exp_avg_sq"):
        assert torch.equal(a["optimizer"]["state"][0][key], b["optimizer"]["state"][0][key])


def test_continuing_with_more_steps_equals_one_longer_run(tmp_path):
    short = TrainConfig(steps=10, batch_size=4, lr=1e-3, log_every=4, seed=2, progress=False)
    longer = TrainConfig(steps=25, batch_size=4, lr=1e-3, log_every=4, seed=2, progress=False)
    direct = make_model(3)
    train(direct, loss_fn, GlobalRandomPairs(), longer)
    staged = make_model(3)
    first = train(staged, loss_fn, GlobalRandomPairs(), short, eval_fn=eval_fn, ckpt_path=tmp_path / "run.pt")
    assert first.final_step == 10 and load_checkpoint(tmp_path / "run.pt")["step"] == 10
    second = train(make_model(9), loss_fn, GlobalRandomPairs(), longer, ckpt_path=tmp_path / "run.pt")
    assert second.resumed_from == 10 and second.final_step == 25
    assert_same_weights(second.model, direct)
    done = train(make_model(9), loss_fn, GlobalRandomPairs(), longer, ckpt_path=tmp_path / "run.pt")   # nothing left to do
    assert done.final_step == 25 and done.resumed_from == 25
    assert_same_weights(done.model, direct)


def test_truncated_checkpoint_is_an_error_naming_the_file(tmp_path):
    model = make_model(0)
    cfg = TrainConfig(steps=3, batch_size=4, progress=False)
    opt = torch.optim.Adam(model.parameters())
    path = save_checkpoint(tmp_path / "good.pt", model, opt, None, step=3, config=cfg)
    data = path.read_bytes()
    bad = tmp_path / "truncated.pt"
    for size in (0, 10, len(data) // 3, len(data) - 100):
        bad.write_bytes(data[:size])
        with pytest.raises(CheckpointError, match="truncated.pt"):
            load_checkpoint(bad)
        with pytest.raises(RestoreKitError, match="truncated.pt"):    # train refuses it too, instead of silently restarting
            train(make_model(0), loss_fn, GlobalRandomPairs(), cfg, ckpt_path=bad)
    with pytest.raises(OSError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")
    fresh = train(make_model(0), loss_fn, GlobalRandomPairs(), cfg, ckpt_path=bad, resume=False)   # an explicit restart overwrites it
    assert fresh.resumed_from is None and load_checkpoint(bad)["step"] == 3


def test_resuming_another_runs_checkpoint_is_refused(tmp_path):
    cfg = TrainConfig(steps=4, batch_size=4, seed=1, progress=False)
    train(make_model(0), loss_fn, GlobalRandomPairs(), cfg, ckpt_path=tmp_path / "run.pt")
    other = TrainConfig(steps=8, batch_size=4, seed=2, progress=False)
    with pytest.raises(CheckpointError, match="seed"):
        train(make_model(0), loss_fn, GlobalRandomPairs(), other, ckpt_path=tmp_path / "run.pt")
