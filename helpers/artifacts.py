"""Validated prediction sets, from the Hugging Face Hub or the embedded synthetic copy.

    >>> from helpers.artifacts import load
    >>> vanilla = load("vanilla")          # source="auto"
    >>> vanilla.logits.shape, vanilla.source
    ((6430, 113), 'hub')

Sources
-------
``"hub"``        the file named in ``data_manifest.yaml``, downloaded with
                 ``huggingface_hub`` into its cache (pinned revision,
                 ``HF_HUB_OFFLINE`` respected), retried with exponential backoff
                 on transient failures, then checked against the manifest's
                 size and sha256 (hashed here: the download itself checks size only).
``"synthetic"``  the embedded course data that ``helpers.synthetic`` generates
                 deterministically in the same schema, cached under
                 ``<cache>/synthetic/<name>.npz``.
``"auto"``       the Hub when it is configured and reachable (or the file is
                 already cached), else synthetic.  Chosen once per process and
                 announced once, so a notebook never mixes real and synthetic
                 arms; ``PredictionSet.source`` records the choice so that
                 tables and plots can say "SYNTHETIC DATA".
                 ``$COURSE_DATA_SOURCE=hub|synthetic`` overrides the choice.

Cache: ``$COURSE_CACHE``, else ``~/.cache/ecbs-week6`` (the notebooks point it
at ``/kaggle/working`` on Kaggle).  Hub files stay in the Hub's own cache
(``$HF_HUB_CACHE`` / ``$HF_HOME``).

Every failure raises ``ArtifactError`` (a ``ValueError``) whose message says
what went wrong and what to run next; nothing escapes as a raw numpy, zipfile
or HTTP traceback.  A file that fails its checksum, or cannot be read as an
npz, is moved out of the cache (to ``<cache>/quarantine/``) so that it is
never served again.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from helpers.manifest import ArtifactError, ArrayField, Entry, Manifest, load_manifest

__all__ = [
    "ArtifactError", "PredictionSet", "SyntheticDataWarning", "load", "fetch", "verify_file",
    "cached_hub_path", "synthetic_path", "sha256_of", "cache_dir", "read_arrays", "validate_arrays",
    "with_retries", "auto_source", "reset_auto_source", "SOURCES",
]

SOURCES = ("auto", "hub", "synthetic")
CACHE_ENV = "COURSE_CACHE"
SOURCE_ENV = "COURSE_DATA_SOURCE"
DEFAULT_CACHE = "~/.cache/ecbs-week6"

# Retry policy for transient Hub failures (connection errors, timeouts, 408/429/5xx).
# Module attributes so tests can shrink the waits.
RETRIES = 4            # attempts after the first
BACKOFF_S = 1.0        # first wait; doubles each time
BACKOFF_MAX_S = 16.0
PROBE_TIMEOUT_S = 10.0  # the HEAD that decides `auto` and precedes each download
_sleep = time.sleep

_CHUNK = 1 << 20
_STRING_KINDS = "US"


class SyntheticDataWarning(UserWarning):
    """Emitted once when ``source="auto"`` falls back to the embedded synthetic data."""


# --------------------------------------------------------------------------- result
@dataclass(eq=False)
class PredictionSet:
    """One model's predictions, validated against the manifest's schema.

    ``logits`` float32 (n, n_classes); ``labels`` and ``preds`` int64 (n,);
    ``tiers`` str (n,).  ``preds`` is the argmax of the logits when the file has
    none (``teacher_val``).  ``teacher_train_test`` holds logits only: its
    ``labels``, ``tiers`` and ``preds`` are None.  ``source`` is ``"hub"`` or
    ``"synthetic"``.
    """

    name: str
    source: str
    logits: np.ndarray
    labels: np.ndarray | None
    tiers: np.ndarray | None
    preds: np.ndarray | None
    path: Path | None = None
    revision: str | None = None

    @functools.cached_property
    def probs(self) -> np.ndarray:
        """Softmax of the logits (float64), computed once."""
        from helpers.metrics import softmax  # metrics pulls in pandas: pay only when asked

        return softmax(self.logits)

    @property
    def n_classes(self) -> int:
        return int(self.logits.shape[1])

    @property
    def synthetic(self) -> bool:
        return self.source == "synthetic"

    @property
    def label(self) -> str:
        """Name for tables and legends; synthetic data says so."""
        return f"{self.name} (SYNTHETIC)" if self.synthetic else self.name

    def __len__(self) -> int:
        return int(self.logits.shape[0])

    def __repr__(self) -> str:
        return (f"PredictionSet(name={self.name!r}, source={self.source!r}, n={len(self)}, "
                f"n_classes={self.n_classes}, path={str(self.path) if self.path else None!r})")


# --------------------------------------------------------------------------- entry point
def load(name: str, source: str = "auto", *, manifest: Manifest | str | os.PathLike | None = None,
         cache: str | os.PathLike | None = None) -> PredictionSet:
    """Load one artifact of ``data_manifest.yaml`` as a validated ``PredictionSet``.

    Parameters
    ----------
    name : str
        Manifest entry: ``teacher_val``, ``teacher_train_test``, ``vanilla``,
        ``distilled`` or ``grid_Td{T}_a{100*alpha}``.
    source : {"auto", "hub", "synthetic"}
        Where the arrays come from (see the module docstring).
    manifest : Manifest or path, optional
        Defaults to ``$COURSE_MANIFEST`` or the repository's ``data_manifest.yaml``.
    cache : path, optional
        Course cache (synthetic copies, quarantine); defaults to ``$COURSE_CACHE``.
    """
    if source not in SOURCES:
        raise ArtifactError(f"source must be one of {list(SOURCES)}, got {source!r}.")
    if not isinstance(name, str):
        raise ArtifactError(f"name must be a str (a manifest entry), got {type(name).__name__}.")
    man = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
    entry = man.entry(name)
    chosen = _choose_source(entry, man) if source == "auto" else source

    if chosen == "hub":
        path = fetch(entry, cache=cache)
        arrays = read_arrays(path, entry, man, origin="hub", trusted=entry.sha256 is not None, cache=cache)
        revision = entry.revision
    else:
        path = synthetic_path(name, cache)
        arrays = read_arrays(path, entry, man, origin="synthetic", trusted=True, cache=cache)
        revision = None

    logits = arrays["logits"]
    preds = arrays.get("preds")
    if preds is None and "labels" in arrays:
        preds = logits.argmax(axis=1).astype(np.int64)
    return PredictionSet(name=name, source=chosen, logits=logits, labels=arrays.get("labels"),
                         tiers=arrays.get("tiers"), preds=preds, path=path, revision=revision)


# --------------------------------------------------------------------------- auto: choose once
_AUTO: dict[str, str] = {}  # {"source": ..., "reason": ...} once decided


def _choose_source(entry: Entry, manifest: Manifest) -> str:
    if "source" in _AUTO:
        return _AUTO["source"]
    forced = os.environ.get(SOURCE_ENV, "").strip().lower()
    if forced:
        if forced not in ("hub", "synthetic"):
            raise ArtifactError(f"${SOURCE_ENV} must be 'hub' or 'synthetic' (or unset), got {forced!r}.")
        choice, reason = forced, f"${SOURCE_ENV}={forced}"
    else:
        choice, reason = _probe(entry, manifest)
    _AUTO.update(source=choice, reason=reason)
    _announce(choice, reason)
    return choice


def reset_auto_source() -> None:
    """Forget the process-wide ``auto`` choice (tests; or after going online)."""
    _AUTO.clear()


def auto_source() -> str | None:
    """What ``source="auto"`` resolved to in this process, or None if not yet decided."""
    return _AUTO.get("source")


def _probe(entry: Entry, manifest: Manifest) -> tuple[str, str]:
    """Hub if it answers a quick HEAD, or if every notebook artifact is cached; else synthetic."""
    # "hub" must hold for the whole notebook, not just this first file.
    wanted = [e for e in manifest.entries.values() if set(e.used_by) & {"lab", "homework"}] or [entry]
    missing = [e.name for e in wanted if cached_hub_path(e) is None]
    if _offline():
        if not missing:
            return "hub", "offline, from the Hub cache"
        return "synthetic", (f"HF_HUB_OFFLINE is set and {len(missing)} of the notebook artifacts are not "
                             f"in the Hub cache (e.g. {missing[0]})")
    try:
        _head(entry)
    except Exception as err:  # any failure to reach the file means: use what is cached, else the embedded copy
        if not missing:
            return "hub", f"the Hub did not answer ({_summary(err)}), but every notebook artifact is cached"
        return "synthetic", f"the Hub did not answer for {entry.repo_id} ({_summary(err)})"
    return "hub", f"{_endpoint() or 'https://huggingface.co'} answered for {entry.repo_id}"


def _announce(choice: str, reason: str) -> None:
    if choice == "synthetic":
        msg = ("USING SYNTHETIC COURSE DATA: " + reason + ". Every table and figure is computed from "
               "the embedded synthetic copy (same schema, numbers near the published ones), not "
               "the real model outputs. For the real data go online and run "
               "`python -m helpers data fetch`, then restart the kernel.")
        # One loud warning (shown in notebooks as a highlighted stderr block);
        # callers that silence warnings still see the source in every title.
        warnings.warn(msg, SyntheticDataWarning, stacklevel=4)
    else:
        print(f"[helpers.artifacts] Using the course artifacts from the Hugging Face Hub ({reason}).",
              file=sys.stderr)


# --------------------------------------------------------------------------- locations
def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """The course cache: argument, else ``$COURSE_CACHE``, else ``~/.cache/ecbs-week6``."""
    if cache is not None:
        return Path(cache).expanduser()
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def _endpoint() -> str | None:
    # Read at call time: huggingface_hub freezes HF_ENDPOINT at import.
    value = os.environ.get("HF_ENDPOINT")
    return value.rstrip("/") if value else None


def _hf_cache() -> str | None:
    # Read at call time, like _endpoint(): a notebook may set it after import.
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


def _offline() -> bool:
    from huggingface_hub import constants

    env = (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "").upper()
    if env:
        return env in ("1", "ON", "YES", "TRUE")
    return bool(constants.HF_HUB_OFFLINE)


def _is_commit(revision: str) -> bool:
    return len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)


def _where(entry: Entry) -> str:
    return f"{entry.repo_type} {entry.repo_id}, file {entry.filename}, revision {entry.revision}"


# --------------------------------------------------------------------------- hub
def cached_hub_path(entry: Entry) -> Path | None:
    """The entry's file in the Hub cache at its revision, or None (never touches the network)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(entry.repo_id, entry.filename, cache_dir=_hf_cache(),
                                   revision=entry.revision, repo_type=entry.repo_type)
    return Path(found) if isinstance(found, str) and os.path.exists(found) else None


