"""The network: who actually works with whom (reported, imported and observed ties) and what the shape of
those ties says (boundary spanners, silos, key-person risk)."""
