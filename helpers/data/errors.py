"""What went wrong talking to the Hub, in words a student can act on.

``classify`` sorts an exception into one of four kinds by huggingface_hub's
typed errors (and the HTTP client's connection errors), looking through its
``__cause__``/``__context__`` chain, since the Hub client wraps what the
network raised:

``offline``    offline mode is on (``OfflineModeIsEnabled``)
``missing``    wrong repo, revision or file, or no access (``RepositoryNotFoundError``,
               ``RevisionNotFoundError``, ``EntryNotFoundError`` and its local and remote
               kinds, ``GatedRepoError``, HTTP 401/403/404): waiting cannot fix it
``transient``  connection errors, timeouts, HTTP 408/429/5xx, a short read: worth a retry
``other``      anything else

``hub_error`` turns a kind into the ``ArtifactError`` whose message says what to
run next.  Both the 0.x line of huggingface_hub (requests; HTTP errors in
``huggingface_hub.utils``) and the >= 1.0 line (httpx; all in
``huggingface_hub.errors``) are recognised.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator

from helpers.data.manifest import ArtifactError, Entry
from helpers.data.settings import DEFAULT_ENDPOINT, endpoint, hf_cache

__all__ = ["classify", "summary", "status_of", "is_connect", "where", "offline_message", "hub_error",
           "SYNTHETIC_HINT", "KINDS"]

KINDS = ("offline", "missing", "transient", "other")


@functools.lru_cache(maxsize=1)
def _types() -> dict[str, tuple[type[BaseException], ...]]:
    """The exception classes of each kind, imported once (and only when an error is being classified)."""
    from huggingface_hub.errors import OfflineModeIsEnabled

    try:  # huggingface_hub >= 0.25 defines every error in huggingface_hub.errors
        from huggingface_hub.errors import (
            EntryNotFoundError,
            GatedRepoError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    except ImportError:  # 0.24: the HTTP errors live in huggingface_hub.utils
        from huggingface_hub.utils import (  # type: ignore[no-redef]
            EntryNotFoundError,
            GatedRepoError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    # LocalEntryNotFoundError (and RemoteEntryNotFoundError on >= 1.0) are kinds of EntryNotFoundError.
    missing: tuple[type[BaseException], ...] = (RepositoryNotFoundError, RevisionNotFoundError,
                                                EntryNotFoundError, GatedRepoError)
    transient: list[type[BaseException]] = [ConnectionError, TimeoutError]
    connect: list[type[BaseException]] = [ConnectionError]
    try:  # the 0.x line's HTTP client
        import requests

        transient += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
        connect += [requests.exceptions.ConnectionError]
    except ImportError:
        pass
    try:  # the >= 1.0 line's HTTP client
        import httpx

        transient += [httpx.TimeoutException, httpx.NetworkError, httpx.ProtocolError]
        connect += [httpx.ConnectError, httpx.ConnectTimeout, httpx.NetworkError]
    except ImportError:
        pass
    try:  # what requests wraps
        import urllib3

        transient += [urllib3.exceptions.ProtocolError, urllib3.exceptions.TimeoutError]
    except ImportError:
        pass
    return {"offline": (OfflineModeIsEnabled,), "missing": missing, "transient": tuple(transient),
            "connect": tuple(connect)}


def _chain(err: BaseException) -> Iterator[BaseException]:
    """The exception, then its causes and contexts, each once."""
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [err]
    while stack:
        e = stack.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        yield e
        stack += [e.__cause__, e.__context__]


def status_of(err: BaseException) -> int | None:
    """The HTTP status of an error that carries a response (``HfHubHTTPError`` and the clients' own)."""
    status = getattr(getattr(err, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def classify(err: BaseException) -> str:
    """One of ``KINDS``: what a caller should do about ``err`` (see the module docstring)."""
    types = _types()
    chain = list(_chain(err))
    if any(isinstance(e, types["offline"]) for e in chain):
        return "offline"
    for e in chain:
        status = status_of(e)
        if isinstance(e, types["missing"]) or status in (401, 403, 404):
            return "missing"
        if status is not None and (status in (408, 429) or status >= 500):
            return "transient"
        if isinstance(e, types["transient"]):
            return "transient"
        if isinstance(e, OSError) and "Consistency check failed" in str(e):
            return "transient"  # short read: the connection dropped mid-file
    return "other"


def is_connect(err: BaseException) -> bool:
    """True when the Hub could not be reached at all (as opposed to answering badly)."""
    connect = _types()["connect"]
    return any(isinstance(e, connect) for e in _chain(err))


def summary(err: BaseException) -> str:
    """One line for a message: the error's type, its HTTP status if any, and its first line."""
    status = next((s for s in map(status_of, _chain(err)) if s is not None), None)
    first = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = f"{type(err).__name__}" + (f" (HTTP {status})" if status else "") + (f": {first}" if first else "")
    return text[:300]


def where(entry: Entry) -> str:
    """Repo type, repo, file and revision of an entry, for messages."""
    return f"{entry.repo_type} {entry.repo_id}, file {entry.filename}, revision {entry.revision}"


SYNTHETIC_HINT = ("To work without the Hub, use the embedded course data: "
                  "load({name!r}, source='synthetic'), or leave source='auto', which falls back to it "
                  "(and says so).")


def offline_message(entry: Entry, force: bool = False) -> str:
    """Why an entry cannot be loaded in offline mode, and the two ways forward."""
    verb = "re-download (--force)" if force else "load"
    return (f"Cannot {verb} {entry.name!r} from the Hub: offline mode is on (HF_HUB_OFFLINE=1) and "
            f"{where(entry)} is not in the Hub cache ({hf_cache() or 'the default Hub cache'}). "
            + SYNTHETIC_HINT.format(name=entry.name)
            + f" For the real data, go online (unset HF_HUB_OFFLINE) and run "
              f"`python -m helpers data fetch {entry.name}`.")


def hub_error(kind: str, err: BaseException, entry: Entry, *, attempts: int, what: str) -> ArtifactError:
    """The ``ArtifactError`` for a failure of ``kind`` on ``entry`` after ``attempts`` tries."""
    hub = endpoint() or DEFAULT_ENDPOINT
    if kind == "offline":
        out = ArtifactError(offline_message(entry))
    elif kind == "transient":
        problem = (f"No network: cannot connect to the Hugging Face Hub at {hub}" if is_connect(err)
                   else f"The Hugging Face Hub at {hub} kept failing")
        out = ArtifactError(
            f"{problem} for {entry.name!r} ({where(entry)}) after {attempts} attempt(s); "
            f"last error: {summary(err)}. "
            + SYNTHETIC_HINT.format(name=entry.name)
            + f" When the connection is back, run `python -m helpers data fetch {entry.name}`.")
    elif kind == "missing":
        out = ArtifactError(
            f"The Hub at {hub} has no {where(entry)} for {entry.name!r} ({summary(err)}); not "
            f"retried, since waiting cannot fix it. Check repo_id, repo_type, revision and filename of "
            f"entry {entry.name!r} in data_manifest.yaml; if the repository is private or gated, log in "
            f"(`hf auth login` or $HF_TOKEN). " + SYNTHETIC_HINT.format(name=entry.name))
    else:
        out = ArtifactError(f"{what} of {entry.name!r} ({where(entry)}) failed: {summary(err)}. "
                            f"Retry with `python -m helpers data fetch {entry.name} --force`.")
    out.original = err  # the underlying exception, for debugging, without its traceback in the way
    return out
