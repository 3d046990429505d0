"""Aggregates of a lottery run: mean ± std over seeds per (level, kind), and the issue's checks.

Pure functions of the per-artifact rows (results.json keeps both), so the report can recompute
them from the run directory without retraining.
"""
from __future__ import annotations

import math
from collections import defaultdict

METRICS = ("test_accuracy", "early_stop_step", "early_stop_test_accuracy", "density", "speed_step")
SPEED_FRACTION = 0.99  # "learning speed": first step with val accuracy >= 99% of the dense net's best
TARGETS = (0.21, 0.07)  # fractions of weights remaining named by the issue


def mean_std(values: list[float]) -> dict:
    """``{"mean", "std", "n"}`` with the sample std (ddof = 1): sqrt(sum((v - mean)²) / (n - 1)).

    One value has no spread to estimate: its std is nan (reports then show the mean alone).
    """
    n = len(values)
    if n == 0:
        return {"mean": math.nan, "std": math.nan, "n": 0}
    m = sum(values) / n
    std = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1)) if n > 1 else math.nan
    return {"mean": m, "std": std, "n": n}


def speed_steps(rows: list[dict]) -> list[dict]:
    """Rows with ``speed_step``: the first evaluated step whose validation accuracy reaches
    `SPEED_FRACTION` of the best validation accuracy of the same seed's dense net (None when
    never reached). With short training the minimum of the validation loss often sits at the last
    step for every net, so this is the sharper measure of how fast a subnetwork learns. Without a
    validation split (``val_accuracy`` None) every ``speed_step`` is None."""
    def val_points(r):
        return [p for p in r.get("curve") or [] if p.get("val_accuracy") is not None]

    best = {r["seed"]: max((p["val_accuracy"] for p in val_points(r)), default=None)
            for r in rows if r["level"] == 0 and r["kind"] == "ticket"}
    out = []
    for r in rows:
        b = best.get(r["seed"])
        target = SPEED_FRACTION * b if b is not None else float("inf")
        hit = [p["step"] for p in val_points(r) if p["val_accuracy"] >= target]
        out.append(dict(r, speed_step=min(hit) if hit else None))
    return out


