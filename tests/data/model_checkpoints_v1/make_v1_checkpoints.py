"""Write one tiny model checkpoint of every kind, and the outputs the saved models give, into the folder argv[1].

The files in this folder were written by restorekit at commit 01217d5, when the model kinds were
registered inside restorekit/checkpoint.py:
    git archive 01217d5 restorekit | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/data/model_checkpoints_v1/make_v1_checkpoints.py tests/data/model_checkpoints_v1
tests/test_checkpoint_compat.py checks that the installed code still loads them and computes the same outputs.
"""
import sys, torch
from pathlib import Path
import restorekit
from restorekit.checkpoint import save_model
from restorekit.flownet import PyramidFlowNet
from restorekit.jffra import JFFRA, JFFRAConfig
from restorekit.ncfl import NCFL, NCFLConfig
from restorekit.pwcflow import PWCLite
from restorekit.s2svr import S2SVR, S2SVRConfig
from restorekit.stbn import STBN, STBNConfig
out = Path(sys.argv[1])
torch.manual_seed(0)
pair = (torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16))
clip = torch.rand(1, 3, 3, 16, 16)
models = {
  "stbn": (STBN(STBNConfig(channels=4, n_blocks=1, srfe_blocks=1, flow="dis", flow_refinement=False)), "clip"),
  "s2svr": (S2SVR(S2SVRConfig(channels=4, gru_layers=1, flow_net="pwclite"), flow_net=PWCLite(levels=2, channels=(4, 4), radius=1, width=4, hidden=(4,), context=False)), "clip"),
  "jffra": (JFFRA(JFFRAConfig(channels=4, levels=1, window_size=4, radius=1)), "clip"),
  "ncfl": (NCFL(NCFLConfig(channels=4, latent_channels=4, flow="dis", mvr_channels=4, attention_channels=4)), "clip"),
  "pwclite": (PWCLite(levels=2, channels=(4, 4), radius=1, width=4, hidden=(4, 4), iters=2, context=False), "pair"),
  "pyramid_flow": (PyramidFlowNet(levels=3, widths=(8, 4), kernel_size=3), "pair"),
}
expected = {"pair": pair, "clip": clip}
for kind, (model, inp) in models.items():
    for p in model.parameters():
        with torch.no_grad(): p.add_(0.01 * torch.randn_like(p))   # no zero-initialised output layer: outputs depend on every weight
    model.eval()
    with torch.no_grad():
        y = model(*pair) if inp == "pair" else model(clip)
    y = y.restored if hasattr(y, "restored") else y
    save_model(out / f"{kind}.pt", model, data={"made_by": "restorekit 01217d5"}, preset="test")
    expected[kind] = (inp, y)
torch.save(expected, out / "expected_outputs.pt")
print({k: (out / f"{k}.pt").stat().st_size for k in models})
