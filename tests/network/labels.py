"""What a member sees in place of a name: found through the service, as the pages find it, so tests need
not know the keyed numbering (which is the point: nobody outside can work it out)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.orm import Session

from reticulist.network import service as network
from tests.conftest import World


def member_label(
    db: Session,
    world: World,
    name: str,
    sources: Mapping[str, float],
    *,
    since: date | None = None,
    as_of: date | None = None,
) -> str:
    """The label members see for ``name`` in the network of ``sources`` over [since, as_of]."""
    args = {"partnership_id": world.partnership_id, "sources": sources, "since": since, "as_of": as_of}
    named = network.network_for(db, actor=world.manager, **args)
    hidden = network.network_for(db, actor=world.member, **args)
    return hidden.labels[named.labels.index(name)]
