"""restorekit: a notebook-first teaching and ablation workbench for flow-guided video restoration."""
__version__ = "0.1.0"

from .core import *
from .guard import *
from .video import *
from .warp import *
from .synthetic import *
from .degrade import *
from .metrics import *
from .flow import *
from .data import *
from .plots import *
from .train import *
from .costvol import *
from .temporal import *
from .quant import *
from .entropy import *
from .flownet import *
from .blindspot import *
from .kinds import *
from .stbn import *
from .s2svr import *
from .registry import *
from .store import *
from .sweep import *
from .denoise import *
from .pwcflow import *
from .unsupflow import *
from .ncfl import *
from .jffra import *
from .viewers import *
from .checkpoint import *
from .restore import *
from .exp_jffra import *
from .exp_s2svr import *
from .exp_ncfl import *
from .exp_stbn import *
