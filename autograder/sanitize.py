"""Sanitised HTML: what a submission's outputs and markdown may put into a rendered page.

Every page rendered from a submission (the feedback HTML students get, formgrader's view of the
autograded notebook) is rendered from a notebook whose outputs and markdown the student chose.
``SanitizeSubmission`` (nbconvert's ``SanitizeHTML``, which uses bleach, with the course's allow-list)
runs in the autograde pipeline before nbgrader saves the autograded notebook, so formgrader renders
a clean notebook, and again in ``generate_feedback``; nbconvert's ``HTMLExporter.sanitize_html`` is
also set (``configure``), which cleans the markdown it renders.

What is removed: ``<script>``, ``<style>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<form>``,
``<svg>`` and every other tag not in ``TAGS`` (the tag goes, its text stays, as plain text); every
attribute not in ``ATTRIBUTES`` (so every ``on...`` event handler and ``style``); every URL whose
scheme is not http(s) or mailto (``javascript:``); outputs of types that run code or carry markup
that cannot be cleaned (``application/javascript``, ``image/svg+xml``, widget views); notebook
widget state.  What stays: text, tables (pandas), lists, headings, links, code, PNG/JPEG images.
"""
from __future__ import annotations

from typing import Any

from nbconvert.preprocessors.sanitize import SanitizeHTML
from nbformat import NotebookNode
from traitlets import default

from .memo import TextMemo

# Tags a DataFrame, a results table or a student's formatted answer needs; none runs code or styles the page.
TAGS = ["a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl",
        "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "small",
        "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"]
ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"], "td": ["colspan", "rowspan", "align"],
              "th": ["colspan", "rowspan", "align"], "*": ["class"]}
# Notebook metadata a template renders as script data (ipywidgets' saved state).
SCRIPT_METADATA = ("widgets",)
# Cleaned texts, per worker process: the release's markdown and most tables are the same in every
# submission, and each submission is cleaned twice (autograde, then generate_feedback).
_CLEANED = TextMemo()


def clean_markdown(source: str, cleaner: SanitizeHTML) -> str:
    """Markdown with its raw HTML cleaned.  bleach escapes ``>`` too, which would turn every markdown
    block quote into text; a lone ``>`` cannot open a tag, so it is put back."""
    return cleaner.sanitize_html_tags(source).replace("&gt;", ">")


class SanitizeSubmission(SanitizeHTML):
    """nbconvert's SanitizeHTML with the course's allow-list, enabled wherever it is registered, and
    markdown cleaned without breaking block quotes (see the module docstring for what goes)."""

    @default("enabled")
    def _enabled_default(self) -> bool:
        return True

    @default("tags")
    def _tags_default(self) -> list[str]:
        return list(TAGS)

    @default("attributes")
    def _attributes_default(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in ATTRIBUTES.items()}

    @default("strip")
    def _strip_default(self) -> bool:
        return True  # a disallowed tag disappears; its text stays as text

    def sanitize_html_tags(self, html_str: str) -> str:
        """nbconvert's cleaning of ``html_str``, remembered per allow-list (``memo.TextMemo``)."""
        policy = (tuple(self.tags), tuple(sorted((k, tuple(v)) for k, v in dict(self.attributes).items())),
                  bool(self.strip), bool(self.strip_comments), tuple(self.styles))
        return _CLEANED(policy, html_str, super().sanitize_html_tags)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        for key in SCRIPT_METADATA:
            nb.metadata.pop(key, None)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if cell.cell_type == "markdown":  # every one: a forged "locked" flag must gain nothing
            cell.source = clean_markdown(cell.source, self)
            return cell, resources
        if cell.cell_type == "code":
            cell.outputs = self.sanitize_code_outputs(cell.get("outputs", []))
            return cell, resources
        return super().preprocess_cell(cell, resources, index)


def configure(c: Any) -> Any:
    """Turn on nbconvert's own HTML sanitising for every HTMLExporter built from the Config ``c``
    (nbgrader's feedback, formgrader's views)."""
    c.HTMLExporter.sanitize_html = True
    return c
