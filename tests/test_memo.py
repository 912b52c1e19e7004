"""autograder.memo: remembered text transformations, bounded, never mixed between settings."""
from __future__ import annotations

from autograder.memo import TextMemo
from autograder.sanitize import SanitizeSubmission


def test_results_are_remembered_per_key_and_text_and_bounded():
    calls = []

    def shout(text):
        calls.append(text)
        return text.upper()
    memo = TextMemo(max_entries=2, max_chars=10)
    assert memo("a", "hi", shout) == memo("a", "hi", shout) == "HI" and calls == ["hi"]
    assert memo("b", "hi", lambda t: t * 2) == "hihi"          # another key: computed, not the first result
    memo("a", "there", shout)                                  # a third entry: the least recently used goes
    assert len(memo) == 2
    memo("a", "hi", shout)
    assert calls == ["hi", "there", "hi"]
    long_text = "x" * 11                                      # longer than max_chars: never kept
    memo("a", long_text, shout)
    memo("a", long_text, shout)
    assert calls[-2:] == [long_text, long_text] and len(memo) == 2


def test_the_sanitisers_memo_is_keyed_by_its_allow_list():
    html = '<b onclick="x()">bold</b><i>it</i>'
    course = SanitizeSubmission()
    narrower = SanitizeSubmission(tags=["b"])
    assert course.sanitize_html_tags(html) == "<b>bold</b><i>it</i>"
    assert narrower.sanitize_html_tags(html) == "<b>bold</b>it"    # not the course's remembered result
    assert course.sanitize_html_tags(html) == "<b>bold</b><i>it</i>"
