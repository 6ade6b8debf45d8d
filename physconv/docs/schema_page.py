"""The scenario reference, written from the JSON schema of the scenario files (:func:`physconv.scenario.json_schema`),
so that the page and the validator can never disagree: every key, its type, bounds, default and description."""

from __future__ import annotations

import json

HEAD = """# Scenario reference

Every key a scenario file may hold, written from the same schema that checks the files
(`physconv schema` prints it as JSON). Keys not listed here are refused with the nearest valid name.
Numbers are in the scenario's `units` when it has them (lengths, times, D in length²/time), else
dimensionless.
"""


def _type(p: dict, defs: dict) -> str:
    """A short type: ``number > 0``, ``list of integer``, ``one of: a, b``, a link to a section."""
    if "$ref" in p:
        name = p["$ref"].rsplit("/", 1)[-1]
        return f"{{ref}}`{name} <{_anchor(name)}>`"
    if "const" in p:
        return f"`{p['const']}`"
    if "enum" in p:
        return "one of " + ", ".join(f"`{v}`" for v in p["enum"])
    for key in ("anyOf", "oneOf"):
        if key in p:
            parts = [_type(q, defs) for q in p[key] if q.get("type") != "null"]
            optional = any(q.get("type") == "null" for q in p[key])
            return " or ".join(dict.fromkeys(parts)) + (" (optional)" if optional else "")
    t = p.get("type", "any")
    if t == "array":
        text = f"list of {_type(p.get('items', {}), defs)}"
        lo, hi = p.get("minItems"), p.get("maxItems")
        if lo is not None and hi is not None:
            text += f" ({lo} to {hi})" if lo != hi else f" ({lo})"
        return text
    if t == "object":
        return "mapping"
    bounds = [f"{op} {p[k]}" for k, op in (("minimum", "≥"), ("ge", "≥"), ("exclusiveMinimum", ">"), ("gt", ">"),
                                           ("maximum", "≤"), ("exclusiveMaximum", "<"), ("lt", "<")) if k in p]
    return " ".join([t] + [", ".join(bounds)] if bounds else [t])


def _anchor(name: str) -> str:
    return f"scenario-{name.lower()}"


def _description(p: dict, defs: dict) -> str:
    """The key's own description, else that of the model it refers to (``grid`` says what GridSpec says)."""
    if p.get("description"):
        return p["description"]
    refs = [q["$ref"] for q in [p] + p.get("anyOf", []) if "$ref" in q]
    if len(refs) == 1:
        return defs.get(refs[0].rsplit("/", 1)[-1], {}).get("description", "").replace("``", "`").split("\n")[0]
    return ""


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(model: dict, defs: dict) -> list[str]:
    required = set(model.get("required", []))
    lines = ["| key | type | default | what it is |", "|---|---|---|---|"]
    for key, p in model.get("properties", {}).items():
        default = "required" if key in required else (f"`{json.dumps(p['default'])}`" if "default" in p else "")
        lines.append(f"| `{key}` | {_cell(_type(p, defs))} | {_cell(default)} | {_cell(_description(p, defs))} |")
    return lines


def markdown(schema: dict) -> str:
    """The reference page as MyST Markdown: the top-level keys, then one section per nested model."""
    defs = schema.get("$defs", {})
    out = [HEAD, "## Top-level keys", ""] + _table(schema, defs)
    for name in sorted(defs):
        model = defs[name]
        out += ["", f"({_anchor(name)})=", f"## {name}", ""]
        if model.get("description"):
            out += [model["description"].replace("``", "`"), ""]
        out += _table(model, defs)
    return "\n".join(out) + "\n"


def write(path) -> None:
    """Write the page (only when its text changed, so that Sphinx does not rebuild it needlessly)."""
    from pathlib import Path

    from ..scenario import json_schema

    path = Path(path)
    text = markdown(json_schema())
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
