"""Sparse NEAT-style genomes: a list of live connections between numbered nodes.

Node ids: ``0 .. n_in-1`` the inputs (0 is the bias), ``n_in, n_in+1`` the two outputs, then hidden
nodes numbered by the run's `Innovations` as they are created. A genome holds only **live**
connections, each with an innovation number (the same structural mutation in two genomes gets the
same number, so genomes align for the compatibility distance of speciation). Mutations, each
returning a new valid genome:

- `perturb_weights`: Gaussian steps on the weights (a few replaced outright), clamped;
- `add_connection`: a new connection between two nodes not yet connected (recurrent ones allowed;
  inputs are never destinations);
- `remove_connection`: delete a live connection; hidden nodes left with none are dropped
  (the evolutionary cousin of SET's drop step);
- `add_node`: split a connection a→b into a→new (weight 1) and new→b (the old weight), NEAT's way
  of growing depth from a minimal topology.

`check_genome` states the invariants; `pack` turns a population into the CSR arrays the simulator
runs (`sparsenet.search.robot.run_population`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

WEIGHT_LIMIT = 8.0


@dataclass
class Innovations:
    """The run's structural history: connection (src, dst) → innovation number, and split
    connection innovation → the hidden node it created (so repeated mutations share numbers)."""

    n_in: int
    n_out: int
    connections: dict = field(default_factory=dict)
    splits: dict = field(default_factory=dict)
    next_node: int = -1

    def __post_init__(self):
        if self.next_node < 0:
            self.next_node = self.n_in + self.n_out

    def connection(self, src: int, dst: int) -> int:
        key = (int(src), int(dst))
        if key not in self.connections:
            self.connections[key] = len(self.connections)
        return self.connections[key]

    def split_node(self, innovation: int, taken: set) -> int:
        node = self.splits.get(int(innovation))
        if node is None or node in taken:
            node = self.next_node
            self.next_node += 1
            self.splits.setdefault(int(innovation), node)
        return node

    def state(self) -> dict:
        return {"n_in": self.n_in, "n_out": self.n_out, "next_node": self.next_node,
                "connections": [[s, d, i] for (s, d), i in self.connections.items()],
                "splits": [[k, v] for k, v in self.splits.items()]}

    @classmethod
    def from_state(cls, s: dict) -> "Innovations":
        return cls(s["n_in"], s["n_out"], {(a, b): i for a, b, i in s["connections"]},
                   {k: v for k, v in s["splits"]}, s["next_node"])


@dataclass
class Genome:
    """A sparse controller: its hidden node ids and its live connections (src, dst, weight, innovation)."""

    n_in: int
    n_out: int
    hidden: list[int]        # hidden node ids, ascending
    src: np.ndarray          # int64 (C,)
    dst: np.ndarray          # int64 (C,)
    weight: np.ndarray       # float64 (C,)
    innovation: np.ndarray   # int64 (C,)

    @property
    def n_connections(self) -> int:
        return int(self.src.shape[0])

    @property
    def n_nodes(self) -> int:
        return self.n_in + self.n_out + len(self.hidden)

    def copy(self) -> "Genome":
        return Genome(self.n_in, self.n_out, list(self.hidden), self.src.copy(), self.dst.copy(),
                      self.weight.copy(), self.innovation.copy())

    def state(self) -> dict:
        return {"n_in": self.n_in, "n_out": self.n_out, "hidden": self.hidden, "src": self.src.tolist(),
                "dst": self.dst.tolist(), "weight": self.weight.tolist(), "innovation": self.innovation.tolist()}

    @classmethod
    def from_state(cls, s: dict) -> "Genome":
        return cls(s["n_in"], s["n_out"], list(s["hidden"]), np.asarray(s["src"], np.int64).reshape(-1),
                   np.asarray(s["dst"], np.int64).reshape(-1), np.asarray(s["weight"], np.float64).reshape(-1),
                   np.asarray(s["innovation"], np.int64).reshape(-1))

    def nodes(self) -> list[int]:
        return list(range(self.n_in + self.n_out)) + self.hidden


def initial_genome(innov: Innovations, rng: np.random.Generator, density: float = 1.0) -> Genome:
    """NEAT's minimal topology: no hidden nodes; each input→output connection present with
    probability `density` (all of them at 1), weights N(0, 1)."""
    pairs = [(s, innov.n_in + o) for s in range(innov.n_in) for o in range(innov.n_out)]
    keep = [p for p in pairs if density >= 1.0 or rng.random() < density]
    src = np.array([p[0] for p in keep], np.int64)
    dst = np.array([p[1] for p in keep], np.int64)
    inn = np.array([innov.connection(s, d) for s, d in keep], np.int64)
    return Genome(innov.n_in, innov.n_out, [], src, dst, rng.standard_normal(len(keep)), inn)


def check_genome(g: Genome) -> list[str]:
    """The invariants a genome must hold (empty when valid)."""
    bad = []
    nodes = set(g.nodes())
    if len(set(g.hidden)) != len(g.hidden) or g.hidden != sorted(g.hidden):
        bad.append("hidden node ids must be distinct and ascending")
    if any(h < g.n_in + g.n_out for h in g.hidden):
        bad.append("a hidden id collides with an input or output id")
    n = g.n_connections
    if not (g.dst.shape == g.weight.shape == g.innovation.shape == (n,)):
        bad.append("connection arrays differ in length")
        return bad
    if any(int(s) not in nodes for s in g.src) or any(int(d) not in nodes for d in g.dst):
        bad.append("a connection names a node the genome does not have")
    if (g.dst < g.n_in).any():
        bad.append("an input is a connection's destination")
    pairs = set(zip(g.src.tolist(), g.dst.tolist()))
    if len(pairs) != n:
        bad.append("two connections join the same pair of nodes")
    if len(set(g.innovation.tolist())) != n:
        bad.append("two connections share an innovation number")
    if not np.isfinite(g.weight).all() or (np.abs(g.weight) > WEIGHT_LIMIT).any():
        bad.append(f"weights must be finite and within ±{WEIGHT_LIMIT:g}")
    touched = set(g.src.tolist()) | set(g.dst.tolist())
    if any(h not in touched for h in g.hidden):
        bad.append("a hidden node has no connection")
    return bad


# ---- mutations -------------------------------------------------------------------------------------
def perturb_weights(g: Genome, rng: np.random.Generator, *, rate: float = 0.9, power: float = 0.5,
                    replace: float = 0.1) -> Genome:
    """Each weight, with probability `rate`: replaced by N(0, 1) with probability `replace`, else
    moved by N(0, power²); all clamped to ±WEIGHT_LIMIT."""
    g = g.copy()
    n = g.n_connections
    touch = rng.random(n) < rate
    fresh = touch & (rng.random(n) < replace)
    step = rng.normal(0.0, power, n)
    g.weight = np.where(fresh, rng.standard_normal(n), np.where(touch, g.weight + step, g.weight))
    np.clip(g.weight, -WEIGHT_LIMIT, WEIGHT_LIMIT, out=g.weight)
    return g


def add_connection(g: Genome, rng: np.random.Generator, innov: Innovations, tries: int = 20) -> Genome:
    """A new connection between a random source (any node) and a random non-input destination not
    yet joined; the genome unchanged when `tries` draws find none free."""
    nodes = g.nodes()
    dests = nodes[g.n_in:]
    have = set(zip(g.src.tolist(), g.dst.tolist()))
    for _ in range(tries):
        s, d = nodes[rng.integers(len(nodes))], dests[rng.integers(len(dests))]
        if (s, d) not in have:
            out = g.copy()
            out.src = np.append(out.src, s)
            out.dst = np.append(out.dst, d)
            out.weight = np.append(out.weight, rng.standard_normal())
            out.innovation = np.append(out.innovation, innov.connection(s, d))
            return out
    return g.copy()


def _drop_orphans(g: Genome) -> Genome:
    touched = set(g.src.tolist()) | set(g.dst.tolist())
    g.hidden = [h for h in g.hidden if h in touched]
    return g


def remove_connection(g: Genome, rng: np.random.Generator) -> Genome:
    """Delete one live connection at random (hidden nodes left with no connection go too)."""
    if g.n_connections == 0:
        return g.copy()
    k = int(rng.integers(g.n_connections))
    keep = np.arange(g.n_connections) != k
    out = Genome(g.n_in, g.n_out, list(g.hidden), g.src[keep], g.dst[keep], g.weight[keep], g.innovation[keep])
    return _drop_orphans(out)


def add_node(g: Genome, rng: np.random.Generator, innov: Innovations) -> Genome:
    """Split a random connection a→b (weight w) into a→h (weight 1) and h→b (weight w)."""
    if g.n_connections == 0:
        return g.copy()
    k = int(rng.integers(g.n_connections))
    a, b, w = int(g.src[k]), int(g.dst[k]), float(g.weight[k])
    h = innov.split_node(int(g.innovation[k]), set(g.nodes()))
    keep = np.arange(g.n_connections) != k
    out = Genome(g.n_in, g.n_out, sorted(g.hidden + [h]),
                 np.concatenate([g.src[keep], [a, h]]).astype(np.int64),
                 np.concatenate([g.dst[keep], [h, b]]).astype(np.int64),
                 np.concatenate([g.weight[keep], [1.0, w]]),
                 np.concatenate([g.innovation[keep], [innov.connection(a, h), innov.connection(h, b)]]).astype(np.int64))
    return _drop_orphans(out)


@dataclass(frozen=True)
class MutationRates:
    """Per-offspring probabilities of each mutation operator (and the weight step's σ)."""

    weights: float = 0.8            # probability an offspring's weights are perturbed
    weight_power: float = 0.5       # σ of a weight step
    add_connection: float = 0.1
    remove_connection: float = 0.05
    add_node: float = 0.03
    crossover: float = 0.7          # probability an offspring is the crossover of two parents of its species


def mutate(g: Genome, rng: np.random.Generator, innov: Innovations, rates: MutationRates) -> Genome:
    """An offspring: each operator applied with its probability (weights last, so new structure is
    perturbed too); at least one operator always applies."""
    out = g
    changed = False
    if rng.random() < rates.add_node:
        out, changed = add_node(out, rng, innov), True
    if rng.random() < rates.add_connection:
        out, changed = add_connection(out, rng, innov), True
    if rng.random() < rates.remove_connection:
        out, changed = remove_connection(out, rng), True
    if rng.random() < rates.weights or not changed:
        out = perturb_weights(out, rng, power=rates.weight_power)
    return out if out is not g else g.copy()


def crossover(fit: Genome, other: Genome, rng: np.random.Generator) -> Genome:
    """NEAT's crossover, aligned by innovation number: a connection both parents have takes either
    parent's weight at random; the ones only one parent has come from `fit` (the better parent).
    The child's hidden nodes are those its connections use."""
    shared, pf, po = np.intersect1d(fit.innovation, other.innovation, assume_unique=True, return_indices=True)
    w = fit.weight.copy()
    take = rng.random(len(shared)) < 0.5
    w[pf[take]] = other.weight[po[take]]
    child = Genome(fit.n_in, fit.n_out, [], fit.src.copy(), fit.dst.copy(), w, fit.innovation.copy())
    first = fit.n_in + fit.n_out
    child.hidden = sorted({int(v) for v in np.concatenate([child.src, child.dst]) if v >= first})
    return child


# ---- packing for the simulator --------------------------------------------------------------------
def pack(genomes: list[Genome]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(node_ptr, in_ptr, src, weight): the population as one CSR matrix by destination node.

    Individual i's nodes are global indices ``node_ptr[i] + local``, local order inputs, outputs,
    hidden (ascending id). ``in_ptr[n]:in_ptr[n+1]`` are node n's incoming connections, whose global
    source indices are ``src`` and weights ``weight``."""
    sizes = np.array([g.n_nodes for g in genomes], np.int64)
    node_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    total = int(node_ptr[-1])
    counts = np.zeros(total, np.int64)
    srcs, dsts, ws = [], [], []
    for i, g in enumerate(genomes):
        local = {nid: j for j, nid in enumerate(g.nodes())}
        base = node_ptr[i]
        s = np.fromiter((local[int(v)] for v in g.src), np.int64, g.n_connections) + base
        d = np.fromiter((local[int(v)] for v in g.dst), np.int64, g.n_connections) + base
        srcs.append(s)
        dsts.append(d)
        ws.append(g.weight)
    src = np.concatenate(srcs) if srcs else np.zeros(0, np.int64)
    dst = np.concatenate(dsts) if dsts else np.zeros(0, np.int64)
    w = np.concatenate(ws) if ws else np.zeros(0)
    order = np.argsort(dst, kind="stable")
    np.add.at(counts, dst, 1)
    in_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return node_ptr, in_ptr, src[order].astype(np.int64), w[order].astype(np.float64)


__all__ = ["Genome", "Innovations", "MutationRates", "WEIGHT_LIMIT", "add_connection", "add_node", "check_genome",
           "crossover",
           "initial_genome", "mutate", "pack", "perturb_weights", "remove_connection"]
