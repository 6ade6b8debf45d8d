"""Scenario files: valid ones load, every bad one is refused naming the file, line and key."""

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from physconv import scenario
from physconv.errors import ScenarioError

SHIPPED = sorted(scenario.SHIPPED.glob("*.yaml"))

BASE = textwrap.dedent("""\
    name: tiny
    grid: {shape: [12, 10], spacing: 1.0}
    boundary: reflecting
    diffusivity: 0.2
    initial: {kind: random_cubes, seed: 1}
    time:
      dt: 1.0
      steps: 10
      save_every: 5
    methods: [explicit, spectral, gaussian, monte_carlo]
    monte_carlo: {particles: 1000, seed: 2}
    """)


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_the_shipped_scenarios_are_found():
    """The list below must never be empty (it was, silently, when the module's folder changed)."""
    assert len(SHIPPED) >= 8 and {p.stem for p in SHIPPED} == set(scenario.shipped())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_is_valid(path):
    s = scenario.load(path)
    assert s.name == path.stem
    assert s.memory_estimate() < 2 * 2**30


def test_defaults_and_derived_values(tmp_path):
    s = scenario.load(write(tmp_path, BASE))
    assert s.saved_steps().tolist() == [0, 5, 10]
    assert s.make_grid().boundary_names == {"y": "reflecting", "x": "reflecting"}
    assert s.step_kernel() is None
    assert s.text == BASE


def test_save_every_defaults_to_about_ten_frames(tmp_path):
    s = scenario.load(write(tmp_path, BASE.replace("  save_every: 5\n", "")), ["time.steps=95"])
    assert s.saved_steps().tolist() == list(range(0, 91, 10)) + [95]


def test_numbers_in_exponent_form_are_read_as_numbers(tmp_path):
    s = scenario.load(write(tmp_path, BASE.replace("diffusivity: 0.2", "diffusivity: 2e-1")))
    assert s.diffusivity == 0.2


def test_kernel_scenarios_build_a_probability_kernel(tmp_path):
    text = BASE.replace("diffusivity: 0.2\n", "kernel: {name: edge, temperature: 2.0}\n")
    k = scenario.load(write(tmp_path, text)).step_kernel()
    assert k.shape == (3, 3) and abs(k.sum() - 1) < 1e-15 and k[1, 1] > k[0, 0]


def test_overrides_apply_before_validation_and_are_recorded(tmp_path):
    s = scenario.load(write(tmp_path, BASE), ["grid.shape=[6, 8]", "monte_carlo.mode=counts"])
    assert s.grid.shape == [6, 8] and s.monte_carlo.mode == "counts"
    assert "# --set grid.shape=[6, 8]" in s.text


def test_relative_paths_resolve_against_the_scenario_folder(tmp_path):
    import numpy as np

    sub = tmp_path / "sub"
    sub.mkdir()
    np.save(sub / "field.npy", np.ones((12, 10)))
    text = BASE.replace("{kind: random_cubes, seed: 1}", "{kind: array, path: field.npy}")
    s = scenario.load(write(sub, text))
    assert s.initial_field().sum() == 120


def test_json_schema_lists_the_keys():
    schema = scenario.json_schema()
    assert {"name", "grid", "initial", "time", "methods", "kernel", "monte_carlo"} <= set(schema["properties"])
    json.dumps(schema)


