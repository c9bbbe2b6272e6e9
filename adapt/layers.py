"""The layer rule, written once: every import between adapt's packages points down.

Lowest first. A module may import its own package and any package on a lower
line; packages on the same line are siblings and may not import each other.
``tests/test_codebase.py`` enforces it over every ``import`` in the code,
including any inside a function (there are none: a function-level import would
only hide an upward arrow).

::

    app_pages/, streamlit_app.py      the pages: draw, and call adapt.services
    cli                                typer commands over the pipeline and services
    services                           what the app needs: engine, limits, caches, audit, jobs
    pipeline | views                   the steps as a force runs them | what each page shows
    learned                            the optional learned harm model
    evaluation                         outcomes after a date, backtests, calibration
    scoring                            score parts, ranking, cohort rule, score runs
    graph | features                   links and ego networks | per-person features as of a date
    identity                           who is who
    db | synthetic                     the only database code | the synthetic force
    contract                           read and validate an extract folder
    rules | exports                    each domain rule once | formula-safe file writers
    core                               shared types: spec, History, Settings, harm table, roles
"""

from __future__ import annotations

# Lowest first; each entry is one line of the picture above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("rules", "exports"),
    ("contract",),
    ("db", "synthetic"),
    ("identity",),
    ("graph", "features"),
    ("scoring",),
    ("evaluation",),
    ("learned",),
    ("pipeline", "views"),
    ("services",),
    ("cli",),
    ("__main__", "layers"),
)

# What the app's pages (app_pages/, streamlit_app.py) may import from adapt.
PAGE_IMPORTS: tuple[str, ...] = ("services", "core")


def level_of(package: str) -> int:
    """The line a top-level package of adapt sits on (0 is the lowest).

    >>> level_of("core") < level_of("db") < level_of("services")
    True
    """
    for i, line in enumerate(LAYERS):
        if package in line:
            return i
    raise KeyError(f"adapt.{package} is not in adapt.layers.LAYERS")


def allowed(importer: str, imported: str) -> bool:
    """Whether package ``importer`` may import package ``imported``.

    >>> allowed("features", "core"), allowed("core", "features")
    (True, False)
    >>> allowed("graph", "features")  # siblings on one line
    False
    """
    return importer == imported or level_of(imported) < level_of(importer)
