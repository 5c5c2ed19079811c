"""Benchmark: the network map of a partnership of 200 people and 2,000 ties (figures, layout, map.json and
the static SVG), median of repeated runs; the layout alone is compared with networkx's spring layout on
the same graph as a reference. Target: well under a second.

    .venv/bin/python benchmarks/network_map.py [--people 200] [--ties 2000] [--runs 9]

The last line printed is ``map: N people, M ties: X s (networkx layout Y s)``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the test helpers build the network

import networkx as nx
from tests.network.test_map import _network

from reticulist.network import map_routes as mr
from reticulist.network.analysis import NetworkChoice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--ties", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    net = _network(args.people, args.ties, organisations=12)
    choice = mr.MapChoice(NetworkChoice({"reported": 1.0}, None, date(2025, 3, 31)))

    def whole_map() -> int:
        found = mr.map_of(net)
        data = mr.map_json(found, choice)
        mr.map_svg(found, "organisation")
        return len(data["edges"])

    edges = whole_map()  # warm-up
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        whole_map()
        times.append(time.perf_counter() - started)
    graph = nx.Graph()
    graph.add_nodes_from(range(args.people))
    graph.add_edges_from(zip(net.edges.source.tolist(), net.edges.target.tolist(), strict=True))
    started = time.perf_counter()
    nx.spring_layout(graph, seed=1)
    reference = time.perf_counter() - started
    print(f"runs: {', '.join(f'{t:.3f}' for t in times)} s")
    median = statistics.median(times)
    print(f"map: {args.people} people, {edges} ties: {median:.3f} s (networkx layout {reference:.3f} s)")


if __name__ == "__main__":
    main()
