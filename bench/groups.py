"""Group figures (issue 11): chat delivery to a 500-member group against the Channels layer.

Being built: ``measure_all`` is filled in with the groups app.
"""

from __future__ import annotations

from typing import Any

TARGETS: list[tuple[str, tuple[str, ...], str, float]] = [
    ("chat messages delivered per second, 500-member group / the layer's raw send rate",
     ("groups", "chat", "ratio_to_layer_send"), "min", 0.5),
]


def measure_all(var_dir: Any, template: Any, env_for: Any, log: Any = print) -> dict:
    raise NotImplementedError("the group figures are being built (issue 11)")
