"""The loop's chunks: split for progress (>= 2 updates a second) without changing any result, and
one plain line per phase when stderr is not a terminal."""
import doctest
import json

import pytest
import torch

import sparsenet.train.loop as loop
import sparsenet.train.progress as progress
from sparsenet.models import MLP
from sparsenet.nn import sparsify
from sparsenet.train import FusedEngine, LoopSettings, PhaseState, RunContext, SampleStream, TorchEngine, train_phase


def test_progress_docstring_examples_run():
    assert doctest.testmod(progress, raise_on_error=False).failed == 0


def _model():
    torch.manual_seed(0)
    model = MLP([20, 16, 5], "tanh")
    m = torch.rand(16, 20) < 0.5
    with torch.no_grad():
        model.layers[0].weight.mul_(m)
    return sparsify(model, {"layers.0.weight": m})


def _run(tmp_path, name, engine_kind, chunk_seconds, batch=1):
    torch.manual_seed(1)
    X, Y = torch.rand(200, 20), torch.randint(0, 5, (200,))
    model = _model()
    engine = FusedEngine(model, 0.05) if engine_kind == "fused" else \
        TorchEngine(model, torch.optim.Adam(model.parameters(), lr=1e-2))
    ctx = RunContext(tmp_path / name, progress=False)
    settings = LoopSettings(steps=300, batch_size=batch, log_every=70, checkpoint_every=0,
                            chunk_seconds=chunk_seconds)
    state = train_phase(ctx, PhaseState("p"), engine, (X, Y), SampleStream(200, 0), settings=settings,
                        stream_start=0)
    ctx.close()
    lines = [json.loads(l) for l in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
    return model, [{k: v for k, v in r.items() if k != "seconds"} for r in lines], state


@pytest.mark.parametrize("engine_kind, batch", [("fused", 1), ("torch", 4)])
def test_chunking_never_changes_weights_or_logged_losses(tmp_path, engine_kind, batch, monkeypatch):
    chunks = []
    real = progress.next_chunk

    def spy(cap, done, seconds, target=progress.CHUNK_SECONDS):
        chunks.append(done)
        return real(cap, done, seconds, target)

    monkeypatch.setattr(progress, "next_chunk", spy)
    a, la, sa = _run(tmp_path, "one-step-chunks", engine_kind, 0.0, batch)   # every step its own chunk
    n_single = len(chunks)
    b, lb, sb = _run(tmp_path, "long-chunks", engine_kind, 1e9, batch)       # only the log boundaries
    assert n_single == 300 and len(chunks) - n_single < 300 // 4
    assert sa.step == sb.step == 300 and sa.loss_sum == sb.loss_sum
    for (k, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), k
    assert la == lb and [r["step"] for r in la] == [70, 140, 210, 280, 300]


class _SlowEngine:
    """Steps that take 10 ms of a fake clock each."""

    def __init__(self, clock):
        self.clock, self.model, self.calls = clock, torch.nn.Linear(1, 1), []

    def train(self, X, Y, order, batch_size, loss_start=0.0, *, context=None, hooks=()):
        n = order.numel() // batch_size
        self.clock[0] += 0.01 * n
        self.calls.append(n)
        return loss_start + n, n


def test_bar_moves_at_least_twice_a_second_between_log_lines(tmp_path, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(loop.time, "perf_counter", lambda: clock[0])
    updates = []

    class Bar:
        def update(self, n):
            updates.append(clock[0])

        def close(self):
            pass

    monkeypatch.setattr(progress, "bar", lambda *a, **k: Bar())
    engine = _SlowEngine(clock)
    ctx = RunContext(tmp_path / "r", progress=True)
    settings = LoopSettings(steps=2000, batch_size=1, log_every=1000, checkpoint_every=0)  # 10 s per log line
    train_phase(ctx, PhaseState("p"), engine, (torch.zeros(5, 1), torch.zeros(5, dtype=torch.long)),
                SampleStream(5, 0), settings=settings, stream_start=0)
    ctx.close()
    gaps = [b - a for a, b in zip([0.0] + updates, updates)]
    assert max(gaps) <= 0.5 and sum(engine.calls) == 2000
    assert len(engine.calls) <= 2000 * 0.01 / progress.CHUNK_SECONDS + 20  # ~0.2 s chunks, not one per step


def test_one_plain_line_per_phase_without_a_terminal(tmp_path, capsys):
    for shown in (True, False):
        X, Y = torch.rand(50, 20), torch.randint(0, 5, (50,))
        model = _model()
        ctx = RunContext(tmp_path / str(shown), progress=shown)
        train_phase(ctx, PhaseState("burnin"), TorchEngine(model, torch.optim.SGD(model.parameters(), lr=0.1)),
                    (X, Y), SampleStream(50, 0), settings=LoopSettings(steps=30, batch_size=1, log_every=10),
                    stream_start=0)
        ctx.close()
        err = capsys.readouterr().err.splitlines()
        if shown:  # pytest's captured stderr is not a terminal
            assert len(err) == 1 and err[0].startswith("[train] burnin: steps 0-30 of 30 in ") and "loss" in err[0]
        else:
            assert err == []
