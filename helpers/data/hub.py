"""Hugging Face Hub access and file integrity for the course artifacts.

One job: get an artifact's file onto disk and prove it is the file that
``data_manifest.yaml`` pins.  Cache locations (``$COURSE_CACHE``, the Hub's own
cache), ``fetch`` and ``cached_hub_path``, the ``HEAD`` probe, ``with_retries``
(exponential backoff on transient failures only) with the classification of
Hub errors into actionable ``ArtifactError`` messages, and the integrity side:
``sha256_of``, ``verify_file`` and moving bad files to ``<cache>/quarantine/``.

Reading the arrays is ``helpers.data.validation``; the public entry point is
``helpers.artifacts.load``.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from helpers.data.manifest import ArtifactError, Entry

__all__ = ["cache_dir", "cached_hub_path", "fetch", "with_retries", "sha256_of", "verify_file",
           "CACHE_ENV", "DEFAULT_CACHE", "RETRIES", "BACKOFF_S", "BACKOFF_MAX_S", "PROBE_TIMEOUT_S"]

CACHE_ENV = "COURSE_CACHE"
DEFAULT_CACHE = "~/.cache/ecbs-week6"

# Retry policy for transient Hub failures (connection errors, timeouts, 408/429/5xx).
# Module attributes so tests can shrink the waits.
RETRIES = 4            # attempts after the first
BACKOFF_S = 1.0        # first wait; doubles each time
BACKOFF_MAX_S = 16.0
PROBE_TIMEOUT_S = 10.0  # the HEAD that decides `auto` and precedes each download
_sleep = time.sleep

_CHUNK = 1 << 20


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