BAD = [
    # (replace this, with this, expected message parts)
    ("name: tiny", "name: ../evil", [":1: name:", "letters, digits"]),
    ("name: tiny", "name: a/b", [":1: name:"]),
    ("diffusivity: 0.2", "diffusivity: -0.2", [":4: diffusivity:", "greater than or equal to 0"]),
    ("diffusivity: 0.2", "diffusivity: fast", [":4: diffusivity:", "valid number"]),
    ("diffusivity: 0.2", "diffusivty: 0.2", [":4: diffusivty:", "did you mean 'diffusivity'"]),
    ("  dt: 1.0", "  dt: 3.0", [":7: time.dt:", "largest stable dt is 1.25"]),
    ("  steps: 10", "  steps: 2.5", [":8: time.steps:", "valid integer"]),
    ("  steps: 10", "  step: 10", [":8: time.step:", "did you mean 'steps'"]),
    ("methods: [explicit, spectral, gaussian, monte_carlo]", "methods: [explicit, magic]",
     [":10: methods[1]:", "'explicit'"]),
    ("methods: [explicit, spectral, gaussian, monte_carlo]", "methods: []", [":10: methods:"]),
    ("boundary: reflecting", "boundary: sticky", [":3: boundary:", "unknown boundary 'sticky'"]),
    ("boundary: reflecting", "boundary: dirichlet\nboundary_value: 1.0", [":11: methods:", "dirichlet"]),
    ("boundary: reflecting", "boundary: dirichlet", [":3: boundary:", "needs a value"]),
    ("initial: {kind: random_cubes, seed: 1}", "initial: {kind: random_cube, seed: 1}",
     [":5: initial.kind:", "did you mean 'random_cubes'"]),
    ("initial: {kind: random_cubes, seed: 1}", "initial: {kind: random_cubes, sed: 1}",
     [":5: initial.sed:", "did you mean 'seed'"]),
    ("initial: {kind: random_cubes, seed: 1}", "initial: {kind: image, path: nowhere.png}",
     [":5: initial.path:", "file not found"]),
    ("diffusivity: 0.2", "kernel: {weights: [[1, 2], [3, 4]]}", [":4: kernel.weights:", "odd size"]),
    ("diffusivity: 0.2", "kernel: {weights: [[1, 2, 1]], normalize: none}", [":4: kernel.weights:",
                                                                              "sums to 4"]),
    ("diffusivity: 0.2", "kernel: {name: edge, temperature: 0}", [":4: kernel.temperature:", "greater than 0"]),
    ("diffusivity: 0.2", "diffusivity: 0.2\nkernel: {name: box}", ["kernel:", "not both"]),
    ("diffusivity: 0.2", "kernel: {weights: [[0, 0, 0], [0, 0, 3], [0, 0, 0]]}", [":4: kernel:", "symmetric"]),
    ("diffusivity: 0.2\n", "", ["diffusivity:", "give a diffusivity"]),
    ("grid: {shape: [12, 10], spacing: 1.0}", "grid: {shape: [120000, 100000], spacing: 1.0}",
     [":2: grid.shape:", "GiB"]),
    ("grid: {shape: [12, 10], spacing: 1.0}", "grid: {shape: [12, 10], spacing: 0}", [":2: grid:", "positive"]),
    ("monte_carlo: {particles: 1000, seed: 2}", "monte_carlo: {particles: 0}", [":11: monte_carlo.particles:"]),
    # the key at fault, not a neighbour; a typo gets the nearest valid name
    ("boundary: reflecting", "boundary_value: 2.0\nboundary: absorbnig", [":4: boundary:", "did you mean 'absorbing'"]),
    ("boundary: reflecting", "boundary: {y: periodic, x: refelcting}\nboundary_value: 0.5",
     [":3: boundary.x:", "did you mean 'reflecting'"]),
    ("boundary: reflecting", "boundary: reflecting\nboundary_value: 0.5", [":4: boundary_value:", "no axis"]),
    ("boundary: reflecting", "boundary: {y: [absorbing, periodic], x: reflecting}",
     [":3: boundary.y:", "one rule per axis", "not supported"]),
    ("boundary: reflecting", "boundary: {y: periodic, x: {kind: absorbing}}", [":3: boundary.x:", "is a name"]),
    ("diffusivity: 0.2", "kernel: {name: sharpn}", [":4: kernel.name:", "did you mean 'sharpen'"]),
    ("methods: [explicit, spectral, gaussian, monte_carlo]", "methods: [explicit, spectrl]",
     [":10: methods[1]:", "did you mean 'spectral'"]),
    ("monte_carlo: {particles: 1000, seed: 2}", "monte_carlo: {particles: 1000, mode: count}",
     [":11: monte_carlo.mode:", "did you mean 'counts'"]),
]


