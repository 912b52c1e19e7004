"""A small bounded memo for pure text transformations a worker repeats on every submission.

A worker grades many submissions of the same notebook: most markdown cells, code cells and
table outputs are the release's, character for character, and each is sanitised twice per
submission (autograde, then feedback) and highlighted once.  The transformations are pure
functions of their settings and their input, so their results are kept per worker process:
only texts up to ``max_chars`` long, at most ``max_entries`` of them, the least recently used
dropped first.  Nothing is keyed on who submitted; a result depends on the text alone.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable


class TextMemo:
    """``memo(key, text, compute)``: ``compute(text)``, remembered under ``(key, text)``."""

    def __init__(self, max_entries: int = 2048, max_chars: int = 32 << 10) -> None:
        self.max_entries, self.max_chars = int(max_entries), int(max_chars)
        self._kept: OrderedDict[tuple[Hashable, str], str] = OrderedDict()

    def __call__(self, key: Hashable, text: str, compute: Callable[[str], str]) -> str:
        if not isinstance(text, str) or len(text) > self.max_chars:
            return compute(text)
        slot = (key, text)
        found = self._kept.get(slot)
        if found is not None:
            self._kept.move_to_end(slot)
            return found
        result = compute(text)
        self._kept[slot] = result
        if len(self._kept) > self.max_entries:
            self._kept.popitem(last=False)
        return result

    def __len__(self) -> int:
        return len(self._kept)
