"""The Partnership Barometer: a self-evaluation of partnership working built from the source documents
(002 Table 1, the themes of 003, the collaborative agency model of 004)."""

from reticulist.barometer.instrument import (
    Instrument,
    builtin_instruments,
    default_instrument,
    parse_instrument,
)

__all__ = ["Instrument", "builtin_instruments", "default_instrument", "parse_instrument"]
