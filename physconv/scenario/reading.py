"""Scenario text read: YAML by ``safe_load`` with its limits, every key's line, overrides, the shipped
scenarios, and errors that name the file, the line and the key."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ScenarioError
from ..initial import KINDS

from .checks import _KeyProblem, advice, check, resolve_time
from .schema import MAX_FILE_BYTES, MAX_NODES, Scenario


# --- reading -----------------------------------------------------------------------------------


SHIPPED = Path(__file__).parent.parent / "scenarios"


def shipped() -> list[str]:
    """Names of the scenarios shipped with physconv (``physconv run NAME``)."""
    return sorted(q.stem for q in SHIPPED.glob("*.yaml"))


def resolve(name) -> Path:
    """A scenario file from a path, or from the name of a shipped scenario (``'point_source'``)."""
    p = Path(name)
    text = str(name)
    if p.exists() or p.suffix in (".yaml", ".yml") or os.sep in text or "/" in text:
        return p
    if (SHIPPED / f"{text}.yaml").exists():
        return SHIPPED / f"{text}.yaml"
    raise ScenarioError(f"{text}: no such file, nor a shipped scenario{_nearest(text, shipped())} "
                        f"(shipped: {', '.join(shipped())})")


def load(path, overrides=(), max_bytes: int | None = None) -> Scenario:
    """Read and validate a scenario file, or a mapping of the same keys.

    Parameters
    ----------
    path : str, Path or mapping
        A YAML file, the name of a shipped scenario (see :func:`shipped`), or a dict of the
        scenario's keys, in which ``initial`` may be a numpy array of the grid's shape.
    overrides : sequence of str
        ``key.path=value`` items (value in YAML), applied before validation.
    max_bytes : int, optional
        Refuse runs needing more memory (default: 80 % of physical memory).

    Raises
    ------
    ScenarioError
        One line naming the file (``<dict>`` for a mapping), the line and the key.

    Examples
    --------
    >>> import numpy as np
    >>> s = load({"name": "box", "grid": {"shape": [8, 8]}, "diffusivity": 0.2,
    ...           "initial": np.eye(8), "time": {"dt": 1.0, "steps": 4}})
    >>> float(s.initial_field().trace()), s.time.steps
    (8.0, 4)
    """
    if isinstance(path, Mapping):
        return _load_mapping(path, overrides, max_bytes)
    path = resolve(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(f"{path}: is a folder, not a scenario file")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(f"{path}: not a regular file (a scenario is a YAML text file)")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{path}: {info.st_size} bytes; a scenario file has at most {MAX_FILE_BYTES} "
                                "(1 MiB; put large data in an initial 'array' or 'image' file)")
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file (UTF-8)") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: more than {MAX_FILE_BYTES} bytes; a scenario file has at most 1 MiB")
    return parse(text, source=str(path), base_dir=path.parent, overrides=overrides, max_bytes=max_bytes)


def _load_mapping(data: Mapping, overrides, max_bytes) -> Scenario:
    """A scenario from a mapping: written as YAML text (its record in results), an array initial kept aside."""
    data = dict(data)
    given = None
    if isinstance(data.get("initial"), np.ndarray):
        given = np.array(data["initial"], dtype=np.float64)
        digest = hashlib.sha256(np.ascontiguousarray(given).tobytes()).hexdigest()[:16]
        data["initial"] = {"kind": "array", "path": f"<array {'x'.join(map(str, given.shape))}, sha256 {digest}>"}
    try:
        text = yaml.safe_dump(_plain(data), sort_keys=False)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"<dict>: holds a value that is not plain data ({' '.join(str(exc).split())[:200]})") from None
    return parse(text, source="<dict>", overrides=overrides, max_bytes=max_bytes, given=given)


def _plain(obj):
    """numpy numbers and arrays in a nested mapping turned into Python numbers and lists."""
    if isinstance(obj, Mapping):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic)):
        return obj.tolist()
    return obj


def parse(text: str, source: str = "<scenario>", base_dir=".", overrides=(), max_bytes: int | None = None,
          given=None) -> Scenario:
    """Validate scenario text (see :func:`load`); ``given``: the initial field as an array."""
    data, lines = read_yaml(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping of keys (name:, grid:, ...), got {type(data).__name__}")
    for item in overrides:
        _apply_override(data, item, source)
    where = _Locator(source, lines if source != "<dict>" else {}, overrides)  # a dict's YAML has no lines of the user's
    _check_keys(data, Scenario, (), where)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ScenarioError(where(_key_path(err["loc"]), _pydantic_message(err))) from None
    scenario._text = text if not overrides else text + "".join(f"\n# --set {o}" for o in overrides)
    scenario._source = source
    scenario._base_dir = Path(base_dir)
    scenario._given = given
    try:
        timing = resolve_time(scenario)
        check(scenario, max_bytes)
    except _KeyProblem as exc:
        raise ScenarioError(where(exc.path, exc.message)) from None
    scenario._warnings = [where(path, message) for path, message in timing + advice(scenario)]
    return scenario


# --- error locations and messages --------------------------------------------------------------


class _Locator:
    """Formats ``file:line: key.path: message``; a key given with ``--set`` is blamed on the override."""

    def __init__(self, source, lines, overrides):
        self.source, self.lines = source, lines
        self.overridden = {tuple(o.split("=", 1)[0].strip().split(".")): o.split("=", 1)[1]
                           for o in overrides if "=" in o}

    def __call__(self, path, message) -> str:
        path = tuple(path)
        for n in range(1, len(path) + 1):
            value = self.overridden.get(tuple(str(p) for p in path[:n]))
            if value is not None:
                if _looks_like_several(value):
                    message += (f"; several values are for physconv sweep (--set {_dotted(path[:n])}=V1,V2,... "
                                "or START:STOP:NUM)")
                return f"{self.source} (--set): {_dotted(path)}: {message}"
        for n in range(len(path), 0, -1):
            head = path[:n]
            if head in self.lines:
                return f"{self.source}:{self.lines[head]}: {_dotted(path)}: {message}"
        return f"{self.source}: {_dotted(path) or 'scenario'}: {message}"


def _looks_like_several(value: str) -> bool:
    """True for an override value written as a sweep's list (``a,b``) or range (``a:b[:n[:log]]``)."""
    text = value.strip()
    if text[:1] in "[{'\"":
        return False
    parts = text.split(":")
    numeric = all(re.fullmatch(r"[-+]?[0-9.]+(e[-+]?[0-9]+)?", p.strip(), re.I) for p in parts[:3])
    return "," in text or (2 <= len(parts) <= 4 and numeric)


