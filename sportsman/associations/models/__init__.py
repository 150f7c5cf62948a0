"""The associations app's models, one module per area (each module lists its names in __all__)."""

from sportsman.associations.models.board import *  # noqa: F403
from sportsman.associations.models.evaluation import *  # noqa: F403
from sportsman.associations.models.registry import *  # noqa: F403
from sportsman.associations.models.window import *  # noqa: F403
