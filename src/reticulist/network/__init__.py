"""The network: who actually works with whom (reported, imported and observed ties) and what the shape of
those ties says (boundary spanners, silos, key-person risk)."""

# Plain data only here: importing the services would pull storage into `import reticulist.network`.
from reticulist.network.ties import FREQUENCIES, CombinedEdges, Network, TieValues

__all__ = ["FREQUENCIES", "CombinedEdges", "Network", "TieValues"]
