"""The one hook protocol: every method gets the one StepContext at hand-counted steps, stop() ends a
phase early, engines refuse hooks they cannot run in one line, and every hook class is a Hook."""
import ast
import importlib
import json
from pathlib import Path

import pytest
import torch

import sparsenet
from sparsenet.errors import SparsenetError
from sparsenet.models import MLP
from sparsenet.optim import SaddleFreeNewton
from sparsenet.train import (ClosureEngine, FusedEngine, Hook, LoopSettings, PhaseState, RunContext, SampleStream,
                             SnapshotHook, StepContext, TorchEngine, train_phase)
from sparsenet.train.hooks import HOOK_METHODS


class Recorder(Hook):
    """Records (method, c.step) and the context objects it was given."""

    def __init__(self, stop_at: tuple[str, int] | None = None):
        self.calls, self.contexts, self.stop_at = [], [], stop_at

    def _rec(self, name, c):
        self.calls.append((name, c.step))
        self.contexts.append(c)
        if self.stop_at == (name, c.step):
            c.stop()

    def on_start(self, c):
        self._rec("on_start", c)

    def after_backward(self, c):
        self._rec("after_backward", c)

    def after_step(self, c):
        self._rec("after_step", c)

    def on_eval(self, c, metrics):
        assert set(metrics) == {"loss", "accuracy"}
        self._rec("on_eval", c)

    def on_end(self, c):
        self._rec("on_end", c)


class LoopOnly(Hook):
    """Only loop-level methods: the fused engine can run it."""

    def __init__(self, stop_at_eval: int | None = None):
        self.calls, self.stop_at_eval = [], stop_at_eval

    def on_start(self, c):
        self.calls.append(("on_start", c.step))

    def on_eval(self, c, metrics):
        self.calls.append(("on_eval", c.step))
        if c.step == self.stop_at_eval:
            c.stop()

    def on_end(self, c):
        self.calls.append(("on_end", c.step))


def _data(n=40, d=6, k=3):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, d, generator=g), torch.randint(0, k, (n,), generator=g)


def _net():
    torch.manual_seed(0)
    return MLP([6, 5, 3], "tanh")


