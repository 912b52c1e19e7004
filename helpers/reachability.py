"""Is the Hugging Face Hub reachable right now?  Asked once, quickly, before a command would find out
through a stack of retries and a traceback.

``hub_unreachable`` opens one TCP connection to the Hub's host (``HF_ENDPOINT``, else
huggingface.co) with a short timeout: no request is sent, nothing is downloaded.  The instructor's
and TA's commands (``python -m autograder ...``, ``python -m helpers reveals --source hub``,
``python -m helpers data fetch``) call it and say so in one line, with the way out.
"""
from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

DEFAULT_HOST = "huggingface.co"
TRUE = {"1", "true", "yes", "on"}


def offline_requested() -> bool:
    """True when HF_HUB_OFFLINE is set to a true value (the Makefile sets it; the Hub is not asked)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in TRUE


def hub_address() -> tuple[str, int]:
    """The Hub's host and port: from ``HF_ENDPOINT`` when set, else huggingface.co:443."""
    url = urlparse(os.environ.get("HF_ENDPOINT") or f"https://{DEFAULT_HOST}")
    return url.hostname or DEFAULT_HOST, url.port or (80 if url.scheme == "http" else 443)


def hub_unreachable(timeout: float = 3.0) -> str | None:
    """Why the Hub cannot be reached (a short phrase), or None when a connection opens within ``timeout``."""
    host, port = hub_address()
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return None
    except OSError as exc:
        return f"{host}:{port} cannot be reached ({type(exc).__name__}: {exc.strerror or exc})"
