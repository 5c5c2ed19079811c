"""Import every model module so Base.metadata is complete (Alembic and tests use this)."""

from reticulist.access import models as access_models
from reticulist.access import request_keys as request_key_models
from reticulist.audit import models as audit_models
from reticulist.barometer import models as barometer_models
from reticulist.casework import models as casework_models
from reticulist.comparison import models as comparison_models
from reticulist.linkage import models as linkage_models
from reticulist.network import models as network_models
from reticulist.register import models as register_models

__all__ = [
    "access_models",
    "audit_models",
    "barometer_models",
    "casework_models",
    "comparison_models",
    "linkage_models",
    "network_models",
    "register_models",
    "request_key_models",
]

# The comparison capability's change watcher (a Session event): figures behind their data are marked on
# every flush, in any process that has the models loaded.
from reticulist.comparison import figures as comparison_figures

__all__ += ["comparison_figures"]
