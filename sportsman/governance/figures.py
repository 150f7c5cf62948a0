"""The governance figures of the cockpit, one module per area (importing them declares them)."""

from sportsman.governance import (  # noqa: F401
    figures_deliberation,
    figures_posts,
    figures_reports,
    figures_surveys,
    figures_volunteering,
)
