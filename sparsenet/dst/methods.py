"""The dynamic sparse training methods, as compositions of a drop rule, a growth score, a
drop-fraction decay and (optionally) a density trajectory — RigL is SET with another growth score.

=============  ==============  ===========  =========  =======  ======================================
method         growth          drop         ζ decay    new w    paper
=============  ==============  ===========  =========  =======  ======================================
static         none            none         —          —        FixProb: the initial ER pattern, fixed
set            random          set          constant   random   Mocanu et al. 2018, arXiv:1707.04780
rigl           gradient        magnitude    cosine     zero     Evci et al. 2020, arXiv:1911.11134
snfs           momentum        magnitude    cosine     zero     Dettmers & Zettlemoyer 2019, arXiv:1907.04840
grow-prune     gradient        magnitude    cosine     zero     seed 003 slide 2; cf. GraNet, arXiv:2106.10404
=============  ==============  ===========  =========  =======  ======================================

SET starts new weights at small random values, as the paper's code does: with its signed drop rule
and zero starts, a new weight whose gradient stays 0 would never move and never be dropped.

Growth scores (`sparsenet.dst.growth`): ``random`` = uniform among the inactive connections;
``gradient`` = the largest |∂L/∂w| of the update step's batch; ``momentum`` = the largest
|Σ_j β^(t-j) ∂L/∂w_j| over a window of batches before the update (SNFS's momentum of the inactive
connections, estimated without a dense buffer), and the regrowth is redistributed across layers in
proportion to each layer's mean |momentum| of its live weights (SNFS §3).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..registry import Registry

GROWTHS = ("none", "random", "gradient", "momentum")


@dataclass(frozen=True)
class DSTMethod:
    name: str
    growth: str
    drop: str  # default drop rule (`sparsenet.dst.drop.DROP_RULES`); "none" for static
    decay: str  # default ζ decay (`sparsenet.dst.rates.DECAYS`)
    paper: str
    init: str = "zero"  # how new connections start (`sparsenet.dst.hook.INITS`)
    redistribute: bool = False  # SNFS: regrowth across layers by mean momentum
    trajectory: bool = False  # grow-then-prune: the layers' sizes follow a density schedule

    @property
    def rewires(self) -> bool:
        return self.growth != "none"


DST_METHODS: Registry[DSTMethod] = Registry("DST method")


def register_method(method: DSTMethod) -> DSTMethod:
    DST_METHODS.register(method.name, method)
    return method


register_method(DSTMethod("static", "none", "none", "constant", "FixProb control: a fixed Erdős–Rényi pattern"))
register_method(DSTMethod("set", "random", "set", "constant", "Mocanu et al. 2018, arXiv:1707.04780",
                          init="random"))
register_method(DSTMethod("rigl", "gradient", "magnitude", "cosine", "Evci et al. 2020, arXiv:1911.11134"))
register_method(DSTMethod("snfs", "momentum", "magnitude", "cosine", "Dettmers & Zettlemoyer 2019, arXiv:1907.04840",
                          redistribute=True))
register_method(DSTMethod("grow-prune", "gradient", "magnitude", "cosine",
                          "seed 003 slide 2 (sparse -> dense -> pruned); cf. Liu et al. 2021, arXiv:2106.10404",
                          trajectory=True))

__all__ = ["DSTMethod", "DST_METHODS", "GROWTHS", "register_method"]
