"""Demo data for associations, one module per area. Importing the package registers every step."""

from sportsman.associations.demo_steps import board, evaluation, registry, window  # noqa: F401
