"""``data_manifest.yaml``: what the course artifacts are and where they live.

The manifest is read once into frozen dataclasses and validated field by
field (the records' rules are ``helpers.data.schema``), so that a typo in it
fails at load time with the entry and the field named, not later as a
confusing download or shape error.

Where it is found: ``$COURSE_MANIFEST`` if set, else ``data_manifest.yaml``
in the directory that holds the ``helpers`` package (the repository root in a
checkout or an editable install), else the copy inside the package.

Besides the artifacts (npz files with an array schema), an optional top-level
``datasets`` section names whole Hub datasets read by file pattern (kind
``dataset_files``): the course dataset that ``python -m helpers train prepare``
turns into training files. They are ``Manifest.datasets``, not ``entries``, so
``data lock/fetch/verify`` (which hash single npz files) never see them.

``pin()`` + ``save()`` are how ``python -m helpers data lock`` records a
commit sha, sha256 and size.  Saving edits only those lines of the existing
file, so comments, anchors and key order survive; a full YAML dump is the
fallback when the file's layout is not one the line editor recognises.
"""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from helpers.course import MANIFEST_ENV
from helpers.data.schema import (
    DTYPES,
    REPO_TYPES,
    ROLES,
    USED_BY,
    ArrayField,
    ArtifactError,
    DatasetFiles,
    Entry,
    ManifestError,
    check_revision,
    check_sha256,
    check_size,
    is_identifier,
    parse_dataset,
    parse_entry,
)
from helpers.fileio import atomic_write_text

__all__ = [  # the record types are re-exported: every caller imports them from here
    "ArtifactError", "ManifestError", "Manifest", "Entry", "ArrayField", "DatasetFiles",
    "load_manifest", "manifest_path", "parse_manifest", "REPO_TYPES", "ROLES", "DTYPES", "USED_BY",
]

MANIFEST_NAME = "data_manifest.yaml"


@dataclass
class Manifest:
    path: Path | None
    version: int
    dims: dict[str, int]
    tiers: tuple[str, ...]
    entries: dict[str, Entry]
    datasets: dict[str, DatasetFiles] = field(default_factory=dict)
    _pins: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def __getitem__(self, name: str) -> Entry:
        return self.entry(name)

    def entry(self, name: str) -> Entry:
        if name not in self.entries:
            raise ArtifactError(f"name must be one of {list(self.entries)}, got {name!r} "
                                f"(manifest: {self.path}).")
        return self.entries[name]

    def dataset(self, name: str) -> DatasetFiles:
        if name not in self.datasets:
            raise ArtifactError(f"dataset must be one of {list(self.datasets)} (the `datasets:` section of "
                                f"{self.path or 'the manifest'}), got {name!r}.")
        return self.datasets[name]

    def shape_of(self, f: ArrayField) -> tuple[int, ...]:
        """The field's shape with named dims replaced by their sizes."""
        return tuple(self.dims[d] if isinstance(d, str) else d for d in f.shape)

    # ----------------------------------------------------------------- writing
    def pin(self, name: str, *, revision: str, sha256: str, size: int) -> Entry:
        """Record a commit, sha256 and size for one entry (in memory; ``save()`` writes)."""
        old = self.entry(name)
        where = f"{name} (pin)"
        check_revision(where, revision)
        check_sha256(where, sha256)
        check_size(where, size)
        new = dataclasses.replace(old, revision=revision, sha256=sha256, size=int(size))
        self.entries[name] = new
        self._pins[name] = {"revision": revision, "sha256": sha256, "size": int(size)}
        return new

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write pinned values back; comments and layout are kept where possible."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ArtifactError("this manifest was not read from a file; pass save(path=...).")
        source = self.path if self.path is not None and self.path.exists() else None
        text = source.read_text() if source is not None else None
        new_text = _edit_pins(text, self._pins) if text is not None else None
        if new_text is None or not _same_data(new_text, self):
            new_text = _dump(self)
        atomic_write_text(target, new_text)  # a crash never leaves half a manifest
        self._pins.clear()
        return target


# --------------------------------------------------------------------------- reading
def manifest_path(path: str | os.PathLike | None = None) -> Path:
    """Explicit path, else ``$COURSE_MANIFEST``, else the repository root next to ``helpers``.

    A non-editable install has no repository root; there the copy shipped
    inside the package (``helpers/data_manifest.yaml``) is used instead.
    """
    if path is not None:
        return Path(path)
    env = os.environ.get(MANIFEST_ENV)
    if env:
        return Path(env).expanduser()
    package = _package()
    for candidate in (package.parent / MANIFEST_NAME, package / MANIFEST_NAME):
        if candidate.is_file():
            return candidate
    return package.parent / MANIFEST_NAME


def _package() -> Path:
    # helpers/ (this file is helpers/data/manifest.py); its parent is the checkout's root.
    return Path(__file__).resolve().parents[1]


def load_manifest(path: str | os.PathLike | None = None) -> Manifest:
    """Read and validate the manifest; raises ``ManifestError`` naming entry and field."""
    p = manifest_path(path)
    if not p.is_file():
        hint = (f" (from ${MANIFEST_ENV})" if path is None and os.environ.get(MANIFEST_ENV)
                else f" (nor inside the package, {_package() / MANIFEST_NAME})"
                if path is None else "")
        raise ManifestError(f"manifest not found at {p}{hint}. Set ${MANIFEST_ENV} to the path of "
                            f"{MANIFEST_NAME}, or run from a checkout of the course repository.")
    try:
        raw = yaml.safe_load(p.read_text())
    except yaml.YAMLError as err:
        raise ManifestError(f"{p}: not valid YAML: {err}") from None
    return parse_manifest(raw, path=p)


