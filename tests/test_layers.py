"""restorekit.layers as the models use it: every model's residual blocks are the one `ResidualBlock` under the
state-dict keys its checkpoints hold, a checkpoint written by the training loop loads back into a fresh model,
every model's flows between neighbours come from `neighbour_flows`, and `evaluation_mode` restores the mode
after an error inside a model."""
import pytest
import torch

import restorekit as rk
from restorekit.layers import ResidualBlock, evaluation_mode, neighbour_flows
from restorekit.train import load_checkpoint, save_checkpoint


def _models():
    torch.manual_seed(0)
    return {
        "s2svr": (rk.S2SVR(rk.S2SVRConfig(channels=8, flow_source="zero")), "encoder.blocks.0.0"),
        "sliding": (rk.build_model(rk.S2SVRConfig(channels=8, flow_source="zero", propagation="sliding_window")), "extract.2"),
        "jffra": (rk.JFFRA(rk.JFFRAConfig(channels=8)), "encoder.0.body"),
        "stbn": (rk.STBN(rk.STBNConfig(channels=8)), "srfe.blocks.0"),
    }


@pytest.mark.parametrize("name", ["s2svr", "sliding", "jffra", "stbn"])
def test_residual_blocks_are_shared_and_keep_their_checkpoint_keys(name, tmp_path):
    model, prefix = _models()[name]
    blocks = [m for m in model.modules() if type(m).__name__.endswith("Block") and "Res" in type(m).__name__]
    assert blocks and all(type(b) is ResidualBlock for b in blocks)
    keys = model.state_dict().keys()
    for leaf in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"):
        assert f"{prefix}.{leaf}" in keys, (name, prefix, leaf)
    save_checkpoint(tmp_path / "model.pt", model)
    torch.manual_seed(1)
    fresh = type(model)(model.cfg)
    fresh.load_state_dict(load_checkpoint(tmp_path / "model.pt")["model"])
    for key, value in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_models_take_their_flows_from_neighbour_flows():
    clip = torch.rand(1, 3, 3, 24, 32, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    stbn = rk.STBN(rk.STBNConfig(channels=8, flow_source="dis_medium", flow_refinement=False))
    ncfl = rk.NCFL(rk.NCFLConfig(channels=8, flow_source="dis_medium", bidirectional=True))
    s2svr = rk.S2SVR(rk.S2SVRConfig(channels=8, flow_source="dis_medium", scale=1, task="compressed"))
    to_prev, to_next = neighbour_flows(clip, "dis_medium")
    for got in (stbn.estimate_flows(clip), ncfl.estimate_flows(clip)):
        assert torch.equal(got[0], to_prev) and torch.equal(got[1], to_next)
    assert torch.equal(torch.stack(s2svr.flows(clip), 1), to_prev)
    jffra_prev, jffra_next = rk.initial_flows(clip, "dis_medium")
    assert torch.equal(jffra_prev[:, 1:], to_prev) and torch.equal(jffra_next[:, :-1], to_next)
    assert jffra_prev[:, 0].abs().sum() == 0 and jffra_next[:, -1].abs().sum() == 0


def test_evaluation_mode_restores_training_after_a_failing_forward():
    model = rk.S2SVR(rk.S2SVRConfig(channels=8, flow_source="zero")).train()
    with pytest.raises(rk.ShapeError):
        with evaluation_mode(model), torch.no_grad():
            model(torch.rand(1, 2, 1, 8, 8))           # one channel: refused by the model's forward
    assert model.training and all(m.training for m in model.modules())


def test_registry_rows_in_the_older_flow_words_still_register():
    "A table row written with a config's older field name and value validates (through `from_dict`); a bad value still names the row."
    from restorekit.core import ConfigError
    from restorekit.registry import AblationTable, Variant, get_table
    t4 = get_table("s2svr_t4")
    older = AblationTable("older_words", "S2SVR", "t", "psnr", True, None, [Variant("raft_supervised", {"flow_net": "raft", "flow_training": "supervised"})],
                          t4.presets, config=rk.S2SVRConfig)
    assert rk.S2SVRConfig.from_dict(older.rows[0].overrides).flow_source == "raft"
    with pytest.raises(ConfigError, match="row 'typo'.*flow_source: unknown value 'raftt'"):
        AblationTable("older_words", "S2SVR", "t", "psnr", True, None, [Variant("typo", {"flow_net": "raftt"})], t4.presets, config=rk.S2SVRConfig)