@pytest.mark.parametrize("old, new, parts", BAD, ids=[b[1].split(":")[0] + str(i) for i, b in enumerate(BAD)])
def test_bad_scenarios_name_the_file_line_and_key(tmp_path, old, new, parts):
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new))
    with pytest.raises(ScenarioError) as info:
        scenario.load(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert "\n" not in message
    for part in parts:
        assert part in message


@pytest.mark.parametrize(
    "text, words",
    [
        ("name: [unclosed", "not valid YAML"),
        ("!!python/object/apply:os.system ['echo hacked']", "not valid YAML"),
        ("- just\n- a list\n", "mapping of keys"),
        ("", "mapping of keys"),
    ],
)
def test_unreadable_scenarios_are_refused(tmp_path, text, words):
    with pytest.raises(ScenarioError, match=words):
        scenario.load(write(tmp_path, text))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        scenario.load(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="is a folder"):
        scenario.load(tmp_path)


def test_bad_overrides_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="key.path=value"):
        scenario.load(write(tmp_path, BASE), ["grid.shape"])
    with pytest.raises(ScenarioError, match=r"\(--set\): time.dt"):
        scenario.load(write(tmp_path, BASE), ["time.dt=5"])


def test_shipped_scenarios_load_by_name_and_misspellings_get_a_suggestion():
    s = scenario.load("point_source")
    assert s.name == "point_source" and s.source.endswith("point_source.yaml")
    with pytest.raises(ScenarioError, match=r"salt_aquarim: no such file, nor a shipped scenario "
                                            r"\(did you mean 'salt_aquarium'\?\)"):
        scenario.load("salt_aquarim")
    with pytest.raises(ScenarioError, match="no such file"):
        scenario.load("missing.yaml")


@pytest.mark.parametrize("methods, blamed, free", [
    ("[implicit, spectral, gaussian]", ["spectral"], "implicit, gaussian take any dt"),
    ("[gaussian, monte_carlo]", ["monte_carlo"], "gaussian takes any dt"),
    ("[explicit]", ["explicit"], "implicit and gaussian take any dt"),
])
def test_an_unstable_dt_names_the_asked_for_methods_that_need_a_stable_step(tmp_path, methods, blamed, free):
    with pytest.raises(ScenarioError) as info:
        scenario.load(write(tmp_path, BASE), [f"methods={methods}", "time.dt=7.5"])
    msg = str(info.value)
    assert "time.dt: dt = 7.5 is unstable for " + ", ".join(blamed) in msg and "largest stable dt is 1.25" in msg
    assert f"drop {', '.join(blamed)}" in msg and free in msg
    assert msg.split("unstable for ")[1].split(" (")[0] == ", ".join(blamed)
    if "spectral" in blamed:
        assert "exact power of the explicit step" in msg


@pytest.mark.parametrize("methods", ["[implicit, gaussian]", "[gaussian]", "[implicit, monte_carlo]"])
def test_methods_that_take_any_dt_are_not_refused(tmp_path, methods):
    over = [f"methods={methods}", "time.dt=7.5"] + (["monte_carlo.lattice=false"] if "monte" in methods else [])
    assert scenario.load(write(tmp_path, BASE), over).time.dt == 7.5


@pytest.mark.parametrize("item, words", [
    ("time.dt.value=2", ["(--set): time.dt.value:", "time.dt is 1.0, not a mapping", "--set time.dt=VALUE"]),
    ("grid.shape.y=4", ["(--set): grid.shape.y:", "grid.shape is [12, 10]"]),
    ("diffusivity=0.001:0.002", ["(--set): diffusivity:", "physconv sweep"]),
    ("monte_carlo.seed=1,2,3", ["(--set): monte_carlo.seed:", "physconv sweep"]),
    ("time.dt=0.5:1:3:log", ["(--set): time.dt:", "physconv sweep"]),
    ("time.dt=fast", ["(--set): time.dt:", "valid number"]),
])
def test_a_bad_override_is_blamed_on_the_override(tmp_path, item, words):
    with pytest.raises(ScenarioError) as info:
        scenario.load(write(tmp_path, BASE), [item])
    message = str(info.value)
    assert all(w in message for w in words), message
    assert ":7:" not in message and ":4:" not in message
    if "sweep" not in words[-1]:
        assert "sweep" not in message


