"""``data_manifest.yaml``: what the course artifacts are and where they live.

The manifest is read once into frozen dataclasses and validated field by
field, so that a typo in it fails at load time with the entry and the field
named, not later as a confusing download or shape error.

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
from helpers.fileio import atomic_write_text

__all__ = [
    "ArtifactError", "ManifestError", "Manifest", "Entry", "ArrayField", "DatasetFiles",
    "load_manifest", "manifest_path", "REPO_TYPES", "ROLES", "DTYPES", "USED_BY",
]

MANIFEST_NAME = "data_manifest.yaml"

REPO_TYPES = ("dataset", "model")
ROLES = ("logits", "labels", "tiers", "preds")
# Families accept any width of that kind; exact names must match exactly.
DTYPE_FAMILIES = ("float", "int", "str")
DTYPES = DTYPE_FAMILIES + ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                           "uint8", "uint16", "uint32", "uint64")
USED_BY = ("lab", "homework", "training")

_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENTRY_KEYS = ("repo_id", "repo_type", "revision", "filename", "sha256", "size", "used_by", "schema")
_FIELD_KEYS = ("key", "dtype", "shape", "values", "classes")
DATASET_KINDS = ("dataset_files",)
_DATASET_KEYS = ("kind", "repo_id", "repo_type", "revision", "files", "text_column", "label_column", "used_by")


class ArtifactError(ValueError):
    """A course artifact (or its manifest) cannot be used; the message says how to fix it.

    Defined here rather than in ``helpers.artifacts`` so that manifest errors
    are artifact errors too; ``helpers.artifacts.ArtifactError`` is this class.
    """


class ManifestError(ArtifactError):
    """``data_manifest.yaml`` is malformed: the message names the entry and the field."""


@dataclass(frozen=True)
class ArrayField:
    """One array of an artifact: its key in the npz and what it must look like."""

    role: str                      # logits / labels / tiers / preds: what the loader returns
    key: str                       # name inside the npz file
    dtype: str                     # exact dtype name or a family (float, int, str)
    shape: tuple[str | int, ...]   # named dims (or literal ints)
    values: tuple[str, ...] | None = None  # allowed strings (tiers)
    classes: str | None = None     # dim name: values are class ids in [0, dims[classes])


@dataclass(frozen=True)
class Entry:
    """One artifact: a file in a Hub repo at a revision, and its array schema."""

    name: str
    repo_id: str
    repo_type: str
    revision: str
    filename: str
    sha256: str | None
    size: int | None
    used_by: tuple[str, ...]
    schema: dict[str, ArrayField]

    @property
    def is_pinned(self) -> bool:
        """Revision is a commit and the file's sha256 and size are recorded."""
        return bool(_COMMIT.fullmatch(self.revision)) and self.sha256 is not None and self.size is not None

    @property
    def hub_url(self) -> str:
        prefix = "datasets/" if self.repo_type == "dataset" else ""
        return f"https://huggingface.co/{prefix}{self.repo_id}/blob/{self.revision}/{self.filename}"