def _dotted(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none"}


def _key_path(loc) -> tuple:
    """The scenario keys of a pydantic error location, without the names of union members and validators
    (``grid.spacing.function-before[_number(), float]`` -> ``grid.spacing``)."""
    out = []
    for i, p in enumerate(loc):
        if isinstance(p, int):
            out.append(p)
        elif ("[" in p or "(" in p or p.lower() in _TYPE_TAGS
              or (p in KINDS and tuple(out) == ("initial",))):  # the initial kind's model tag
            continue
        else:
            out.append(p)
    return tuple(out)


def _pydantic_message(err) -> str:
    msg = err["msg"]
    if err["type"] == "missing":
        return "is required"
    if err["type"] == "string_pattern_mismatch":
        return "must use letters, digits, _ and - only (it becomes the output file name)"
    if err["type"] == "literal_error":
        options = re.findall(r"'([^']*)'", err.get("ctx", {}).get("expected", ""))
        hint = _nearest(str(err.get("input")), options) if isinstance(err.get("input"), str) else ""
        return f"{err.get('input')!r} is not valid{hint}; " + msg.replace("Input should be", "must be")
    if err["type"] == "value_error":
        return msg.removeprefix("Value error, ")
    if err["type"] == "finite_number":
        return "must be a finite number (not inf or nan)"
    if err["type"] == "string_too_long":
        return f"is too long ({msg.split('at most')[-1].strip()})" if "at most" in msg else msg
    return msg[0].lower() + msg[1:] if msg else msg


def read_yaml(text: str, source: str = "<scenario>"):
    """Parse YAML safely in time and memory linear in the text: ``(data, key_lines)``.

    The text is composed once (``SafeLoader``); then, visiting every node once,
    duplicate keys are refused, and so is a document whose aliases expand to
    more than :data:`MAX_NODES` values or that nests too deeply. Only then are
    Python objects built (aliases share them) and the line of every key path
    recorded.
    """
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, {}
        _check_nodes(root, source)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ScenarioError(f"{source}{line}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply (a scenario is a few levels of keys and lists)") from None
    finally:
        loader.dispose()
    return data, _key_lines(root)


def _check_nodes(root, source) -> None:
    """Duplicate keys and the expanded size, each node visited once (sizes memoised by node)."""
    size: dict[int, int] = {}
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in size:
            continue
        kids = []
        if isinstance(node, yaml.MappingNode):
            kids = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            kids = list(node.value)
        if not children_done:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in size)
            continue
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise ScenarioError(f"{source}:{key.start_mark.line + 1}: {key.value}: duplicate key "
                                            "(each key may appear once in a mapping)")
                    seen.add(key.value)
        size[id(node)] = 1 + sum(size[id(k)] for k in kids)
        if size[id(node)] > MAX_NODES:
            raise ScenarioError(f"{source}:{node.start_mark.line + 1}: the document expands to more than {MAX_NODES} "
                                "values (through YAML aliases); a scenario is small")


