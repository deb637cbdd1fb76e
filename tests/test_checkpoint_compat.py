"""Model checkpoint files written before the kind registry moved out of restorekit.checkpoint still load
(the format and its kind names are unchanged) and give the outputs they gave when they were saved."""
from pathlib import Path

import pytest
import torch

from restorekit.checkpoint import load_model

V1 = Path(__file__).parent / "data" / "model_checkpoints_v1"
KINDS = ["stbn", "s2svr", "jffra", "ncfl", "pwclite", "pyramid_flow"]
ADDED_SINCE_V1 = {"ncfl": ["hyper_sigma_init", "output_base", "q_max", "q_min", "rate_to_features", "sigma_min", "sigma_step_ratio", "state_image", "temporal_features"], "s2svr": ["current_frame"], "jffra": ["flow_loss_masked", "flow_loss_target", "flow_loss_weight", "flow_lr_factor", "flow_pretrain_steps", "fusion", "per_frame_features", "position_bias", "refined_base", "train_inner_frames"]}  # config fields newer than the files: filled in with their defaults, which keep the old behaviour


@pytest.mark.parametrize("kind", KINDS)
def test_v1_checkpoint_loads_and_computes_the_same(kind):
    expected = torch.load(V1 / "expected_outputs.pt", weights_only=True)
    loaded = load_model(V1 / f"{kind}.pt", expected_kind=kind)
    assert loaded.kind == kind and loaded.data == {"made_by": "restorekit 01217d5"} and loaded.defaulted == ADDED_SINCE_V1.get(kind, [])
    inp, output = expected[kind]
    with torch.no_grad():
        got = loaded.model(*expected["pair"]) if inp == "pair" else loaded.model(expected["clip"])
    got = got.restored if hasattr(got, "restored") else got
    torch.testing.assert_close(got, output, atol=1e-5, rtol=1e-5)


def test_every_registered_kind_has_an_old_file():
    from restorekit.kinds import MODEL_KINDS
    assert sorted(MODEL_KINDS) == sorted(KINDS)
