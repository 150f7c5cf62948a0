"""Periodic jobs of voucher campaigns."""

from __future__ import annotations