def parse_manifest(raw: Any, path: Path | None = None) -> Manifest:
    """Validate a parsed YAML document (``path`` only names it in messages) into a ``Manifest``."""
    where = str(path) if path is not None else "manifest"
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: expected a mapping at the top level, got {type(raw).__name__}.")
    for key in ("dims", "tiers", "artifacts"):
        if key not in raw:
            raise ManifestError(f"{where}: missing top-level field {key!r}.")
    version = raw.get("version", 1)
    if not isinstance(version, int) or version != 1:
        raise ManifestError(f"{where}: field 'version' must be 1, got {version!r}.")

    dims = raw["dims"]
    if not isinstance(dims, dict) or not dims:
        raise ManifestError(f"{where}: field 'dims' must be a mapping of name -> positive int.")
    for d, n in dims.items():
        if not is_identifier(d):
            raise ManifestError(f"{where}: dims: name {d!r} is not an identifier.")
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ManifestError(f"{where}: dims.{d} must be a positive int, got {n!r}.")

    tiers = raw["tiers"]
    if not (isinstance(tiers, list) and tiers and all(isinstance(t, str) for t in tiers)):
        raise ManifestError(f"{where}: field 'tiers' must be a non-empty list of strings, got {tiers!r}.")

    arts = raw["artifacts"]
    if not isinstance(arts, dict) or not arts:
        raise ManifestError(f"{where}: field 'artifacts' must be a non-empty mapping of name -> entry.")
    entries = {name: parse_entry(name, body, dims, where) for name, body in arts.items()}
    sets = raw.get("datasets")
    if sets is None:
        sets = {}
    if not isinstance(sets, dict):
        raise ManifestError(f"{where}: field 'datasets' must be a mapping of name -> dataset, got {sets!r}.")
    datasets = {name: parse_dataset(name, body, where) for name, body in sets.items()}
    clash = sorted(set(datasets) & set(entries))
    if clash:
        raise ManifestError(f"{where}: name(s) {clash} used both under 'artifacts' and 'datasets'.")
    return Manifest(path=path, version=version, dims=dict(dims), tiers=tuple(tiers), entries=entries,
                    datasets=datasets)


# --------------------------------------------------------------------------- writing
def _edit_pins(text: str, pins: dict[str, dict[str, Any]]) -> str | None:
    """Rewrite ``revision/sha256/size`` lines of the pinned entries in place.

    Returns None when an entry or field cannot be located unambiguously; the
    caller then falls back to a full dump.
    """
    lines = text.splitlines(keepends=True)
    for name, values in pins.items():
        start = next((i for i, ln in enumerate(lines) if re.fullmatch(rf"  {re.escape(name)}:\s*(#.*)?\n?", ln)),
                     None)
        if start is None:
            return None
        end = next((i for i in range(start + 1, len(lines)) if re.match(r"  \S|\S", lines[i])), len(lines))
        for key, value in values.items():
            pattern = re.compile(rf"^(    {key}:)[ \t]*[^#\n]*?([ \t]*#.*)?(\n?)$")
            hits = [i for i in range(start + 1, end) if pattern.match(lines[i])]
            if len(hits) != 1:
                return None
            m = pattern.match(lines[hits[0]])
            # Quoted: an all-digit sha would otherwise read back as an int.
            shown = f'"{value}"' if isinstance(value, str) else str(value)
            lines[hits[0]] = f"{m.group(1)} {shown}{m.group(2) or ''}{m.group(3)}"
    return "".join(lines)


def _same_data(text: str, manifest: Manifest) -> bool:
    try:
        again = parse_manifest(yaml.safe_load(text), manifest.path)
    except (yaml.YAMLError, ManifestError):
        return False
    return (again.entries == manifest.entries and again.dims == manifest.dims
            and again.datasets == manifest.datasets)


def _dump(manifest: Manifest) -> str:
    def field_dict(f: ArrayField):
        d = {"key": f.key, "dtype": f.dtype, "shape": list(f.shape)}
        if f.values is not None:
            d["values"] = list(f.values)
        if f.classes is not None:
            d["classes"] = f.classes
        return d

    data = {"version": manifest.version, "dims": manifest.dims, "tiers": list(manifest.tiers), "artifacts": {
        e.name: {"repo_id": e.repo_id, "repo_type": e.repo_type, "revision": e.revision,
                 "filename": e.filename, "sha256": e.sha256, "size": e.size, "used_by": list(e.used_by),
                 "schema": {r: field_dict(f) for r, f in e.schema.items()}}
        for e in manifest.entries.values()}}
    if manifest.datasets:
        data["datasets"] = {
            d.name: {"kind": d.kind, "repo_id": d.repo_id, "repo_type": d.repo_type, "revision": d.revision,
                     "files": dict(d.files), "text_column": d.text_column, "label_column": d.label_column,
                     "used_by": list(d.used_by)}
            for d in manifest.datasets.values()}
    header = ("# Course artifacts (see helpers/data/manifest.py). Rewritten by `python -m helpers data lock`;\n"
              "# the original comments could not be kept.\n")
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=None)