def _key_lines(root) -> dict[tuple, int]:
    """Line (1-based) of every mapping key and sequence item, by key path (from the composed nodes)."""
    out: dict[tuple, int] = {}

    def walk(node, path):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = path + (k.value,)
                out[key] = k.start_mark.line + 1
                walk(v, key)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                out[path + (i,)] = v.start_mark.line + 1
                walk(v, path + (i,))

    walk(root, ())
    return out


def _check_keys(data, model, path, where) -> None:
    """Refuse unknown keys, suggesting the nearest valid one."""
    if not isinstance(data, dict):
        return
    if model is None:  # the initial: block, whose keys depend on its kind
        kind = data.get("kind")
        if kind not in KINDS:
            hint = _nearest(str(kind), KINDS)
            raise ScenarioError(where(path + ("kind",), f"unknown initial kind {kind!r}{hint}; "
                                                        f"valid: {', '.join(KINDS)}"))
        model = KINDS[kind]
    fields = model.model_fields
    for key in data:
        if key not in fields:
            raise ScenarioError(where(path + (key,), f"unknown key{_nearest(str(key), fields)}; "
                                                     f"valid here: {', '.join(fields)}"))
        sub = _submodel(fields[key].annotation)
        if key == "initial" and model is Scenario:
            _check_keys(data[key], None, path + (key,), where)
        elif sub is not None:
            _check_keys(data[key], sub, path + (key,), where)


def _submodel(annotation):
    for t in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def _nearest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _apply_override(data: dict, item: str, source: str) -> None:
    if "=" not in item:
        raise ScenarioError(f"{source}: --set {item!r}: write key.path=value")
    key, value = item.split("=", 1)
    parts = key.strip().split(".")
    if not all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) for p in parts):
        raise ScenarioError(f"{source}: --set {item!r}: bad key path {key!r}")
    try:
        parsed, _ = read_yaml(value, f"{source}: --set {key.strip()}")
    except ScenarioError as exc:
        raise ScenarioError(f"{exc} (in the value given with --set)") from None
    node = data
    for i, p in enumerate(parts[:-1]):
        if node.get(p) is None:
            node[p] = {}
        elif not isinstance(node[p], dict):
            head = ".".join(parts[:i + 1])
            raise ScenarioError(f"{source} (--set): {key.strip()}: {head} is {node[p]!r}, not a mapping of keys; "
                                f"write --set {head}=VALUE")
        node = node[p]
    node[parts[-1]] = parsed


def json_schema() -> dict:
    """The JSON schema of a scenario file."""
    return Scenario.model_json_schema()
