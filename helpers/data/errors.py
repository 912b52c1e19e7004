"""What went wrong talking to the Hub, as typed errors that carry their message and fix.

``classify`` sorts an exception into one of four ``HubError`` classes by
huggingface_hub's typed errors (and the HTTP client's connection errors), looking
through its ``__cause__``/``__context__`` chain, since the Hub client wraps what the
network raised:

``HubOffline``    offline mode is on (``OfflineModeIsEnabled``)
``HubMissing``    wrong repo, revision or file, or no access (``RepositoryNotFoundError``,
                  ``RevisionNotFoundError``, ``EntryNotFoundError`` and its local and remote
                  kinds, ``GatedRepoError``, HTTP 401/403/404): waiting cannot fix it
``HubTransient``  connection errors, timeouts, HTTP 408/429/5xx, a short read: worth a retry
``HubFailed``     anything else

Each class writes its own message from a ``HubSubject`` (what the call was about:
an artifact of the manifest, or the course dataset ``train prepare`` reads), so
every caller gets the same explanation and fix without a switch of its own:
``hub_error(err, subject, ...)`` is ``classify(err).explain(err, subject, ...)``.
Each is an ``ArtifactError`` (so existing handlers keep working) with ``problem``,
``fix`` and the underlying ``original``.  Both the 0.x line of huggingface_hub
(requests; HTTP errors in ``huggingface_hub.utils``) and the >= 1.0 line (httpx;
all in ``huggingface_hub.errors``) are recognised.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from helpers.data.manifest import ArtifactError, DatasetFiles, Entry
from helpers.data.settings import DEFAULT_ENDPOINT, endpoint, hf_cache

__all__ = ["classify", "summary", "status_of", "is_connect", "where", "hub_error", "HubSubject", "HubError",
           "HubOffline", "HubMissing", "HubTransient", "HubFailed", "SYNTHETIC_HINT"]


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


def classify(err: BaseException) -> type[HubError]:
    """The ``HubError`` class of ``err``: what a caller should do about it (see the module docstring)."""
    types = _types()
    chain = list(_chain(err))
    if any(isinstance(e, types["offline"]) for e in chain):
        return HubOffline
    for e in chain:
        status = status_of(e)
        if isinstance(e, types["missing"]) or status in (401, 403, 404):
            return HubMissing
        if status is not None and (status in (408, 429) or status >= 500):
            return HubTransient
        if isinstance(e, types["transient"]):
            return HubTransient
        if isinstance(e, OSError) and "Consistency check failed" in str(e):
            return HubTransient  # short read: the connection dropped mid-file
    return HubFailed


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


@dataclass(frozen=True)
class HubSubject:
    """What a Hub call was about, in the words its error messages use.

    label: how messages name it (``'vanilla'``, ``datasets.course_dataset``).
    where: repo type, repo, file and revision.
    check: what to check in data_manifest.yaml when the Hub has no such thing.
    rerun: what to run once the Hub is reachable (a sentence fragment after "run").
    force: what to run after an unexplained failure.
    fallback: a sentence on how to work without the Hub ("" when there is no way).
    """

    label: str
    where: str
    check: str
    rerun: str
    force: str
    fallback: str = ""

    @classmethod
    def of_entry(cls, entry: Entry) -> HubSubject:
        """An artifact of the manifest: the embedded course data stands in for it."""
        fetch = f"`python -m helpers data fetch {entry.name}`"
        return cls(label=repr(entry.name), where=where(entry),
                   check=f"repo_id, repo_type, revision and filename of entry {entry.name!r}", rerun=fetch,
                   force=f"`python -m helpers data fetch {entry.name} --force`",
                   fallback=SYNTHETIC_HINT.format(name=entry.name))


    @classmethod
    def of_dataset(cls, ds: DatasetFiles) -> HubSubject:
        """A dataset of the manifest's ``datasets`` section (``train prepare`` reads it); no stand-in."""
        again = "the command again (files already downloaded are kept)"
        return cls(label=f"datasets.{ds.name}", where=f"{ds.repo_type} {ds.repo_id} at revision {ds.revision!r}",
                   check=f"repo_id, repo_type and revision of datasets.{ds.name}", rerun=again, force=again)


