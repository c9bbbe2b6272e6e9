"""Every window, band, weight and threshold of the features, score and cohort
rule: one settings object that round-trips to JSON, carries a name, version,
author and reason, and is validated with clear errors.

The default settings live in ``settings/default.json`` beside this module (a
file a force can copy, edit and pass with ``--settings``). Validation errors
name the setting by its path (``gravity.bands[2].points``).
"""

from __future__ import annotations

import itertools
import json
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adapt.core.harm import available_harm_tables

MANAGEMENT_STATUSES = ("iom", "mappa", "in_custody", "deceased")


class SettingsError(ValueError):
    """A settings file or object is invalid; the message names each bad setting."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """Points given when a value reaches ``at_least`` (recency: ``at_most`` days)."""

    at_least: float = Field(ge=0)
    points: float = Field(ge=0)


class RecencyBand(_Strict):
    at_most_days: int = Field(ge=0)
    points: float = Field(ge=0)


def _check_ascending(values: list[float], what: str) -> None:
    if any(b <= a for a, b in itertools.pairwise(values)):
        raise ValueError(f"{what} must be strictly increasing")


class Windows(_Strict):
    """Time windows, in days, all ending at the end of the as-of date."""

    window_days: int = Field(365, ge=30, le=3650, description="attendance, harm and marker window")
    escalation_half_days: int = Field(
        182,
        ge=30,
        le=730,
        description="frequency/severity escalation: last N days against the N before",
    )
    serial_days: int = Field(
        1095, ge=90, le=3650, description="serial offending window (MATAC: 3 years)"
    )
    new_partner_alert_days: int = Field(
        90, ge=1, le=730, description="how recent a new victim raises the alert"
    )
    marac_repeat_days: int = Field(
        365, ge=30, le=730, description="SafeLives: within 12 months of the last referral"
    )
    counter_allegation_days: int = Field(
        1095, ge=30, le=3650, description="role swaps counted within"
    )


class Escalation(_Strict):
    frequency_min_incidents: int = Field(
        3, ge=2, description="incidents across both halves before frequency escalation is tested"
    )
    frequency_alpha: float = Field(
        0.1,
        gt=0,
        lt=1,
        description="one-sided significance of the rate-ratio test (conditional binomial)",
    )
    severity_ratio: float = Field(
        2.0,
        gt=1,
        description="(mean harm recent + 1) / (mean harm before + 1) that is severity escalation",
    )


class RecencyPart(_Strict):
    weight: float = Field(1.0, ge=0)
    bands: list[RecencyBand]

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[RecencyBand]) -> list[RecencyBand]:
        _check_ascending([b.at_most_days for b in bands], "recency bands' at_most_days")
        return bands


class BandedPart(_Strict):
    weight: float = Field(1.0, ge=0)
    bands: list[Band]

    @field_validator("bands")
    @classmethod
    def _ordered(cls, bands: list[Band]) -> list[Band]:
        _check_ascending([b.at_least for b in bands], "bands' at_least")
        return bands


class SerialPart(_Strict):
    points_per_extra_victim: float = Field(
        ge=0, description="per victim beyond the first, in the serial window"
    )
    max_points: float = Field(ge=0)


class EscalationPart(_Strict):
    frequency_points: float = Field(ge=0)
    severity_points: float = Field(ge=0)


class MarkersPart(_Strict):
    """Points per high-risk marker kind present in the window (each kind once)."""

    strangulation: float = Field(ge=0)
    weapon: float = Field(ge=0)
    threats_to_kill: float = Field(ge=0)
    breach: float = Field(ge=0)
    children_present: float = Field(ge=0)
    dash_high: float = Field(ge=0)
    max_points: float = Field(ge=0)


class MaracPart(_Strict):
    repeat_points: float = Field(ge=0, description="a SafeLives repeat in the window")
    referral_points: float = Field(
        ge=0, description="a MARAC referral naming the person in the window"
    )


class CohortRule(_Strict):
    """Who is in the cohort: (attendances ≥ N or score ≥ S), seen within the
    window, and not under an excluded management status on the date."""

    min_attendances: int | None = Field(
        3, ge=1, description="attendances in the window; null = not used"
    )
    min_score: float | None = Field(None, ge=0, description="null = not used")
    max_days_since_last: int = Field(365, ge=1)
    exclude_statuses: list[Literal["iom", "mappa", "in_custody", "deceased"]] = Field(
        default_factory=lambda: list(MANAGEMENT_STATUSES)
    )

    @model_validator(mode="after")
    def _one_rule(self) -> CohortRule:
        if self.min_attendances is None and self.min_score is None:
            raise ValueError("set min_attendances, min_score or both")
        return self


class Settings(_Strict):
    """A named, versioned, authored set of scoring settings."""

    name: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=40)
    author: str = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)
    harm_table: str = "cambridge_chi_v1"
    windows: Windows = Windows()
    escalation: Escalation = Escalation()
    recency: RecencyPart
    frequency: BandedPart
    gravity: BandedPart
    serial: SerialPart
    escalation_points: EscalationPart
    markers: MarkersPart
    marac: MaracPart
    cohort: CohortRule = CohortRule()

    @field_validator("harm_table")
    @classmethod
    def _known_table(cls, name: str) -> str:
        if name not in available_harm_tables():
            raise ValueError(
                f"unknown harm table {name!r} (have: {', '.join(available_harm_tables())})"
            )
        return name

    # ---- JSON round trip -------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "settings") -> Settings:
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise SettingsError(
                f"{source}: not valid JSON (line {err.lineno}, column {err.colno})"
            ) from None
        return cls.from_dict(raw, source)

    @classmethod
    def from_dict(cls, raw: object, source: str = "settings") -> Settings:
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            raise SettingsError(f"{source}: {_describe(err)}") from None

    @classmethod
    def from_file(cls, path: str | Path) -> Settings:
        path = Path(path)
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise SettingsError(f"{path.name}: cannot be read ({type(err).__name__})") from None
        return cls.from_json(text, source=path.name)

    def with_changes(self, changes: dict, **meta: str) -> Settings:
        """A copy with ``changes`` (a nested dict) merged in and new name/version/author/reason."""
        data = _merge(self.model_dump(mode="json"), changes)
        data.update(meta)
        return Settings.from_dict(data)


def _merge(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = (
            _merge(base[key], value)
            if isinstance(value, dict) and isinstance(base.get(key), dict)
            else value
        )
    return out


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        loc = ""
        for item in e["loc"]:
            loc += f"[{item}]" if isinstance(item, int) else (f".{item}" if loc else str(item))
        parts.append(f"{loc or 'settings'}: {e['msg']}")
    return "; ".join(parts)


def default_settings() -> Settings:
    """The packaged default settings (``adapt/core/settings/default.json``)."""
    text = resources.files("adapt.core").joinpath("settings/default.json").read_text("utf-8")
    return Settings.from_json(text, source="default.json")
