"""Where the data lives and whether the network may be used, read in one place.

Every location and switch the data layer depends on is a function here, read
at call time rather than at import: a notebook may set ``$COURSE_CACHE`` or
``$HF_HOME`` after ``helpers`` was imported, and huggingface_hub freezes
``HF_ENDPOINT`` when it is imported.  Offline mode is huggingface_hub's own
setting (``huggingface_hub.constants.HF_HUB_OFFLINE``, which it derives from
``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE``), so the course and the Hub
client never disagree on it.
"""
from __future__ import annotations

import os
from pathlib import Path

from helpers.course import CACHE_ENV

__all__ = ["CACHE_ENV", "DEFAULT_CACHE", "DEFAULT_ENDPOINT", "cache_dir", "endpoint", "hf_cache", "offline",
           "is_commit"]

DEFAULT_CACHE = "~/.cache/ecbs-week6"
DEFAULT_ENDPOINT = "https://huggingface.co"


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """The course cache: argument, else ``$COURSE_CACHE``, else ``~/.cache/ecbs-week6``."""
    if cache is not None:
        return Path(cache).expanduser()
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def endpoint() -> str | None:
    """``$HF_ENDPOINT`` without a trailing slash, or None for the Hub's default."""
    value = os.environ.get("HF_ENDPOINT")
    return value.rstrip("/") if value else None


def hf_cache() -> str | None:
    """The Hub cache folder (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``), or None for the Hub's default."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    return None


def offline() -> bool:
    """huggingface_hub's offline mode (``HF_HUB_OFFLINE=1``): no request may leave the machine."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def is_commit(revision: str) -> bool:
    """A full 40-hex commit sha: immutable, so a cached file at it needs no check against the Hub."""
    return len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)
