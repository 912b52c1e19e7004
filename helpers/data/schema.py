"""The manifest's records, field by field: what an artifact entry and a dataset entry must hold.

``ArtifactError`` / ``ManifestError``, the frozen dataclasses (``Entry``,
``ArrayField``, ``DatasetFiles``) and one parser per record, each naming the
entry and the field it rejects, so a typo in ``data_manifest.yaml`` fails at
load time.  ``helpers.data.manifest`` reads the file and assembles these.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "ArtifactError", "ManifestError", "Entry", "ArrayField", "DatasetFiles", "parse_entry", "parse_dataset",
    "is_identifier", "check_sha256", "check_size", "check_revision", "is_commit_sha",
    "REPO_TYPES", "ROLES", "DTYPES", "DTYPE_FAMILIES", "USED_BY", "DATASET_KINDS",
]

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
        return is_commit_sha(self.revision) and self.sha256 is not None and self.size is not None

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


def is_identifier(name: object) -> bool:
    """A manifest name (entry, dataset, dim): a Python-style identifier."""
    return isinstance(name, str) and bool(_NAME.fullmatch(name))


def is_commit_sha(revision: str) -> bool:
    """A 40-hex commit sha (what ``data lock`` pins)."""
    return bool(_COMMIT.fullmatch(revision))


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


def parse_dataset(name: object, body: object, where: str) -> DatasetFiles:
    """One entry of the ``datasets:`` section; ``where`` (the file) starts every message."""
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


def parse_entry(name: object, body: object, dims: dict[str, int], where: str) -> Entry:
    """One entry of the ``artifacts:`` section, its array schema checked against ``dims``."""
    at, repo_id, used_by = _check_common("entry", name, body, where, _ENTRY_KEYS,
                                         missing_hint=" (write `{key}: null` if not yet known)")
    repo_type = body["repo_type"]
    revision = _str(at, "revision", body["revision"])
    filename = _str(at, "filename", body["filename"])
    if filename.startswith("/") or ".." in filename.split("/"):
        raise ManifestError(f"{at}: field 'filename' must be a path inside the repo, got {filename!r}.")
    sha256 = body["sha256"]
    if sha256 is not None:
        check_sha256(at, sha256)
    size = body["size"]
    if size is not None:
        check_size(at, size)

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


def check_sha256(at: str, value: object) -> None:
    """Raise ManifestError unless ``value`` is a lowercase hex sha256."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ManifestError(f"{at}: field 'sha256' must be 64 lowercase hex characters or null, got {value!r}.")


def check_size(at: str, value: object) -> None:
    """Raise ManifestError unless ``value`` is a positive byte count."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ManifestError(f"{at}: field 'size' must be a positive int (bytes) or null, got {value!r}.")


def check_revision(at: str, value: object) -> None:
    """Raise ManifestError unless ``value`` is a 40-hex commit sha."""
    if not isinstance(value, str) or not _COMMIT.fullmatch(value):
        raise ManifestError(f"{at}: revision must be a 40-hex commit sha, got {value!r}.")