def by_level(rows: list[dict]) -> list[dict]:
    rows = speed_steps(rows)
    groups: dict[int, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        groups[r["level"]][r["kind"]].append(r)
    out = []
    for level in sorted(groups):
        kinds = {k: {m: mean_std([float(r[m]) for r in rs if r.get(m) is not None]) for m in METRICS}
                 for k, rs in groups[level].items()}
        out.append({"level": level, "density": kinds["ticket"]["density"]["mean"] if "ticket" in kinds
                    else next(iter(kinds.values()))["density"]["mean"], "kinds": kinds})
    return out


def _step(mean: float) -> str:
    """A mean learning-speed step, or "not reached" (nan: no seed reached the target)."""
    return "not reached" if math.isnan(mean) else f"step {mean:.0f}"


def _nearest(levels: list[dict], target: float, need: str = "reinit") -> dict | None:
    cands = [lv for lv in levels if lv["level"] > 0 and need in lv["kinds"]]
    return min(cands, key=lambda lv: abs(math.log(lv["density"] / target))) if cands else None


def claims(levels: list[dict]) -> list[dict]:
    """The issue's checks, each ``{"claim", "holds", "detail"}`` (means over seeds, points = %)."""
    out = []
    dense = next((lv for lv in levels if lv["level"] == 0), None)
    if dense is None:
        return out
    d_acc = dense["kinds"]["ticket"]["test_accuracy"]["mean"]
    d_es = dense["kinds"]["ticket"]["early_stop_step"]["mean"]
    seen = set()
    for target in TARGETS:
        lv = _nearest(levels, target)
        if lv is None or lv["level"] in seen:
            continue
        seen.add(lv["level"])
        k = lv["kinds"]
        t_acc, r_acc = k["ticket"]["test_accuracy"]["mean"], k["reinit"]["test_accuracy"]["mean"]
        t_es = k["ticket"]["early_stop_step"]["mean"]
        pct = f"{100 * lv['density']:.1f}% remaining (level {lv['level']})"
        out.append({"claim": f"ticket >= dense - 0.5 points at {pct}", "holds": t_acc >= d_acc - 0.005,
                    "detail": f"ticket {100 * t_acc:.2f}, dense {100 * d_acc:.2f}"})
        out.append({"claim": f"ticket >= reinit + 1 point at {pct}", "holds": t_acc >= r_acc + 0.01,
                    "detail": f"ticket {100 * t_acc:.2f}, reinit {100 * r_acc:.2f}"})
        if not (math.isnan(t_es) or math.isnan(d_es)):  # nan: no validation split, not measured
            out.append({"claim": f"ticket early-stop step <= dense's at {pct}", "holds": t_es <= d_es,
                        "detail": f"ticket {t_es:.0f}, dense {d_es:.0f}"})
        t_sp, d_sp = k["ticket"]["speed_step"]["mean"], dense["kinds"]["ticket"]["speed_step"]["mean"]
        if k["ticket"]["early_stop_step"]["n"]:  # speed needs validation too (nan there = never reached)
            out.append({"claim": f"ticket reaches 99% of dense's best val accuracy no later than dense at {pct}",
                        "holds": t_sp <= d_sp, "detail": f"ticket {_step(t_sp)}, dense {_step(d_sp)}"})
    re = [lv for lv in levels if lv["level"] > 0 and "reinit" in lv["kinds"]]
    if len(re) >= 2:
        first, last = re[0]["kinds"]["reinit"]["test_accuracy"]["mean"], re[-1]["kinds"]["reinit"]["test_accuracy"]["mean"]
        out.append({"claim": "reinit degrades as sparsity grows", "holds": last < first,
                    "detail": f"reinit {100 * first:.2f} at {100 * re[0]['density']:.1f}% -> "
                              f"{100 * last:.2f} at {100 * re[-1]['density']:.1f}%"})
    return out


def supermask_best(supermask: list[dict]) -> list[dict]:
    """Mean accuracy over seeds per (criterion, target, weights), best first."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    dens: dict[tuple, float] = {}
    for r in supermask:
        key = (r["criterion"], r["target"], r["weights"])
        groups[key].append(r["accuracy"])
        dens[key] = r["density"]
    rows = [{"criterion": c, "target": t, "weights": w, "density": dens[(c, t, w)], **mean_std(v)}
            for (c, t, w), v in groups.items()]
    return sorted(rows, key=lambda r: -r["mean"])


def _mean(rows: list[dict], key: str) -> float:
    return mean_std([float(r[key]) for r in rows])["mean"]


def _early_bird_claims(eb: list[dict], retrain: str) -> list[dict]:
    frac = max(r["draw_fraction"] for r in eb)
    out = [{"claim": f"early-bird ticket drawn before half of the dense budget (every seed; {retrain})",
            "holds": frac < 0.5 and all(r["drawn"] for r in eb),
            "detail": f"latest draw at {100 * frac:.0f}% of {eb[0]['budget_steps']} steps"}]
    imp = [r for r in eb if r["imp_test_accuracy"] is not None]
    if imp:
        a, b = _mean(imp, "test_accuracy"), _mean(imp, "imp_test_accuracy")
        out.append({"claim": f"early-bird ({retrain}) accuracy within 1 point of IMP at "
                             f"{100 * eb[0]['density']:.1f}% remaining",
                    "holds": abs(a - b) <= 0.01, "detail": f"early-bird {100 * a:.2f}, IMP {100 * b:.2f}, cost "
                    f"{_mean(eb, 'eb_cost_steps'):.0f} vs {_mean(eb, 'imp_cost_steps'):.0f} dense-equivalent steps"})
    return out


def extra_claims(levels: list[dict], extras: dict) -> list[dict]:
    """Checks for early-bird, edge-popup, weight vs neuron pruning and the approximation demo."""
    out = []
    for retrain in sorted({r.get("retrain", "rewind") for r in extras.get("early_bird") or []}):
        eb = [r for r in extras["early_bird"]
              if r["structure"] == "unstructured" and r.get("retrain", "rewind") == retrain]
        out += _early_bird_claims(eb, retrain) if eb else []
    ep = extras.get("edge_popup") or []
    acc = defaultdict(list)
    for r in ep:
        acc[(r["init"], r["mode"], r["k"])].append(r["accuracy"])
    acc = {k: sum(v) / len(v) for k, v in acc.items()}
    dense = next((lv["kinds"]["ticket"]["test_accuracy"]["mean"] for lv in levels if lv["level"] == 0), None)
    for init in sorted({k[0] for k in acc}):
        a = {k[2]: v for k, v in acc.items() if k[0] == init and k[1] == "weight"}
        if 50.0 in a and dense is not None:
            out.append({"claim": f"edge-popup ({init}) at k=50% within 5 points of the dense trained net",
                        "holds": a[50.0] >= dense - 0.05, "detail": f"{100 * a[50.0]:.2f} vs dense {100 * dense:.2f}"})
        for k in (10.0, 90.0):
            if k in a and 50.0 in a:
                out.append({"claim": f"edge-popup ({init}) k={k:g}% worse than k=50%", "holds": a[k] < a[50.0],
                            "detail": f"{100 * a[k]:.2f} vs {100 * a[50.0]:.2f}"})
    sc, kn = acc.get(("signed_constant", "weight", 50.0)), acc.get(("kaiming_normal", "weight", 50.0))
    if sc is not None and kn is not None:
        out.append({"claim": "edge-popup signed constant >= Kaiming normal at k=50%", "holds": sc >= kn,
                    "detail": f"{100 * sc:.2f} vs {100 * kn:.2f}"})
    pairs = [(k, v, acc[(k[0], "neuron", k[2])]) for k, v in acc.items() if k[1] == "weight" and (k[0], "neuron", k[2]) in acc]
    if pairs:
        wins = sum(w > n for _, w, n in pairs)
        out.append({"claim": "weight pruning beats neuron pruning of the same random net at equal size",
                    "holds": wins == len(pairs), "detail": f"weight wins {wins} of {len(pairs)} (init, k) pairs; "
                    + ", ".join(f"{k[0]} k={k[2]:g}: {100 * w:.1f} vs {100 * n:.1f}" for k, w, n in pairs)})
    ap = extras.get("approximation") or []
    if len({r["width"] for r in ap}) >= 2:
        widths = sorted({r["width"] for r in ap})
        kl = {w: _mean([r for r in ap if r["width"] == w], "kl") for w in widths}
        out.append({"claim": "approximation error of the pruned random net falls as its width grows",
                    "holds": kl[widths[-1]] < kl[widths[0]],
                    "detail": ", ".join(f"n={w}: KL {kl[w]:.3f}" for w in widths)})
    return out


def summarize(rows: list[dict], supermask: list[dict], extras: dict | None = None) -> dict:
    levels = by_level(rows)
    return {"levels": levels, "claims": claims(levels) + extra_claims(levels, extras or {}),
            "supermask": supermask_best(supermask)}


__all__ = ["by_level", "claims", "extra_claims", "mean_std", "summarize", "supermask_best"]
