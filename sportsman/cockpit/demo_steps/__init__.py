"""Demo data for the cockpit. Importing the package registers every step; the figures step runs
last, once every domain's records are in."""

from sportsman.cockpit.demo_steps import assessment, demand, figures, supervision  # noqa: F401
