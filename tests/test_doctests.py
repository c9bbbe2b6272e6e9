"""Every docstring example in adapt runs, and shows what it says it shows.

Each module of the package is imported (``pkgutil.walk_packages``) and its
examples run with :mod:`doctest`, one test per module. An example that needs a
database or a whole force's data is marked ``# doctest: +SKIP`` with a comment
saying why; everything else runs on the small frames written into it.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from types import ModuleType

import pytest

import adapt

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
# ``python -m adapt`` runs the command line when imported: nothing to test there.
NOT_IMPORTED = frozenset({"adapt.__main__"})


def _module_names() -> list[str]:
    names = [adapt.__name__]
    for info in pkgutil.walk_packages(adapt.__path__, prefix=adapt.__name__ + "."):
        if info.name not in NOT_IMPORTED:
            names.append(info.name)
    return sorted(names)


MODULES = _module_names()


def _examples(module: ModuleType) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, module.__name__) if t.examples]


def test_every_module_is_found() -> None:
    # A walk that silently finds nothing would make every test below pass.
    assert {"adapt.layers", "adapt.identity.model", "adapt.core.dates"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in _examples(module):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
