"""Benchmark: scoring a national barometer round (target: under 1 s, and at least 20x the reference).

Generates, with a seeded NumPy Generator, 100,000 responses to a 60-item instrument (19 constructs of 3-4
items, a quarter of the items reverse-worded) from 40 organisations of very uneven size (a few with only a
handful of respondents, so that suppression has work to do), 12 professions, 5 hierarchy tiers and the 3
Working Together tiers. Answers follow a latent score per respondent and construct with organisation
effects; 4% of answers are "don't know" (more on the constructs people know least about), 3% are skipped,
and 6% of respondents stop part-way through. About 2% do not say their organisation, profession or tier.

Times ``scoring.score_round`` on the construct results and alphas (the scoring target) as the median of
several runs after a warm-up, and, once, the plain-Python reference from tests/barometer/reference_scoring.py
on the same data, checking that both give the same results. Then, once, the release with four breakdowns
protected jointly (reticulist.disclosure: suppression and the audit), checking that every figure it shows
equals the reference's and saying what protection cost.

    .venv/bin/python benchmarks/barometer_scoring.py [--respondents 100000] [--runs 5]

The last line printed is
``scoring: 100000 responses x 60 items: X s (reference Y s, Z x faster)``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the reference lives in tests/

from tests.barometer.reference_scoring import differences, reference_score_round

from reticulist.barometer.scoring import RoundResults, score_round

CONSTRUCTS = 19
ITEMS = 60
ORGANISATIONS, PROFESSIONS, HIERARCHY_TIERS, WT_TIERS = 40, 12, 5, 3


def generate(respondents: int, seed: int = 20240601) -> tuple:
    rng = np.random.default_rng(seed)
    sizes = np.array([4] * 3 + [3] * (CONSTRUCTS - 3))  # 3 x 4 + 16 x 3 = 60 items
    item_construct = np.repeat(np.arange(CONSTRUCTS), sizes)
    reverse = np.zeros(ITEMS, dtype=bool)
    reverse[rng.choice(ITEMS, size=ITEMS // 4, replace=False)] = True
    keys = [f"construct_{c:02d}" for c in range(CONSTRUCTS)]

    # Organisations from a few thousand respondents down to a handful.
    weights = 1.0 / np.arange(1, ORGANISATIONS + 1) ** 1.1
    organisation = rng.choice(ORGANISATIONS - 2, size=respondents, p=weights[:-2] / weights[:-2].sum())
    # Two organisations with 2 and 1 respondents: hidden, and one more hidden beside them.
    organisation[rng.choice(respondents, size=3, replace=False)] = [ORGANISATIONS - 2] * 2 + [
        ORGANISATIONS - 1
    ]
    profession = rng.choice(
        PROFESSIONS, size=respondents, p=np.linspace(3, 1, PROFESSIONS) / np.linspace(3, 1, PROFESSIONS).sum()
    )
    tier = rng.choice(HIERARCHY_TIERS, size=respondents, p=[0.05, 0.1, 0.2, 0.25, 0.4])
    wt_of_organisation = rng.choice(WT_TIERS, size=ORGANISATIONS, p=[0.3, 0.5, 0.2])
    wt = wt_of_organisation[organisation]

    # Latent agreement: overall level per construct + organisation effect + person + noise per item.
    level = rng.normal(3.1, 0.5, size=CONSTRUCTS)
    organisation_effect = rng.normal(0, 0.3, size=(ORGANISATIONS, CONSTRUCTS))
    person = rng.normal(0, 0.7, size=(respondents, CONSTRUCTS)).astype(np.float32)
    latent = (level + organisation_effect[organisation] + person)[:, item_construct]
    # Items of some constructs hang together less well than others (alpha from about 0.5 to 0.85).
    item_noise = np.linspace(0.5, 1.6, CONSTRUCTS)[rng.permutation(CONSTRUCTS)][item_construct]
    latent += rng.normal(0, 1, size=(respondents, ITEMS)).astype(np.float32) * item_noise.astype(np.float32)
    agree = np.clip(np.rint(latent), 1, 5).astype(np.int8)
    answers = np.where(reverse, 6 - agree, agree).astype(np.int8)

    u = rng.random((respondents, ITEMS), dtype=np.float32)
    dont_know_rate = np.where(np.arange(CONSTRUCTS) % 5 == 0, 0.10, 0.03)[item_construct]
    answers[u < dont_know_rate] = 0
    answers[u > 0.97] = -1
    stopped = rng.random(respondents) < 0.06
    stop_at = rng.integers(5, ITEMS, size=respondents)
    answers[stopped[:, None] & (np.arange(ITEMS) >= stop_at[:, None])] = -1

    groups = {}
    for name, codes, count in (
        ("organisation", organisation, ORGANISATIONS),
        ("profession", profession, PROFESSIONS),
        ("hierarchy_tier", tier, HIERARCHY_TIERS),
        ("wt_tier", wt, WT_TIERS),
    ):
        codes = codes.astype(np.int64)
        codes[rng.random(respondents) < 0.02] = -1
        groups[name] = (codes, [f"{name} {i + 1}" for i in range(count)])
    return answers, item_construct, reverse, keys, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    answers, item_construct, reverse, keys, groups = generate(args.respondents)
    print(
        f"generated {answers.shape[0]} x {answers.shape[1]} answers in {time.perf_counter() - started:.1f} s"
    )

    def run() -> RoundResults:
        return score_round(answers, item_construct, reverse, keys, None, threshold=5)

    results = run()  # warm-up
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        results = run()
        times.append(time.perf_counter() - started)
    engine_s = statistics.median(times)

    started = time.perf_counter()
    reference = reference_score_round(answers, item_construct, reverse, keys, None, threshold=5)
    reference_s = time.perf_counter() - started
    problems = differences(results, reference)
    started = time.perf_counter()
    protected = score_round(answers, item_construct, reverse, keys, groups, threshold=5)
    protected_s = time.perf_counter() - started
    raw = reference_score_round(answers, item_construct, reverse, keys, groups, threshold=1)
    for name, breakdown in protected.breakdowns.items():
        truth = {g.code: g for g in raw.breakdowns[name].groups}
        for group in breakdown.groups:
            for cell, true_cell in zip(group.cells, truth[group.code].cells, strict=True):
                if not cell.suppressed:
                    problems += differences(cell.mean, true_cell.mean, f"{name} {group.label}")
    if problems:
        print("engine and reference DIFFER:", *problems[:10], sep="\n  ")
        sys.exit(1)

    constructs = results.constructs
    alphas = [c.alpha for c in constructs if c.alpha is not None]
    leans = Counter(c.lean for c in constructs)
    ns = [c.n or 0 for c in constructs]
    print(
        f"constructs: {len(constructs)}, n {min(ns)}..{max(ns)}, "
        f"alpha {min(alphas):.2f}..{max(alphas):.2f} ({sum(c.alpha_flag for c in constructs)} below 0.6); "
        f"lean: {leans['catalyst']} catalyst, {leans['balanced']} balanced, {leans['obstacle']} obstacle"
    )
    for name, breakdown in protected.breakdowns.items():
        hidden = sum(g.suppressed for g in breakdown.groups)
        cells = sum(c.suppressed for g in breakdown.groups for c in g.cells)
        print(f"{name}: {len(breakdown.groups)} groups, {hidden} hidden; {cells} hidden cells")
    print(f"protection cost: {protected.cost}")
    print(f"release with four protected breakdowns (scoring, suppression, audit; once): {protected_s:.1f} s")
    print(f"score_round runs (s): {', '.join(f'{t:.3f}' for t in times)}")
    print(f"reference (plain Python, once): {reference_s:.1f} s; same results checked")
    speed = "met" if engine_s < 1 else "MISSED"
    ratio = "met" if reference_s / engine_s >= 20 else "MISSED"
    print(f"target under 1 s: {speed}; at least 20x the reference: {ratio}")
    print(
        f"scoring: {answers.shape[0]} responses x {answers.shape[1]} items: {engine_s:.3f} s "
        f"(reference {reference_s:.1f} s, {reference_s / engine_s:.0f} x faster)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
