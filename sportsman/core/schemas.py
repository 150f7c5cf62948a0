"""Base schemas: inputs refuse unknown fields; one error shape for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class In(Schema):
    """Every input schema derives from this: an unknown field is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Error(Schema):
    code: str
    message: str
    fields: dict[str, list[str] | str]


class Ok(Schema):
    ok: bool = True


def iso(value: Any) -> str:
    """A time as the API's JSON encoder (Django's) writes it: milliseconds, UTC as ``Z``."""
    text = value.isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    if text.endswith("+00:00"):
        text = text.removesuffix("+00:00") + "Z"
    return text
