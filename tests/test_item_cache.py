"""restorekit.data.ITEM_CACHE: training on kept items gives the losses and weights of training on items computed at
every read, bit for bit; the store respects its byte bound; a dataset that is random per call is never kept."""
import pytest
import torch

from restorekit.data import ITEM_CACHE, RestorationDataset
from restorekit.s2svr import S2SVRConfig, build_model, s2svr_loss
from restorekit.train import TrainConfig, train


def _dataset(**kw):
    return RestorationDataset("sr", n_frames=3, crop=32, length=2, seed=5, sources=("synthetic", "bikes"), **kw)


def _train_s2svr(dataset):
    torch.manual_seed(0)
    model = build_model(S2SVRConfig(channels=8, gru_layers=2, res_blocks=1, flow_source="dis_medium"))
    cfg = TrainConfig(steps=6, batch_size=1, lr=1e-3, grad_clip=1.0, seed=0, log_every=1, progress=False)
    result = train(model, s2svr_loss, dataset, cfg)
    return result.losses, result.model.state_dict()


def test_training_is_bit_equal_with_and_without_the_cache():
    ITEM_CACHE.clear()
    computed = _train_s2svr(_dataset(cache_items=False))
    assert len(ITEM_CACHE) == 0
    other = RestorationDataset("sr", n_frames=3, crop=32, length=2, seed=6, sources=("synthetic", "bikes"))
    _ = [other[i] for i in range(2)]                       # the same indices of another dataset are kept first: a key without
    hits = ITEM_CACHE.hits                                 # the dataset's identity would hand them to the run below
    filling = _train_s2svr(_dataset())                     # the first read of each item computes it, the other four are kept copies
    assert len(ITEM_CACHE) == 4 and ITEM_CACHE.hits - hits == 4
    kept = _train_s2svr(_dataset())                        # every read a kept copy, after a whole run trained on them
    assert ITEM_CACHE.hits - hits == 10
    for losses, weights in (filling, kept):
        assert losses == computed[0]
        assert weights.keys() == computed[1].keys()
        for name, w in weights.items(): assert torch.equal(w, computed[1][name]), name


def test_items_read_back_unchanged_after_a_caller_changes_them():
    ITEM_CACHE.clear()
    data = _dataset()
    reference = _dataset(cache_items=False)[1]
    for _ in range(3):
        item = data[1]
        for key in ("lq", "hq", "flow_fwd", "occ_bwd"):
            assert torch.equal(item[key], reference[key]), key
            item[key].add_(1.0)


def test_byte_bound_is_respected(monkeypatch):
    ITEM_CACHE.clear()
    data = RestorationDataset("denoise", n_frames=3, crop=24, length=5, seed=9, sigma=30)
    size = sum(v.nbytes for v in data[0].values() if isinstance(v, torch.Tensor))
    ITEM_CACHE.clear()
    monkeypatch.setattr(ITEM_CACHE, "max_bytes", int(2.5 * size))
    try:
        for i in range(5): data[i]
        assert len(ITEM_CACHE) == 2 and ITEM_CACHE.bytes == 2 * size <= ITEM_CACHE.max_bytes
        assert (data.identity, 4) in ITEM_CACHE and (data.identity, 0) not in ITEM_CACHE
    finally:
        ITEM_CACHE.clear()


class _FreshCrop(RestorationDataset):
    "A crop offset drawn from the global generator at every read: random per call."
    def __getitem__(self, index):
        item = super().__getitem__(index)
        shift = int(torch.randint(1, 4, ()))
        return {**item, "hq": item["hq"].roll(shift, dims=-1)}

    def _item(self, index):
        item = super()._item(index)
        item["lq"] = item["lq"] + torch.rand(()) * 1e-3
        return item


def test_a_dataset_random_per_call_is_never_kept():
    ITEM_CACHE.clear()
    data = _FreshCrop("denoise", n_frames=3, crop=24, length=3, seed=9, sigma=30)
    reads = ITEM_CACHE.hits + ITEM_CACHE.misses
    first, second = data[0], data[0]
    assert not torch.equal(first["lq"], second["lq"])
    assert len(ITEM_CACHE) == 0 and ITEM_CACHE.hits + ITEM_CACHE.misses == reads