@pytest.mark.parametrize("dt, end, steps", [(0.5, 10.0, 20), (0.25, 3.0, 12), (1.0, 0.0, 0), (0.1, 0.7, 7)])
def test_time_end_gives_the_steps_that_reach_it(tmp_path, dt, end, steps):
    s = scenario.load(write(tmp_path, BASE), [f"time.dt={dt}", "time.steps=null", f"time.end={end}"])
    assert s.time.steps == steps and s.time.dt == dt and s.warnings == []
    assert s.saved_steps()[-1] * s.time.dt == pytest.approx(end)


@pytest.mark.parametrize("spacing, D, end", [(1.0, 0.2, None), ([0.5, 2.0], 0.3, 10.0), (0.1, 0.001, 7.0)])
def test_dt_auto_is_a_safe_fraction_of_the_largest_stable_step_and_says_so(tmp_path, spacing, D, end):
    over = ["time.dt=auto", f"grid.spacing={spacing}", f"diffusivity={D}"]
    over += ["time.steps=null", f"time.end={end}"] if end is not None else []
    s = scenario.load(write(tmp_path, BASE), over)
    d = np.broadcast_to(np.asarray(spacing, dtype=float), (2,))
    limit = 1 / (2 * D * np.sum(1 / d**2))
    assert s.time.dt <= scenario.AUTO_DT_SAFETY * limit * (1 + 1e-12)
    if end is None:
        assert s.time.dt == pytest.approx(scenario.AUTO_DT_SAFETY * limit, rel=1e-12) and s.time.steps == 10
    else:
        assert s.time.steps * s.time.dt == pytest.approx(end, rel=1e-12)
        assert (s.time.steps - 1) * scenario.AUTO_DT_SAFETY * limit < end  # the fewest steps that are safe
    said = [w for w in s.warnings if "time.dt: auto" in w]
    assert len(said) == 1 and f"dt = {s.time.dt:.6g}" in said[0] and f"{limit:.6g}" in said[0]


@pytest.mark.parametrize("over, words", [
    (["time.dt=0.3", "time.end=1.0", "time.steps=null"], ["time.end:", "not a whole number", "dt = 0.25 (4 steps)"]),
    (["time.end=5"], ["time.end:", "not both"]),
    (["time.steps=null"], ["time.steps:", "is required", "time.end"]),
    (["time.dt=auto", "diffusivity=null", "kernel={name: box}"], ["time.dt:", "give a number"]),
    (["time.dt=auto", "diffusivity=0"], ["time.dt:", "positive diffusivity"]),
])
def test_bad_time_keys_are_refused_at_the_key(tmp_path, over, words):
    with pytest.raises(ScenarioError) as info:
        scenario.load(write(tmp_path, BASE), over)
    assert all(w in str(info.value) for w in words), str(info.value)


@pytest.mark.parametrize("amplitude, refused", [(3e35, True), (2e-33, True), (7e-39, True), (1e25, False),
                                                (4e-28, False)])
def test_float32_storage_is_refused_outside_the_range_its_bound_holds_in(amplitude, refused):
    overrides = ["methods=[explicit, spectral]", "dtype=float32",
                 f"initial={{kind: gaussian, amplitude: {amplitude}, width: 3}}", "grid.shape=[24, 20]", "time.steps=40"]
    if refused:
        with pytest.raises(scenario.ScenarioError, match=r"dtype: float32 storage holds fields whose largest value"):
            scenario.load("salt_aquarium", overrides)
        return
    from physconv import metrics, runner

    cmp = metrics.compare(runner.run(scenario.load("salt_aquarium", overrides), progress=False))
    assert metrics.verdict(cmp, 0).startswith("agree to float32 round-off")
