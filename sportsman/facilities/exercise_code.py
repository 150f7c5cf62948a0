"""A resident's exercise code (运动码): a QR code on their phone that smart fitness equipment scans
when a session starts, so the session it reports later is theirs.

The code is ``SPM:<user id>:<minute>:<signature>``, the same rotating scheme as a facility's
check-in screen (``visits.rotating_code``), signed with a key derived from the server's encryption
key (no per-person secret to store or leak). It is good for its minute and the next. Equipment
may upload a session hours after it ended, so a code is checked against the time the session
*started*, with ``SCAN_TOLERANCE`` for the equipment's clock; a code is never accepted before
the server could have made it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.core.crypto import keyed_hash
from sportsman.core.errors import InvalidInput
from sportsman.facilities.visits import parse_rotating_code, rotating_code

PREFIX = "SPM"
SCAN_TOLERANCE = dt.timedelta(minutes=2)


class ExerciseCodeInvalid(InvalidInput):
    code = "member_code_invalid"
    default_message = _("This is not a valid exercise code.")


class ExerciseCodeExpired(InvalidInput):
    code = "member_code_expired"
    default_message = _("The exercise code was not scanned when the session started.")


def _secret() -> str:
    return keyed_hash("exercise code", purpose="exercise-code")


def code_for(user: Any, at: dt.datetime | None = None) -> str:
    """The exercise code ``user``'s phone shows at ``at`` (default now)."""
    return rotating_code(PREFIX, user.pk, _secret(), at)


def user_id_of(code: object, *, scanned_at: dt.datetime, now: dt.datetime | None = None) -> int:
    """The id of the person whose phone showed ``code`` at ``scanned_at`` (give or take
    ``SCAN_TOLERANCE``). Not one of ours, or made after ``now`` → ExerciseCodeInvalid; genuine but
    shown at another time → ExerciseCodeExpired. Whether that person still exists is the
    caller's question."""
    parsed = parse_rotating_code(code, PREFIX) if isinstance(code, str) else None
    if parsed is None or not parsed.is_signed_with(_secret()):
        raise ExerciseCodeInvalid()
    if parsed.valid_from > (now or timezone.now()):
        raise ExerciseCodeInvalid()  # signed with the server's clock: never ahead of it
    if not parsed.valid_from - SCAN_TOLERANCE <= scanned_at <= parsed.valid_until + SCAN_TOLERANCE:
        raise ExerciseCodeExpired()
    return parsed.subject_id