class HubError(ArtifactError):
    """A Hub call failed; ``problem`` says what happened, ``fix`` what to do, ``original`` what the client raised."""

    #: Whether waiting and calling again can help (``retrying`` retries these only).
    retry = False

    def __init__(self, problem: str, fix: str, original: BaseException | None = None) -> None:
        super().__init__(f"{problem} {fix}".strip())
        self.problem, self.fix, self.original = problem, fix, original

    @classmethod
    def explain(cls, err: BaseException | None, subject: HubSubject, *, attempts: int = 1,
                what: str = "download") -> HubError:
        """The error of this class for ``err`` raised while doing ``what`` to ``subject``, after ``attempts`` tries."""
        problem = f"The {what} of {subject.label} ({subject.where}) failed" + (f": {summary(err)}." if err else ".")
        return cls(problem, f"Retry: run {subject.force}.", err)


class HubOffline(HubError):
    """Offline mode is on (HF_HUB_OFFLINE=1) and what was asked for is not in the Hub cache."""

    @classmethod
    def explain(cls, err: BaseException | None, subject: HubSubject, *, attempts: int = 1,
                what: str = "download") -> HubError:
        """Why the subject cannot be had offline, and the ways forward."""
        problem = (f"Cannot {what} {subject.label} from the Hub: offline mode is on (HF_HUB_OFFLINE=1) and "
                   f"{subject.where} is not in the Hub cache ({hf_cache() or 'the default Hub cache'}).")
        fix = (f"{subject.fallback} For the real data, go online (unset HF_HUB_OFFLINE; the Makefile sets it "
               f"to 1) and run {subject.rerun}.").strip()
        return cls(problem, fix, err)


class HubMissing(HubError):
    """The Hub answered that the repo, revision or file does not exist, or is not ours to read."""

    @classmethod
    def explain(cls, err: BaseException | None, subject: HubSubject, *, attempts: int = 1,
                what: str = "download") -> HubError:
        """What the Hub lacks and what to check in the manifest; never worth a retry."""
        problem = (f"The Hub at {endpoint() or DEFAULT_ENDPOINT} has no {subject.where} for {subject.label}"
                   + (f" ({summary(err)})" if err else "") + "; not retried, since waiting cannot fix it.")
        fix = (f"Check {subject.check} in data_manifest.yaml; if the repository is private or gated, log in "
               f"(`hf auth login` or $HF_TOKEN). {subject.fallback}").strip()
        return cls(problem, fix, err)


class HubTransient(HubError):
    """No connection, a timeout, HTTP 408/429/5xx or a short read: worth another try later."""

    retry = True

    @classmethod
    def explain(cls, err: BaseException | None, subject: HubSubject, *, attempts: int = 1,
                what: str = "download") -> HubError:
        """No network, or a Hub that kept failing, after ``attempts`` tries."""
        hub = endpoint() or DEFAULT_ENDPOINT
        problem = (f"No network: cannot connect to the Hugging Face Hub at {hub}" if err is not None and is_connect(err)
                   else f"The Hugging Face Hub at {hub} kept failing")
        problem += (f" for {subject.label} ({subject.where}) after {attempts} attempt(s)"
                    + (f"; last error: {summary(err)}." if err else "."))
        fix = f"{subject.fallback} When the connection is back, run {subject.rerun}.".strip()
        return cls(problem, fix, err)


class HubFailed(HubError):
    """Anything else: not recognised as offline, missing or transient."""


def hub_error(err: BaseException, subject: HubSubject, *, attempts: int = 1, what: str = "download") -> HubError:
    """The typed error for ``err``, raised while doing ``what`` to ``subject``, after ``attempts`` tries."""
    return classify(err).explain(err, subject, attempts=attempts, what=what)
