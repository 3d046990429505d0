"""Every registered schedule: pruning steps strictly increase, sparsities never decrease, the last
level is exactly the target (the same float), `sparsity_at` agrees with the levels, and kept counts
never grow."""
from sparsenet.schedules import keep_count, make_schedule


def check_schedule(name: str, target: float = 0.9) -> None:
    s = make_schedule(name, target)
    levels = s.levels()
    assert levels, name
    steps = [t for t, _ in levels]
    values = [v for _, v in levels]
    assert steps == sorted(set(steps)) and steps[0] >= 0, (name, steps)
    assert all(0.0 <= a <= b for a, b in zip(values, values[1:])), (name, values)
    assert values[-1] == target, (name, values[-1])
    assert all(s.sparsity_at(t) == v for t, v in levels), name
    assert s.sparsity_at(steps[-1] + 10_000) == target
    counts = [keep_count(v, 1000) for v in values]
    assert all(a >= b for a, b in zip(counts, counts[1:])) and counts[-1] == keep_count(target, 1000)


def test_schedule_contract(schedule):
    check_schedule(schedule)
