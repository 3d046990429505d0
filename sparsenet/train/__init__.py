"""The one training loop, its engines, checkpoints and run context."""
from .context import RunContext, machine_info
from .engines import FusedEngine, TorchEngine, fused_unsupported_reason
from .hooks import MaskHook
from .loop import LoopSettings, PhaseState, evaluate, train_phase
from .stream import SampleStream

__all__ = ["RunContext", "machine_info", "FusedEngine", "TorchEngine", "fused_unsupported_reason",
           "LoopSettings", "PhaseState", "evaluate", "train_phase", "SampleStream", "MaskHook"]