@dataclass(frozen=True)
class DatasetFiles:
    """A Hub dataset read as files: one glob pattern per split, each matching exactly one file."""

    name: str
    kind: str                      # dataset_files
    repo_id: str
    repo_type: str
    revision: str                  # a branch, or a 40-hex commit once pinned
    files: dict[str, str]          # split -> glob pattern inside the repo, e.g. data/train-*.parquet
    text_column: str
    label_column: str
    used_by: tuple[str, ...]

    @property
    def hub_url(self) -> str:
        prefix = "datasets/" if self.repo_type == "dataset" else ""
        return f"https://huggingface.co/{prefix}{self.repo_id}/tree/{self.revision}"


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
        _check_revision(where, revision)
        _check_sha256(where, sha256)
        _check_size(where, size)
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
        if not isinstance(d, str) or not _NAME.fullmatch(d):
            raise ManifestError(f"{where}: dims: name {d!r} is not an identifier.")
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ManifestError(f"{where}: dims.{d} must be a positive int, got {n!r}.")

    tiers = raw["tiers"]
    if not (isinstance(tiers, list) and tiers and all(isinstance(t, str) for t in tiers)):
        raise ManifestError(f"{where}: field 'tiers' must be a non-empty list of strings, got {tiers!r}.")

    arts = raw["artifacts"]
    if not isinstance(arts, dict) or not arts:
        raise ManifestError(f"{where}: field 'artifacts' must be a non-empty mapping of name -> entry.")
    entries = {name: _parse_entry(name, body, dims, where) for name, body in arts.items()}
    sets = raw.get("datasets")
    if sets is None:
        sets = {}
    if not isinstance(sets, dict):
        raise ManifestError(f"{where}: field 'datasets' must be a mapping of name -> dataset, got {sets!r}.")
    datasets = {name: _parse_dataset(name, body, where) for name, body in sets.items()}
    clash = sorted(set(datasets) & set(entries))
    if clash:
        raise ManifestError(f"{where}: name(s) {clash} used both under 'artifacts' and 'datasets'.")
    return Manifest(path=path, version=version, dims=dict(dims), tiers=tuple(tiers), entries=entries,
                    datasets=datasets)


def _check_common(what, name, body, where, keys, missing_hint=""):
    """Checks every manifest record shares: its name, its fields, repo_id, repo_type, used_by.

    Returns (location prefix for messages, repo_id, used_by as a tuple).
    """
    at = f"{where}: {what} {name!r}"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ManifestError(f"{where}: {what} name {name!r} is not an identifier.")
    if not isinstance(body, dict):
        raise ManifestError(f"{at}: expected a mapping of fields, got {type(body).__name__}.")
    for key in keys:
        if key not in body:
            raise ManifestError(f"{at}: missing field {key!r}" + (missing_hint.format(key=key)) + ".")
    unknown = sorted(set(body) - set(keys))
    if unknown:
        raise ManifestError(f"{at}: unknown field(s) {unknown}; expected {list(keys)}.")
    repo_id = _str(at, "repo_id", body["repo_id"])
    if not _REPO_ID.fullmatch(repo_id):
        raise ManifestError(f"{at}: field 'repo_id' must look like 'owner/name', got {repo_id!r}.")
    if body["repo_type"] not in REPO_TYPES:
        raise ManifestError(f"{at}: field 'repo_type' must be one of {list(REPO_TYPES)}, "
                            f"got {body['repo_type']!r}.")
    used_by = body["used_by"]
    if isinstance(used_by, str):
        used_by = [used_by]
    if not (isinstance(used_by, list) and used_by and all(u in USED_BY for u in used_by)):
        raise ManifestError(f"{at}: field 'used_by' must be a list drawn from {list(USED_BY)}, got {used_by!r}.")
    return at, repo_id, tuple(used_by)


def _parse_dataset(name, body, where) -> DatasetFiles:
    at, repo_id, used_by = _check_common("dataset", name, body, where, _DATASET_KEYS)
    if body["kind"] not in DATASET_KINDS:
        raise ManifestError(f"{at}: field 'kind' must be one of {list(DATASET_KINDS)}, got {body['kind']!r}.")
    files = body["files"]
    if not (isinstance(files, dict) and files):
        raise ManifestError(f"{at}: field 'files' must be a mapping of split -> file pattern, got {files!r}.")
    for split, pattern in files.items():
        _str(at, f"files.{split}", pattern)
        if pattern.startswith("/") or ".." in pattern.split("/"):
            raise ManifestError(f"{at}: field 'files.{split}' must be a path inside the repo, got {pattern!r}.")
    return DatasetFiles(name=name, kind=body["kind"], repo_id=repo_id, repo_type=body["repo_type"],
                        revision=_str(at, "revision", body["revision"]), files={str(k): v for k, v in files.items()},
                        text_column=_str(at, "text_column", body["text_column"]),
                        label_column=_str(at, "label_column", body["label_column"]), used_by=used_by)


