"""IdentityModel follows scikit-learn's estimator contract, and its JSON file round-trips.

The parameters are read from ``__init__``'s signature (no list kept beside it),
``__init__`` stores them and nothing else, and the committed model saves back
to the same bytes it was loaded from.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from adapt.core.resources import model_file
from adapt.identity.model import IdentityModel

SHIPPED = Path(str(model_file("identity-splink.json")))
INIT_PARAMS = {
    name: p.default
    for name, p in inspect.signature(IdentityModel.__init__).parameters.items()
    if name != "self"
}


def test_get_params_is_exactly_the_init_parameters() -> None:
    assert INIT_PARAMS  # the signature was read
    assert IdentityModel().get_params() == INIT_PARAMS
    assert IdentityModel().get_params(deep=False) == INIT_PARAMS


def test_init_stores_its_parameters_and_nothing_else() -> None:
    model = IdentityModel(seed=3, threads=1)
    assert vars(model) == {**INIT_PARAMS, "seed": 3, "threads": 1}
    assert not any(name.endswith("_") for name in vars(model))


def test_set_params_round_trips_and_rejects_unknown_names() -> None:
    model = IdentityModel()
    changed = {"threshold_weight": 6.5, "keep_probability": 0.1, "seed": 42}
    assert model.set_params(**changed) is model
    assert model.get_params() == {**INIT_PARAMS, **changed}
    assert IdentityModel(**model.get_params()).get_params() == model.get_params()
    with pytest.raises(ValueError, match="no_such_parameter"):
        model.set_params(no_such_parameter=1)


def test_clone_copies_parameters_not_what_was_learned() -> None:
    fitted = IdentityModel.load(SHIPPED)
    twin = clone(fitted)
    assert twin is not fitted
    assert twin.get_params() == fitted.get_params()
    assert not hasattr(twin, "settings_json_")
    with pytest.raises(NotFittedError):
        twin.check_is_fitted()
    fitted.check_is_fitted()


def test_unfitted_model_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        IdentityModel().save(tmp_path / "m.json")


def test_committed_model_saves_back_to_the_same_bytes(tmp_path: Path) -> None:
    model = IdentityModel.load(SHIPPED)
    assert set(model.to_json()["params"]) == set(INIT_PARAMS)
    out = tmp_path / "identity-splink.json"
    model.save(out)
    assert out.read_bytes() == SHIPPED.read_bytes()
