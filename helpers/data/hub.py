"""Hugging Face Hub access for the course artifacts: get a file onto disk, retrying what is worth it.

One job: ``fetch`` an artifact's file (the Hub cache first, a ``HEAD`` probe,
then ``hf_hub_download``) and hand it to ``helpers.data.integrity`` to prove it
is the file ``data_manifest.yaml`` pins.  ``retrying`` runs any Hub call with
exponential backoff on transient failures only (``helpers.data.errors`` says
which those are); ``with_retries`` is that for one manifest entry, with the
course's messages.  Locations and offline mode come from
``helpers.data.settings``.

Reading the arrays is ``helpers.data.validation``; the public entry point is
``helpers.artifacts.load``.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from helpers.data.errors import HubOffline, HubSubject, classify, summary
from helpers.data.integrity import verify_file
from helpers.data.manifest import ArtifactError, Entry
from helpers.data.settings import endpoint, hf_cache, is_commit, offline

__all__ = ["cached_hub_path", "fetch", "head", "retrying", "with_retries", "sleep",
           "RETRIES", "BACKOFF_S", "BACKOFF_MAX_S", "PROBE_TIMEOUT_S"]

# Retry policy for transient Hub failures (connection errors, timeouts, 408/429/5xx).
# Module attributes, read at call time, so tests can shrink the waits.
RETRIES = 4            # attempts after the first
BACKOFF_S = 1.0        # first wait; doubles each time
BACKOFF_MAX_S = 16.0
PROBE_TIMEOUT_S = 10.0  # the HEAD that decides `auto` and precedes each download
sleep: Callable[[float], None] = time.sleep  # the wait between attempts (tests replace it)

T = TypeVar("T")


def cached_hub_path(entry: Entry) -> Path | None:
    """The entry's file in the Hub cache at its revision, or None (never touches the network)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(entry.repo_id, entry.filename, cache_dir=hf_cache(),
                                   revision=entry.revision, repo_type=entry.repo_type)
    return Path(found) if isinstance(found, str) and os.path.exists(found) else None


def fetch(entry: Entry, *, force: bool = False, cache: str | os.PathLike | None = None) -> Path:
    """Local path of the entry's file, downloaded if needed, verified against the manifest."""
    is_offline = offline()
    if not force:
        cached = cached_hub_path(entry)
        # A commit is immutable, so its cached file needs no HEAD; a branch may have moved.
        if cached is not None and (is_offline or is_commit(entry.revision)):
            return verify_file(entry, cached, cache=cache)
    if is_offline:
        raise HubOffline.explain(None, HubSubject.of_entry(entry), what="re-download (--force)" if force else "load")

    from huggingface_hub import hf_hub_download

    def download() -> str:
        head(entry)  # fails fast (and retryably) before hf_hub_download's own, longer retries
        return hf_hub_download(entry.repo_id, entry.filename, repo_type=entry.repo_type,
                               revision=entry.revision, cache_dir=hf_cache(), endpoint=endpoint(),
                               force_download=force)

    path = Path(with_retries(download, entry))
    return verify_file(entry, path, cache=cache)


def head(entry: Entry) -> object:
    """The Hub's metadata for the entry's file (a quick ``HEAD``; raises what the Hub client raises)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(entry.repo_id, entry.filename, repo_type=entry.repo_type,
                     revision=entry.revision, endpoint=endpoint())
    return get_hf_file_metadata(url, timeout=PROBE_TIMEOUT_S)


def retrying(fn: Callable[[], T], *, subject: HubSubject, what: str = "download", retries: int | None = None,
             prefix: str = "[helpers.artifacts]") -> T:
    """``fn()``, retried with exponential backoff on transient Hub failures only.

    Not retried: missing repos, revisions or files, no access, offline mode:
    waiting cannot fix those.  A failure that is not retried (or the last one)
    is raised as its ``HubError`` class (``helpers.data.errors.classify``), whose
    message names ``what`` was done to ``subject`` and the fix, without the Hub
    client's traceback; an ``ArtifactError`` from ``fn`` passes through as it is.
    """
    limit = RETRIES if retries is None else retries
    attempt = 0
    while True:
        try:
            return fn()
        except ArtifactError:
            raise
        except Exception as err:  # classified below; nothing escapes unexplained
            kind = classify(err)
            if kind.retry and attempt < limit:
                wait = min(BACKOFF_MAX_S, BACKOFF_S * 2 ** attempt)
                attempt += 1
                print(f"{prefix} {what} of {subject.label}: {summary(err)}; retry {attempt}/{limit} in {wait:g}s",
                      file=sys.stderr)
                sleep(wait)
                continue
            raise kind.explain(err, subject, attempts=attempt + 1, what=what) from None


def with_retries(fn: Callable[[], T], entry: Entry, *, what: str = "download") -> T:
    """``retrying`` for one manifest entry: every failure becomes a ``HubError`` naming the fix."""
    return retrying(fn, subject=HubSubject.of_entry(entry), what=what)
