"""The one training loop, its engines, checkpoints and run context."""
from .context import RunContext, machine_info
from .engines import ClosureEngine, FusedEngine, TorchEngine, fused_unsupported_reason
from .hooks import BoostDecay, GradClip, Hook, MaskHook, SnapshotHook, StepContext
from .loop import LoopSettings, PhaseState, evaluate, train_phase
from .optimizers import make_optimizer, optimizer_names
from .stream import SampleStream

__all__ = ["RunContext", "machine_info", "ClosureEngine", "FusedEngine", "TorchEngine", "fused_unsupported_reason",
           "LoopSettings", "PhaseState", "evaluate", "train_phase", "SampleStream", "BoostDecay", "GradClip", "Hook", "MaskHook", "SnapshotHook",
           "StepContext", "make_optimizer", "optimizer_names"]