def fetch(entry: Entry, *, force: bool = False, cache=None) -> Path:
    """Local path of the entry's file, downloaded if needed, verified against the manifest."""
    offline = _offline()
    if not force:
        cached = cached_hub_path(entry)
        # A commit is immutable, so its cached file needs no HEAD; a branch may have moved.
        if cached is not None and (offline or _is_commit(entry.revision)):
            return verify_file(entry, cached, cache=cache)
    if offline:
        raise ArtifactError(_offline_message(entry, force))

    from huggingface_hub import hf_hub_download

    def download() -> str:
        _head(entry)  # fails fast (and retryably) before hf_hub_download's own, longer retries
        return hf_hub_download(entry.repo_id, entry.filename, repo_type=entry.repo_type,
                               revision=entry.revision, cache_dir=_hf_cache(), endpoint=_endpoint(),
                               force_download=force)

    path = Path(with_retries(download, entry))
    return verify_file(entry, path, cache=cache)


def _head(entry: Entry):
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(entry.repo_id, entry.filename, repo_type=entry.repo_type,
                     revision=entry.revision, endpoint=_endpoint())
    return get_hf_file_metadata(url, timeout=PROBE_TIMEOUT_S)


T = TypeVar("T")


def with_retries(fn: Callable[[], T], entry: Entry, *, what: str = "download") -> T:
    """``fn()``, retried with exponential backoff on transient Hub failures only.

    Not retried: 401/403/404 (wrong repo, file or revision, or no access) and
    offline mode: waiting cannot fix those.  Every failure becomes ArtifactError.
    """
    attempt = 0
    while True:
        try:
            return fn()
        except ArtifactError:
            raise
        except Exception as err:  # classified below; nothing escapes unexplained
            kind = _classify(err)
            if kind == "transient" and attempt < RETRIES:
                wait = min(BACKOFF_MAX_S, BACKOFF_S * 2 ** attempt)
                attempt += 1
                print(f"[helpers.artifacts] {what} of {entry.name!r}: {_summary(err)}; "
                      f"retry {attempt}/{RETRIES} in {wait:g}s", file=sys.stderr)
                _sleep(wait)
                continue
            raise _hub_error(kind, err, entry, attempts=attempt + 1, what=what) from None


