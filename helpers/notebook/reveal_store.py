"""How the reveal texts are stored in the installed package: obfuscated, not encrypted.

The texts that answer a prediction ship with ``helpers`` (a student's notebook
shows one with ``reveal(name)`` once the prediction is recorded and observed).
Stored as plain markdown, ``open(REVEAL_FILE).read()`` would print every answer
at once, so the file holds the markdown compressed with zlib and then base64
encoded, under a header line that says so.  Reading one outside ``reveal`` takes
deliberate decoding; it is not secret (the decoding is :func:`decode_reveals`, here,
in the open), only out of casual sight.

``notebooks/make_notebooks.py`` and ``python -m helpers reveals`` write the file
through :func:`write_reveal_text`; ``reveal()`` and the TA tooling read it through
:func:`read_reveal_text`, which also accepts a plain markdown file (a TA's working
copy passed with ``--text-file``) and keeps the format it found when rewriting.
"""
from __future__ import annotations

import base64
import binascii
import zlib
from pathlib import Path

__all__ = ["REVEAL_FILE", "HEADER", "encode_reveals", "decode_reveals", "is_encoded", "read_reveal_text",
           "write_reveal_text"]

#: The reveal texts, encoded (shipped in the wheel as ``helpers/reveal_text.b64``).
REVEAL_FILE = Path(__file__).resolve().parent.parent / "reveal_text.b64"
#: First line of an encoded file: what it is and how to read it.
HEADER = ("# ecbs-week6 reveal texts: zlib-compressed UTF-8 markdown, base64-encoded. Obfuscated so that "
          "answers are not read by accident, not secret: helpers.notebook.reveal_store.decode_reveals reads it.")
_WIDTH = 76  # base64 lines as MIME wraps them, so a diff of the file stays a text diff


def encode_reveals(markdown: str) -> str:
    """The encoded file's content for ``markdown`` (the header, then wrapped base64 of zlib).

    Examples
    --------
    >>> blob = encode_reveals("The tail F1 is 0.198.")
    >>> blob.startswith(HEADER) and "0.198" not in blob
    True
    >>> decode_reveals(blob)
    'The tail F1 is 0.198.'
    """
    if not isinstance(markdown, str):
        raise TypeError(f"markdown must be a str, got {type(markdown).__name__}.")
    body = base64.b64encode(zlib.compress(markdown.encode("utf-8"), 9)).decode("ascii")
    lines = [body[i:i + _WIDTH] for i in range(0, len(body), _WIDTH)]
    return "\n".join([HEADER, *lines]) + "\n"


def is_encoded(content: str) -> bool:
    """True when ``content`` is an encoded reveal file (it starts with :data:`HEADER`)."""
    return content.startswith(HEADER)


def decode_reveals(content: str) -> str:
    """The markdown an encoded reveal file holds (the inverse of :func:`encode_reveals`)."""
    if not is_encoded(content):
        raise ValueError("content is not an encoded reveal file: expected it to start with the header line "
                         f"{HEADER[:40]!r}...; rebuild it with `python notebooks/make_notebooks.py`.")
    body = "".join(content.splitlines()[1:])
    try:
        return zlib.decompress(base64.b64decode(body, validate=True)).decode("utf-8")
    except (binascii.Error, zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"the encoded reveal file is damaged ({exc}); rebuild it with "
                         "`python notebooks/make_notebooks.py` (instructors) or reinstall helpers.") from exc


def read_reveal_text(path: str | Path | None = None) -> str:
    """The reveal markdown at ``path`` (default :data:`REVEAL_FILE`), decoded when it is encoded."""
    path = Path(path) if path is not None else REVEAL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"the reveal file {path} is missing: rebuild with `python notebooks/make_notebooks.py` "
                                f"(instructors) or reinstall helpers (students).")
    content = path.read_text(encoding="utf-8")
    return decode_reveals(content) if is_encoded(content) else content


def write_reveal_text(path: str | Path, markdown: str, encoded: bool | None = None) -> None:
    """Write ``markdown`` to ``path``: encoded, or as plain markdown with ``encoded=False``.

    ``encoded=None`` keeps the format of the file already there (encoded when there is none).
    """
    path = Path(path)
    if encoded is None:
        encoded = not path.is_file() or is_encoded(path.read_text(encoding="utf-8"))
    path.write_text(encode_reveals(markdown) if encoded else markdown, encoding="utf-8")
