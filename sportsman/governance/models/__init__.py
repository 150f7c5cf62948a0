"""The governance tables, one module per area."""

from sportsman.governance.models.deliberation import *  # noqa: F403
from sportsman.governance.models.posts import *  # noqa: F403
from sportsman.governance.models.proxy import ProxyGrant, ProxyVoteRule, Relation
from sportsman.governance.models.reports import *  # noqa: F403
from sportsman.governance.models.surveys import *  # noqa: F403
from sportsman.governance.models.volunteering import *  # noqa: F403

__all__ = ["ProxyGrant", "ProxyVoteRule", "Relation"]