def _chain(err: BaseException):
    seen = []
    stack = [err]
    while stack:
        e = stack.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        stack += [e.__cause__, e.__context__]
    return seen


# Matched by class name so that both the httpx (huggingface_hub >= 1.0) and the
# requests (older) stacks are recognised without importing either.
_TRANSIENT_NAMES = {"ConnectError", "ConnectTimeout", "ReadTimeout", "TimeoutException", "NetworkError",
                    "RemoteProtocolError", "ConnectionError", "Timeout", "TimeoutError", "ProtocolError"}
_MISSING_NAMES = {"RepositoryNotFoundError", "RevisionNotFoundError", "EntryNotFoundError",
                  "RemoteEntryNotFoundError", "GatedRepoError"}


def _status(err: BaseException) -> int | None:
    response = getattr(err, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _classify(err: BaseException) -> str:
    chain = _chain(err)
    names = [{c.__name__ for c in type(e).__mro__} for e in chain]
    if any("OfflineModeIsEnabled" in n for n in names):
        return "offline"
    for e, n in zip(chain, names):
        status = _status(e)
        if n & _MISSING_NAMES or status in (401, 403, 404):
            return "missing"
        if status is not None and (status in (408, 429) or status >= 500):
            return "transient"
        if n & _TRANSIENT_NAMES:
            return "transient"
        if isinstance(e, OSError) and "Consistency check failed" in str(e):
            return "transient"  # short read: the connection dropped mid-file
    return "other"


def _is_connect(err: BaseException) -> bool:
    names = set().union(*({c.__name__ for c in type(e).__mro__} for e in _chain(err)))
    return bool(names & {"ConnectError", "ConnectTimeout", "ConnectionError", "NetworkError"})


def _summary(err: BaseException) -> str:
    status = next((s for s in map(_status, _chain(err)) if s is not None), None)
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = f"{type(err).__name__}" + (f" (HTTP {status})" if status else "") + (f": {first}" if first else "")
    return text[:300]


_SYNTHETIC_HINT = ("To work without the Hub, use the embedded course data: "
                   "load({name!r}, source='synthetic'), or leave source='auto', which falls back to it "
                   "(and says so).")


def _offline_message(entry: Entry, force: bool) -> str:
    verb = "re-download (--force)" if force else "load"
    return (f"Cannot {verb} {entry.name!r} from the Hub: offline mode is on (HF_HUB_OFFLINE=1) and "
            f"{_where(entry)} is not in the Hub cache ({_hf_cache() or 'the default Hub cache'}). "
            + _SYNTHETIC_HINT.format(name=entry.name)
            + f" For the real data, go online (unset HF_HUB_OFFLINE) and run "
              f"`python -m helpers data fetch {entry.name}`.")


def _hub_error(kind: str, err: BaseException, entry: Entry, *, attempts: int, what: str) -> ArtifactError:
    endpoint = _endpoint() or "https://huggingface.co"
    if kind == "offline":
        out = ArtifactError(_offline_message(entry, False))
    elif kind == "transient":
        problem = (f"No network: cannot connect to the Hugging Face Hub at {endpoint}" if _is_connect(err)
                   else f"The Hugging Face Hub at {endpoint} kept failing")
        out = ArtifactError(
            f"{problem} for {entry.name!r} ({_where(entry)}) after {attempts} attempt(s); "
            f"last error: {_summary(err)}. "
            + _SYNTHETIC_HINT.format(name=entry.name)
            + f" When the connection is back, run `python -m helpers data fetch {entry.name}`.")
    elif kind == "missing":
        out = ArtifactError(
            f"The Hub at {endpoint} has no {_where(entry)} for {entry.name!r} ({_summary(err)}); not "
            f"retried, since waiting cannot fix it. Check repo_id, repo_type, revision and filename of "
            f"entry {entry.name!r} in data_manifest.yaml; if the repository is private or gated, log in "
            f"(`hf auth login` or $HF_TOKEN). " + _SYNTHETIC_HINT.format(name=entry.name))
    else:
        out = ArtifactError(f"{what} of {entry.name!r} ({_where(entry)}) failed: {_summary(err)}. "
                            f"Retry with `python -m helpers data fetch {entry.name} --force`.")
    out.original = err  # the underlying exception, for debugging, without its traceback in the way
    return out


# --------------------------------------------------------------------------- integrity
def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(entry: Entry, path: str | os.PathLike, *, quarantine: bool = True, cache=None) -> Path:
    """Check size and sha256 against the manifest (when pinned); quarantine and raise on mismatch."""
    path = Path(path)
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        _mismatch(entry, path, "size", f"{entry.size} bytes", f"{size} bytes", quarantine, cache)
    if entry.sha256 is not None:
        actual = sha256_of(path)
        if actual != entry.sha256:
            _mismatch(entry, path, "sha256", entry.sha256, actual, quarantine, cache)
    return path


def _mismatch(entry, path, what, expected, actual, quarantine, cache):
    moved = _quarantine(path, entry.name, cache) if quarantine else None
    fate = (f"The bad copy was moved to {moved} and will not be used again." if moved
            else "The bad copy is still in the cache.")
    raise ArtifactError(
        f"Checksum mismatch for {entry.name!r}: file {path} ({_where(entry)})\n"
        f"  expected {what}: {expected}\n"
        f"  actual   {what}: {actual}\n"
        f"{fate} Re-download it with `python -m helpers data fetch {entry.name} --force`. "
        f"If the mismatch persists, the file on the Hub differs from the one data_manifest.yaml was "
        f"locked to: find out why before re-pinning with `python -m helpers data lock {entry.name}`.")


def _quarantine(path: Path, name: str, cache) -> Path | None:
    """Move a bad file (and, for the Hub cache, the blob its symlink points at) out of the way."""
    qdir = cache_dir(cache) / "quarantine"
    try:
        qdir.mkdir(parents=True, exist_ok=True)
        real = path.resolve()
        dest = qdir / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{real.name}"
        shutil.move(str(real), str(dest))
        if path.is_symlink() or path.exists():
            path.unlink()
        return dest
    except OSError:
        # Could not move it: delete instead, since serving it again is the one thing not allowed.
        for p in (path.resolve(), path):
            try:
                p.unlink()
            except OSError:
                pass
        return None


# --------------------------------------------------------------------------- synthetic
def synthetic_path(name: str, cache=None) -> Path:
    """``<cache>/synthetic/<name>.npz``, generated (all artifacts at once) when missing or stale."""
    import importlib

    synthetic = importlib.import_module("helpers.synthetic")
    folder = cache_dir(cache) / "synthetic"
    target = folder / f"{name}.npz"
    stamp = folder / ".stamp"
    key = _generator_key(synthetic)
    if target.is_file() and stamp.is_file() and stamp.read_text() == key:
        return target
    try:
        paths = synthetic.write_all(folder)
    except Exception as err:  # the generator is ours; say where it failed
        raise ArtifactError(f"writing the synthetic course data to {folder} failed: {_summary(err)}. "
                            f"Check that the folder is writable or set ${CACHE_ENV}.") from err
    stamp.write_text(key)
    path = Path(paths.get(name, target))
    if not path.is_file():
        raise ArtifactError(f"the synthetic generator has no artifact {name!r} (it wrote {sorted(paths)}).")
    return path


def _generator_key(module) -> str:
    """Changes whenever the generator's code or seed changes, so stale copies are rewritten."""
    h = hashlib.sha256(repr(getattr(module, "SEED", None)).encode())
    src = getattr(module, "__file__", None)
    if src and os.path.isfile(src):
        h.update(Path(src).read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- arrays
def read_arrays(path: Path, entry: Entry, manifest: Manifest, *, origin: str, trusted: bool = False,
                cache=None) -> dict[str, np.ndarray]:
    """Read the npz once and return {role: array}, validated and cast (logits float32, ids int64)."""
    raw = _read_npz(path, entry, origin=origin, trusted=trusted, cache=cache)
    return validate_arrays(raw, entry, manifest, where=f"{entry.name!r} ({path})")


def _read_npz(path: Path, entry: Entry, *, origin: str, trusted: bool, cache) -> dict[str, np.ndarray]:
    keys = [f.key for f in entry.schema.values()]
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic != b"PK\x03\x04":
            kind = "a single .npy array" if magic == b"\x93NUM" else "not a zip archive"
            raise _Corrupt(f"not an npz file ({kind}; first bytes {magic!r})")
        # Object arrays need pickle; allowed only for files whose sha256 was checked.
        with np.load(path, allow_pickle=trusted) as z:
            present = list(z.files)
            missing = [k for k in keys if k not in present]
            if missing:
                raise ArtifactError(
                    f"{entry.name!r} ({path}): missing key(s) {missing}; the file has {present}. "
                    f"Expected keys {keys} (see schema of {entry.name!r} in data_manifest.yaml).")
            return {k: z[k] for k in keys}
    except ArtifactError:
        raise
    except (_Corrupt, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as err:
        if isinstance(err, ValueError) and "allow_pickle" in str(err):
            raise ArtifactError(
                f"{entry.name!r} ({path}): holds object (pickled) arrays, which are loaded only from files "
                f"whose sha256 is pinned in data_manifest.yaml. Pin it with "
                f"`python -m helpers data lock {entry.name}`.") from None
        reason = str(err) if isinstance(err, _Corrupt) else f"truncated or corrupt npz ({type(err).__name__}: {err})"
        if origin == "hub":
            moved = _quarantine(path, entry.name, cache)
            fix = (f"It was moved out of the cache{f' to {moved}' if moved else ''}. Re-download it with "
                   f"`python -m helpers data fetch {entry.name} --force`.")
        else:
            (path.parent / ".stamp").unlink(missing_ok=True)
            fix = "The synthetic copy will be regenerated on the next load."
        raise ArtifactError(f"{entry.name!r}: cannot read {path}: {reason}. {fix}") from None


class _Corrupt(Exception):
    pass


def _dtype_ok(arr: np.ndarray, want: str) -> bool:
    kind = arr.dtype.kind
    if want == "float":
        return kind == "f"
    if want == "int":
        return kind in "iu"
    if want == "str":
        return kind in _STRING_KINDS or (kind == "O" and all(isinstance(v, str) for v in arr.ravel()))
    return arr.dtype.name == want


_FAMILY_TEXT = {"float": "float (any width)", "int": "int (any width)", "str": "str"}


def validate_arrays(raw: Mapping[str, np.ndarray], entry: Entry, manifest: Manifest, *,
                    where: str | None = None) -> dict[str, np.ndarray]:
    """Check every array of an entry against its schema; returns {role: cast array}."""
    where = where or repr(entry.name)
    fields = list(entry.schema.values())

    for f in fields:
        a = raw[f.key]
        if a.ndim != len(f.shape):
            raise ArtifactError(f"{where}: array {f.key!r} has shape {a.shape}, expected "
                                f"{_shape_text(f, manifest)}.")
        if not _dtype_ok(a, f.dtype):
            raise ArtifactError(f"{where}: array {f.key!r} has dtype {a.dtype}, expected "
                                f"{_FAMILY_TEXT.get(f.dtype, f.dtype)}.")

    rows = {f.key: raw[f.key].shape[0] for f in fields}
    if len(set(rows.values())) > 1:
        listing = ", ".join(f"{k}: {n}" for k, n in rows.items())
        raise ArtifactError(f"{where}: rows mismatched across keys ({listing}); every array must hold "
                            f"one row per example.")

    for f in fields:
        a = raw[f.key]
        if a.shape != manifest.shape_of(f):
            raise ArtifactError(f"{where}: array {f.key!r} has shape {a.shape}, expected "
                                f"{_shape_text(f, manifest)}.")

    out: dict[str, np.ndarray] = {}
    for f in fields:
        out[f.role] = _cast_and_check(raw[f.key], f, manifest, where)
    return out


def _shape_text(f: ArrayField, manifest: Manifest) -> str:
    named = "(" + ", ".join(str(d) for d in f.shape) + ("," if len(f.shape) == 1 else "") + ")"
    return f"{named} = {manifest.shape_of(f)}"


def _cast_and_check(a: np.ndarray, f: ArrayField, manifest: Manifest, where: str) -> np.ndarray:
    if f.role == "logits" or f.dtype.startswith("float"):
        out = np.ascontiguousarray(a, dtype=np.float32)
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        if bad:
            raise ArtifactError(f"{where}: array {f.key!r} has {bad} non-finite value(s) (NaN or inf).")
        return out
    if f.values is not None or f.dtype == "str":
        out = a.astype(str)
        if f.values is not None:
            found = set(np.unique(out).tolist())
            unknown = sorted(found - set(f.values))
            if unknown:
                raise ArtifactError(f"{where}: array {f.key!r} has unknown tier name(s) {unknown}; "
                                    f"allowed: {list(f.values)}.")
        return out
    out = np.asarray(a, dtype=np.int64)
    if f.classes is not None and out.size:
        n = manifest.dims[f.classes]
        lo, hi = int(out.min()), int(out.max())
        if lo < 0 or hi >= n:
            n_bad = int(np.count_nonzero((out < 0) | (out >= n)))
            raise ArtifactError(f"{where}: array {f.key!r} is out of range: values from {lo} to {hi}, "
                                f"expected class ids in [0, {n - 1}] ({f.classes} = {n}); "
                                f"{n_bad} row(s) outside.")
    return out
