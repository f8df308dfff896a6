"""``system_id``: documented form, deterministic, canonical, sensitive to physics only."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import FAST, families

from holopipe.artifacts.identity import canonical_encoding, system_id

FORM = re.compile(r"^[A-Za-z0-9_.]+-[0-9a-f]{12}$")

ADS = {"family": "ads", "d": 3, "z_h": 1.0, "params": {}}
LIF = {"family": "lifshitz", "d": 4, "z_h": 0.7, "params": {"zeta": 2.0, "theta": 0.0}}
HVLF = {
    "family": "hvlf",
    "d": 3,
    "z_h": None,
    "params": {"zeta": 1.5, "theta": 0.5},
    "truth": np.linspace(0.01, 1.0, 9) ** 2,
}
CASES = {"ads": ADS, "lifshitz": LIF, "hvlf": HVLF}

definitions = st.fixed_dictionaries(
    {
        "family": families,
        "d": st.integers(1, 12),
        "z_h": st.none() | st.floats(1e-3, 1e3),
        "params": st.dictionaries(
            st.sampled_from(["zeta", "theta", "a", "mu"]), st.floats(-10, 10), max_size=4
        ),
    }
)


def _reversed(value):
    """The same mapping with every dict's insertion order reversed."""
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    return value


def test_documented_values():
    assert system_id(ADS) == "ads_d3-525ba9894eec"
    assert system_id(ADS, name="ads_d3_000") == "ads_d3_000-525ba9894eec"


@FAST
@given(defining=definitions, name=st.none() | st.text(max_size=20))
def test_documented_form(defining, name):
    ident = system_id(defining, name=name)
    assert FORM.match(ident), ident
    prefix, digest = ident.rsplit("-", 1)
    if not name:
        assert prefix == f"{defining['family']}_d{defining['d']}"
    # The hash part depends on the physics only, never on the readable name.
    assert digest == system_id(defining).rsplit("-", 1)[1]


def test_unsafe_name_characters_are_replaced():
    assert system_id(ADS, name="ads d3/000:x").startswith("ads_d3_000_x-")


@FAST
@given(defining=definitions)
def test_deterministic_and_key_order_insensitive(defining):
    ident = system_id(defining)
    assert system_id(defining) == ident
    assert system_id(_reversed(defining)) == ident
    assert canonical_encoding(_reversed(defining)) == canonical_encoding(defining)


def test_numpy_scalars_give_the_same_id():
    as_numpy = {"family": "ads", "d": np.int64(3), "z_h": np.float64(1.0), "params": {}}
    assert system_id(as_numpy) == system_id(ADS)


def test_same_across_processes():
    script = (
        "import json, sys, numpy as np\n"
        "from holopipe.artifacts.identity import system_id\n"
        f"cases = {{'ads': {ADS!r}, 'lifshitz': {LIF!r}}}\n"
        "cases['hvlf'] = dict(family='hvlf', d=3, z_h=None, params={'theta': 0.5, 'zeta': 1.5},"
        " truth=np.linspace(0.01, 1.0, 9) ** 2)\n"
        "print(json.dumps({k: system_id(v) for k, v in cases.items()}))\n"
    )
    expected = {k: system_id(v) for k, v in CASES.items()}
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        assert json.loads(out.stdout) == expected


@pytest.mark.parametrize("value", [1.0, 0.5, 1 / 3, 2.7, 3 / (4 * np.pi), 1e-3, 123.456, 0.7])
@pytest.mark.parametrize("direction", [np.inf, -np.inf])
def test_insensitive_to_one_ulp(value, direction):
    nudged = float(np.nextafter(value, direction))
    assert nudged != value
    base = {"family": "lifshitz", "d": 3, "z_h": value, "params": {"zeta": value}}
    noisy = {"family": "lifshitz", "d": 3, "z_h": nudged, "params": {"zeta": nudged}}
    assert system_id(noisy) == system_id(base)


def test_arrays_insensitive_to_one_ulp():
    truth = np.linspace(0.01, 1.0, 50) ** 2
    noisy = np.nextafter(truth, np.inf)
    assert not np.array_equal(truth, noisy)
    assert system_id({**HVLF, "truth": noisy}) == system_id({**HVLF, "truth": truth})
    # ... and independent of the array's dtype and byte order as given.
    assert system_id({**HVLF, "truth": truth.astype(">f8")}) == system_id({**HVLF, "truth": truth})


@pytest.mark.parametrize(
    "change",
    [
        {"family": "lifshitz"},
        {"d": 4},
        {"z_h": 1.0001},
        {"z_h": None},
        {"params": {"zeta": 1.0}},
        {"extra": "x"},
    ],
)
def test_different_physics_gives_a_different_id(change):
    assert system_id({**ADS, **change}).rsplit("-")[1] != system_id(ADS).rsplit("-")[1]


def test_different_arrays_give_a_different_id():
    changed = HVLF["truth"].copy()
    changed[4] *= 1.001
    assert system_id({**HVLF, "truth": changed}) != system_id(HVLF)


@FAST
@given(a=st.floats(1e-3, 1e3), b=st.floats(1e-3, 1e3))
def test_id_tracks_twelve_significant_digits(a, b):
    same = format(a, ".12g") == format(b, ".12g")
    assert (system_id({**ADS, "z_h": a}) == system_id({**ADS, "z_h": b})) == same


def test_unsupported_values_are_refused():
    with pytest.raises(TypeError, match="set"):
        system_id({**ADS, "params": {1, 2}})


def test_example_prediction_uses_the_documented_id():
    from holopipe.artifacts.prediction import GeometryPrediction

    assert GeometryPrediction.example().meta.system_id == system_id(ADS)
