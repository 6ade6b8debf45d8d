"""What determines a result: the scenario's text, the content of every file it reads, the physconv version.

A sweep or ensemble store is filled over several commands (a re-run resumes it), so it must know what it
holds: :func:`of_plan` records the identity when the store is created, a variant's done-mark is a hash of
its text and that identity (:func:`variant_mark`), and :func:`difference` says, in one phrase, what
changed when a later command brings another identity to the same store. Files are named by the key that
names them (``initial.path``) and compared by SHA-256 of their bytes, so overwriting an ``.npy`` in place
is a change, and moving a scenario with its files is not.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from pathlib import Path

from . import __version__

CHUNK = 1 << 20  # bytes read at a time when hashing a file


def file_digest(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def input_files(s) -> dict[str, Path]:
    """``{key: path}`` of every file a validated scenario reads (any ``path`` key of its sections)."""
    out = {}

    def walk(model, prefix):
        for name in type(model).model_fields:
            value = getattr(model, name)
            key = f"{prefix}{name}"
            if name == "path" and isinstance(value, str) and not value.startswith("<array"):
                p = Path(value).expanduser()
                out[key] = p if p.is_absolute() else Path(s._base_dir) / p
            elif hasattr(type(value), "model_fields"):
                walk(value, key + ".")

    walk(s, "")
    return out


def of_plan(text: str, overrides, scenarios) -> tuple[dict, dict]:
    """``(identity, files)``. The identity of a store: the scenario file's text (SHA-256), the overrides
    common to every variant, the SHA-256 of the files each key names (``{key: [digest, ...]}``, by
    content: a scenario moved with its files is the same input) and the physconv version. ``files``:
    ``{path: digest}`` of every file any variant reads, for the workers to check."""
    files: dict = {}
    by_key: dict = {}
    for s in scenarios:
        for key, path in input_files(s).items():
            if str(path) not in files:
                files[str(path)] = file_digest(Path(path))
            by_key.setdefault(key, set()).add(files[str(path)])
    return ({"scenario_sha256": hashlib.sha256(text.encode()).hexdigest(), "overrides": list(overrides),
             "files": {k: sorted(v) for k, v in sorted(by_key.items())}, "physconv": __version__}, files)


def digest(identity: dict) -> str:
    """A short hash of an identity (what a done-mark is bound to)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def variant_mark(text: str, identity: dict) -> int:
    """A nonzero 63-bit done-mark: the variant's own text (its overrides, its replica) under the identity."""
    h = int.from_bytes(hashlib.sha256((digest(identity) + "\n" + text).encode()).digest()[:8], "little") >> 1
    return h or 1


def difference(old: dict, new: dict, old_text: str = "", new_text: str = "") -> str | None:
    """One phrase saying what differs between two identities (None if nothing does)."""
    if old.get("scenario_sha256") != new.get("scenario_sha256"):
        return "the scenario's text changed" + _first_change(old_text, new_text)
    if old.get("overrides") != new.get("overrides"):
        return f"the --set values changed ({' '.join(old.get('overrides', [])) or 'none'} -> " \
               f"{' '.join(new.get('overrides', [])) or 'none'})"
    before, now = old.get("files", {}), new.get("files", {})
    for key in sorted(set(before) | set(now)):
        if before.get(key) != now.get(key):
            return f"{key}: the file it names changed (its content differs from when the store was written)"
    if old.get("physconv") != new.get("physconv"):
        return f"it was written by physconv {old.get('physconv')}, this is {new.get('physconv')}"
    return None


def _first_change(old: str, new: str) -> str:
    a, b = old.splitlines(), new.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        was = a[i1].strip() if i1 < i2 else "(nothing)"
        now = b[j1].strip() if j1 < j2 else "(nothing)"
        return f" (line {j1 + 1}: {was[:60]!r} -> {now[:60]!r})"
    return ""
