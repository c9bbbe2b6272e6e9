"""Every setting is declared once with its help text: a description on each
field at every level, reachable by its dotted path; and windows in words."""

from __future__ import annotations

import re

import pytest

from adapt.core.settings import default_settings, setting_descriptions, window_words


def _paths(value: object, prefix: str = "") -> list[str]:
    """Every dotted path of a settings dump, bands' fields under ``bands[]``."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}{key}"
            out.append(path)
            out += _paths(item, f"{path}.")
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        out += _paths(value[0], f"{prefix.removesuffix('.')}[].")
    return out


def test_every_setting_at_every_level_has_a_description() -> None:
    descriptions = setting_descriptions()
    paths = _paths(default_settings().model_dump(mode="json"))
    assert len(paths) > 50  # sections, their settings and the bands' fields
    assert set(paths) == set(descriptions), "setting_descriptions() misses or invents a path"
    missing = [p for p in paths if len(descriptions[p].split()) < 4]
    assert not missing, f"settings without a description: {missing}"


def test_descriptions_name_the_packaged_default_they_justify() -> None:
    """Each number's description gives its default as default.json has it, so
    the words cannot drift from the file."""
    descriptions = setting_descriptions()
    data = default_settings().model_dump(mode="json")
    for path in descriptions:
        value: object = data
        for part in path.split("."):  # nested sections (governance.retention.x) too
            value = value.get(part) if isinstance(value, dict) and "[]" not in part else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert f"Default {value:g}" in descriptions[path], path


def test_descriptions_fit_a_table_cell_and_cite_no_machine_path() -> None:
    for path, text in setting_descriptions().items():
        assert "|" not in text and "\n" not in text, path
        assert not re.search(r"(^|\s)(/|~/)\w", text), path


def test_descriptions_cite_where_the_defaults_come_from() -> None:
    d = setting_descriptions()
    assert "MATAC" in d["windows.serial_days"] and "three years" in d["windows.serial_days"]
    assert "SafeLives" in d["windows.marac_repeat_days"]
    assert "12 months" in d["windows.marac_repeat_days"]
    assert "in days" in d["windows.window_days"]
    assert "CHI days" in d["gravity.bands[].at_least"]
    assert "Attendances" in d["frequency.bands[].at_least"]


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (365, "12 months"),  # 12 x 30.44 = 365.24: within a day
        (730, "24 months"),  # 730.49
        (182, "6 months"),  # 182.62
        (1095, "36 months"),  # 1095.73
        (30, "1 month"),  # 30.44
        (180, "180 days"),  # 6 months would be 182.62: 2.6 days off
        (90, "90 days"),  # 3 months would be 91.31: 1.3 days off
        (3650, "3650 days"),  # 120 months would be 3652.4
        (14, "14 days"),  # less than half a month
        (1, "1 day"),
    ],
)
def test_window_words_whole_months_within_a_day_else_days(days: int, words: str) -> None:
    assert window_words(days) == words
