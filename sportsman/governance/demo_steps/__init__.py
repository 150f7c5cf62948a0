"""Demo data for governance, one module per area. Importing the package registers every step."""

from sportsman.governance.demo_steps import (  # noqa: F401
    deliberation,
    posts,
    reports,
    surveys,
    volunteering,
)
