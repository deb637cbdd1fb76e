"""restorekit: a notebook-first teaching and ablation workbench for flow-guided video restoration."""
__version__ = "0.1.0"

from .core import *
from .warp import *
