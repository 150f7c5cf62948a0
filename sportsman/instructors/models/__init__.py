"""The instructors app's models, one module per area (each module lists its names in __all__)."""

from sportsman.instructors.models.booking import *  # noqa: F403
from sportsman.instructors.models.registry import *  # noqa: F403
from sportsman.instructors.models.videos import *  # noqa: F403
