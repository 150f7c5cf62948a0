"""Base schemas: inputs refuse unknown fields; one error shape for the OpenAPI document."""

from __future__ import annotations

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
