"""The associations' figures of the cockpit, one module per area (importing them declares them)."""

from sportsman.associations import figures_evaluation, figures_window  # noqa: F401
