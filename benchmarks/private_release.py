"""Benchmark: releasing an open-link round with differential privacy (barometer/private.py).

Generates, with a seeded NumPy Generator, 10,000 responses to a 60-item instrument of 18 constructs (6 of
4 items, 12 of 3), answers following a latent level per construct and person, with 4% "don't know" and 3%
skipped. Times, as the median of several runs after a warm-up:

1. ``release_round``: scoring (``scoring.construct_scores``) and the release with OpenDP;
2. ``release_scores``: the release alone, from the scores;
3. the reference, in the same process: the same counts and centred sums in plain NumPy with
   ``Generator.laplace`` noise of the same scales and the same post-processing (``describe_release``).
   It is not a safe release (floating-point Laplace noise leaks through its low bits, which is why
   OpenDP samples on whole numbers); it shows what OpenDP's care costs.

Also prints how far each release's means fall from the exact means (largest over the constructs), and
the accuracy promised in advance for the round's answer count.

    .venv/bin/python benchmarks/private_release.py [--respondents 10000] [--runs 7]

The last line printed is
``private release: 10000 respondents x 18 constructs: X s (NumPy Laplace reference Y s, ratio Z)``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from reticulist.barometer.private import (
    GRID,
    PrivateRound,
    budget,
    describe_release,
    expected_accuracy,
    release_round,
    release_scores,
)
from reticulist.barometer.scoring import MIDPOINT, construct_scores

CONSTRUCTS = 18
SIZES = [4] * 6 + [3] * 12  # 60 items


def generate(respondents: int, seed: int = 20240601) -> tuple:
    rng = np.random.default_rng(seed)
    item_construct = np.repeat(np.arange(CONSTRUCTS), SIZES)
    items = len(item_construct)
    reverse = np.zeros(items, dtype=bool)
    reverse[rng.choice(items, size=items // 4, replace=False)] = True
    level = rng.normal(3.1, 0.5, size=CONSTRUCTS)
    person = rng.normal(0, 0.7, size=(respondents, CONSTRUCTS))
    latent = (level + person)[:, item_construct] + rng.normal(0, 0.9, size=(respondents, items))
    agree = np.clip(np.rint(latent), 1, 5).astype(np.int8)
    answers = np.where(reverse, 6 - agree, agree).astype(np.int8)
    u = rng.random(answers.shape)
    answers[u < 0.04] = 0
    answers[u > 0.97] = -1
    keys = [f"construct_{c:02d}" for c in range(CONSTRUCTS)]
    return answers, item_construct, reverse, keys


def numpy_reference(
    scores: np.ndarray, keys: list[str], epsilon: float, rng: np.random.Generator
) -> PrivateRound:
    """The same release with NumPy's Laplace noise (continuous, on the same grid): a speed reference."""
    scales = budget(epsilon, len(keys))
    has = ~np.isnan(scores)
    counts = has.sum(axis=0)
    sums = np.rint((np.where(has, scores, MIDPOINT) - MIDPOINT) * GRID).sum(axis=0) / GRID
    noisy_counts = counts + rng.laplace(0.0, scales.count_scale, size=len(keys))
    noisy_sums = sums + rng.laplace(0.0, scales.sum_scale, size=len(keys))
    released = tuple(
        describe_release(key, float(noisy_counts[c]), float(noisy_sums[c]), scales)
        for c, key in enumerate(keys)
    )
    return PrivateRound(scales.epsilon, released)


def median_time(run: Callable[[], PrivateRound], runs: int) -> tuple[float, PrivateRound]:
    result = run()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def worst_error(release: PrivateRound, exact: np.ndarray) -> str:
    errors = [abs(c.mean - exact[i]) for i, c in enumerate(release.constructs) if c.mean is not None]
    shown = len(errors)
    return f"{shown} of {len(release.constructs)} means shown, largest error {max(errors, default=0):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--respondents", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--epsilon", type=float, default=1.0)
    args = parser.parse_args()

    answers, item_construct, reverse, keys = generate(args.respondents)
    scores = construct_scores(answers, item_construct, reverse, keys)
    exact = np.nanmean(scores, axis=0)
    rng = np.random.default_rng(7)

    round_s, full = median_time(
        lambda: release_round(answers, item_construct, reverse, keys, epsilon=args.epsilon), args.runs
    )
    release_s, private = median_time(lambda: release_scores(scores, keys, epsilon=args.epsilon), args.runs)
    reference_s, reference = median_time(lambda: numpy_reference(scores, keys, args.epsilon, rng), args.runs)

    n = int((~np.isnan(scores)).sum(axis=0).min())
    print(
        f"{answers.shape[0]} respondents, {answers.shape[1]} items, {CONSTRUCTS} constructs, "
        f"epsilon {args.epsilon}"
    )
    print(f"promised in advance: {expected_accuracy(n, epsilon=args.epsilon, constructs=CONSTRUCTS).words}")
    print(f"release_round (scoring and release): {round_s:.4f} s; {worst_error(full, exact)}")
    print(f"release_scores (OpenDP): {release_s:.4f} s; {worst_error(private, exact)}")
    print(f"NumPy Laplace reference: {reference_s:.4f} s; {worst_error(reference, exact)}")
    print(
        f"private release: {answers.shape[0]} respondents x {CONSTRUCTS} constructs: {release_s:.4f} s "
        f"(NumPy Laplace reference {reference_s:.4f} s, ratio {release_s / reference_s:.1f})"
    )


if __name__ == "__main__":
    main()