def _parse_entry(name, body, dims, where) -> Entry:
    at, repo_id, used_by = _check_common("entry", name, body, where, _ENTRY_KEYS,
                                         missing_hint=" (write `{key}: null` if not yet known)")
    repo_type = body["repo_type"]
    revision = _str(at, "revision", body["revision"])
    filename = _str(at, "filename", body["filename"])
    if filename.startswith("/") or ".." in filename.split("/"):
        raise ManifestError(f"{at}: field 'filename' must be a path inside the repo, got {filename!r}.")
    sha256 = body["sha256"]
    if sha256 is not None:
        _check_sha256(at, sha256)
    size = body["size"]
    if size is not None:
        _check_size(at, size)

    schema = body["schema"]
    if not isinstance(schema, dict) or "logits" not in schema:
        raise ManifestError(f"{at}: field 'schema' must be a mapping of role -> array spec "
                            f"with at least 'logits'; got {schema!r}.")
    fields = {}
    for role, spec in schema.items():
        fields[role] = _parse_field(f"{at}: field 'schema.{role}'", role, spec, dims)
    keys = [f.key for f in fields.values()]
    if len(set(keys)) != len(keys):
        raise ManifestError(f"{at}: field 'schema' maps two roles to the same npz key: {keys}.")
    return Entry(name=name, repo_id=repo_id, repo_type=repo_type, revision=revision, filename=filename,
                 sha256=sha256, size=size, used_by=tuple(used_by), schema=fields)


def _parse_field(at, role, spec, dims) -> ArrayField:
    if role not in ROLES:
        raise ManifestError(f"{at}: unknown role {role!r}; expected one of {list(ROLES)}.")
    if not isinstance(spec, dict):
        raise ManifestError(f"{at}: expected a mapping with key, dtype and shape, got {spec!r}.")
    for key in ("key", "dtype", "shape"):
        if key not in spec:
            raise ManifestError(f"{at}: missing {key!r}.")
    unknown = sorted(set(spec) - set(_FIELD_KEYS))
    if unknown:
        raise ManifestError(f"{at}: unknown key(s) {unknown}; expected {list(_FIELD_KEYS)}.")
    key = _str(at, "key", spec["key"])
    dtype = spec["dtype"]
    if dtype not in DTYPES:
        raise ManifestError(f"{at}: 'dtype' must be one of {list(DTYPES)}, got {dtype!r}.")
    shape = spec["shape"]
    if not isinstance(shape, list) or not shape:
        raise ManifestError(f"{at}: 'shape' must be a non-empty list of dim names, got {shape!r}.")
    for d in shape:
        if isinstance(d, str):
            if d not in dims:
                raise ManifestError(f"{at}: 'shape' uses unknown dim name {d!r}; known dims: {list(dims)}.")
        elif not (isinstance(d, int) and not isinstance(d, bool) and d > 0):
            raise ManifestError(f"{at}: 'shape' entries must be dim names or positive ints, got {d!r}.")
    values = spec.get("values")
    if values is not None:
        if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
            raise ManifestError(f"{at}: 'values' must be a non-empty list of strings, got {values!r}.")
        values = tuple(values)
    classes = spec.get("classes")
    if classes is not None and classes not in dims:
        raise ManifestError(f"{at}: 'classes' must name a dim ({list(dims)}), got {classes!r}.")
    return ArrayField(role=role, key=key, dtype=dtype, shape=tuple(shape), values=values, classes=classes)


def _str(at, name, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{at}: field {name!r} must be a non-empty string, got {value!r}.")
    return value


def _check_sha256(at, value):
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ManifestError(f"{at}: field 'sha256' must be 64 lowercase hex characters or null, got {value!r}.")


def _check_size(at, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ManifestError(f"{at}: field 'size' must be a positive int (bytes) or null, got {value!r}.")


def _check_revision(at, value):
    if not isinstance(value, str) or not _COMMIT.fullmatch(value):
        raise ManifestError(f"{at}: revision must be a 40-hex commit sha, got {value!r}.")


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