def _phase(tmp_path, engine, hooks, steps, *, start=0, batch=2, log_every=3, eval_every=3, name="r"):
    X, Y = _data()
    ctx = RunContext(tmp_path / name, progress=False)
    state = train_phase(ctx, PhaseState("p", step=start), engine, (X, Y), SampleStream(len(X), 0),
                        settings=LoopSettings(steps=steps, batch_size=batch, log_every=log_every,
                                              eval_every=eval_every, checkpoint_every=0),
                        stream_start=0, hooks=hooks, eval_data=(X, Y))
    ctx.close()
    lines = [json.loads(x) for x in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
    return state, ctx, lines


def test_every_method_gets_the_one_context_at_the_right_steps(tmp_path):
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    rec = Recorder()
    state, ctx, _ = _phase(tmp_path, TorchEngine(net, opt), [rec], steps=7)
    # 7 steps, evaluations at 3 and 6 (none at the last step): counted by hand
    expected = [("on_start", 0)]
    for s in range(7):
        expected += [("after_backward", s), ("after_step", s + 1)]
        if s + 1 in (3, 6):
            expected.append(("on_eval", s + 1))
    expected.append(("on_end", 7))
    assert rec.calls == expected and state.step == 7
    c = rec.contexts[0]
    assert all(x is c for x in rec.contexts)  # one context for the whole phase
    assert isinstance(c, StepContext) and c.model is net and c.optimizer is opt and c.run is ctx and c.phase == "p"


def test_a_resumed_phase_counts_from_its_step(tmp_path):
    rec = Recorder()
    net = _net()
    _phase(tmp_path, TorchEngine(net, torch.optim.SGD(net.parameters(), lr=0.1)), [rec], steps=7, start=4,
           eval_every=0)
    assert rec.calls == [("on_start", 4), ("after_backward", 4), ("after_step", 5), ("after_backward", 5),
                         ("after_step", 6), ("after_backward", 6), ("after_step", 7), ("on_end", 7)]


def test_stop_after_a_step_ends_the_phase_there(tmp_path):
    net = _net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    rec = Recorder(stop_at=("after_step", 4))
    state, _, lines = _phase(tmp_path, TorchEngine(net, opt), [rec], steps=20)
    assert state.step == 4 and rec.calls[-1] == ("on_end", 4)
    assert [n for n, _ in rec.calls].count("after_step") == 4
    train = [(x["step"], x["samples"]) for x in lines if x["event"] == "train"]
    assert train == [(3, 6), (4, 8)]  # the log boundary at 3, then the stopped step's line


def test_stop_in_on_eval_ends_a_fused_phase_at_that_evaluation(tmp_path):
    hook = LoopOnly(stop_at_eval=5)
    state, _, lines = _phase(tmp_path, FusedEngine(_net(), 0.05), [hook], steps=50, batch=1, log_every=0,
                             eval_every=5)
    assert state.step == 5 and hook.calls == [("on_start", 0), ("on_eval", 5), ("on_end", 5)]
    assert [x["step"] for x in lines if x["event"] == "eval"] == [5]


def test_fused_engine_refuses_a_per_step_hook_in_one_line_before_training(tmp_path):
    net = _net()
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(SparsenetError) as e:
        _phase(tmp_path, FusedEngine(net, 0.05), [Recorder()], steps=5, batch=1)
    msg = str(e.value)
    assert "\n" not in msg and "Recorder" in msg and "after_backward, after_step" in msg and "fused" in msg
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    with pytest.raises(SparsenetError, match="overrides after_backward, after_step"):
        FusedEngine(_net(), 0.05, hooks=[Recorder()])


def test_closure_engine_refuses_after_backward_for_a_second_order_optimizer():
    net = _net()

    class Grad(Hook):
        def after_backward(self, c):
            pass

    with pytest.raises(SparsenetError, match="overrides after_backward, which the closure engine"):
        ClosureEngine(net, SaddleFreeNewton(list(net.parameters()), lr=1.0, damping=0.1), hooks=[Grad()])
    ClosureEngine(net, torch.optim.SGD(net.parameters(), lr=0.1), hooks=[Grad()])  # first order: it can


def test_a_hook_that_is_not_a_Hook_is_refused_in_one_line(tmp_path):
    class Duck:
        def after_step(self, c):
            pass

    net = _net()
    with pytest.raises(SparsenetError, match="Duck is not a sparsenet.train.Hook; subclass Hook"):
        _phase(tmp_path, TorchEngine(net, torch.optim.SGD(net.parameters(), lr=0.1)), [Duck()], steps=2)


def test_closure_engine_with_sgd_trains_exactly_like_the_torch_engine(tmp_path):
    a, b = _net(), _net()
    ra, rb = Recorder(), Recorder()
    _phase(tmp_path, TorchEngine(a, torch.optim.SGD(a.parameters(), lr=0.1, momentum=0.9)), [ra], 9, name="a")
    _phase(tmp_path, ClosureEngine(b, torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9)), [rb], 9, name="b")
    assert ra.calls == rb.calls
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_snapshot_hook_copies_the_weights_at_its_step(tmp_path):
    a, b = _net(), _net()
    snap = SnapshotHook(3)
    _phase(tmp_path, TorchEngine(a, torch.optim.Adam(a.parameters(), lr=0.01)), [snap], 8, name="a")
    _phase(tmp_path, TorchEngine(b, torch.optim.Adam(b.parameters(), lr=0.01)), [], 3, name="b")
    for k, v in b.state_dict().items():
        torch.testing.assert_close(snap.state[k], v, rtol=0, atol=0)
    assert not torch.equal(snap.state["layers.0.weight"], a.state_dict()["layers.0.weight"])  # a trained on


def test_scheduled_pruning_one_shot_fires_at_step_0_through_the_loop(tmp_path):
    from sparsenet.prune import ScheduledPruning
    from sparsenet.schedules import one_shot

    net = _net()
    hook = ScheduledPruning(one_shot(0.6), criterion="magnitude", scope="global")
    _phase(tmp_path, TorchEngine(net, torch.optim.SGD(net.parameters(), lr=0.1)), [hook], 4, eval_every=0)
    assert [h["step"] for h in hook.history] == [0] and hook.history[0]["live"] == 18  # 0.4 * (6*5 + 5*3)
    params = dict(net.named_parameters())
    assert sum(int((params[k] != 0).sum()) for k in hook.masks) == hook.history[0]["live"]


def _hook_classes():
    """(module, class name) of every class in the package that defines a protocol method."""
    root = Path(sparsenet.__file__).parent
    found = []
    for f in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.FunctionDef) and b.name in HOOK_METHODS for b in node.body):
                mod = ".".join(f.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
                found.append((mod, node.name))
    return found


def test_every_hook_class_in_the_package_subclasses_Hook():
    found = _hook_classes()
    names = {n for _, n in found}
    assert {"MaskHook", "ScheduledPruning", "MovementAccumulator", "SnapshotHook", "EarlyBirdHook"} <= names
    bad = [f"{m}.{n}" for m, n in found if not issubclass(getattr(importlib.import_module(m), n), Hook)]
    assert not bad, f"hook classes not subclassing Hook: {bad}"
