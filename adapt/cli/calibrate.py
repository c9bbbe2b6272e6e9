"""``adapt calibrate``: fit the score's settings on the force's own past."""

from __future__ import annotations

TOP_LEVEL: dict = {}
