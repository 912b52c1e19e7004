"""``generate_feedback``'s configuration: feedback that says which points are still pending manual grading.

nbgrader's feedback counts a written answer nobody has graded yet as 0: handed out
right after ``grade``, it reads "Score: 12 / 139" with every reconciliation and
memo at 0, and no word that a person has yet to read them.  Here:

* :class:`PendingGrades` (``preprocessors/pending_grades.py``, run by ``generate_feedback`` right after
  nbgrader's ``GetGrades``) reads the gradebook and marks every graded cell that
  has neither an automatic nor a manual score as pending
  (``cell.metadata.nbgrader["pending"] = True``), and leaves in
  ``resources["nbgrader"]`` the points pending and the points graded so far;
* the ``feedback_pending`` template (``autograder/templates``, extending
  nbgrader's ``feedback``) shows those cells as "pending manual grading (N points)"
  and the total as "12 / 35 graded so far; 104 points pending manual grading".

Once a grader has scored a cell in formgrader it has a manual score, so the
feedback ``finalize`` regenerates shows the real score; with nothing pending the
page reads exactly like nbgrader's.  :func:`configure` is the one wiring call
(``nbgrader_config.apply``), so the worker, ``finalize`` and nbgrader's own
``generate_feedback`` all use it.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbformat import NotebookNode

from .memo import TextMemo
from .preprocessors.pending_grades import PendingGrades

__all__ = ["FeedbackExporter", "IMAGE_ALT", "describe_images", "TEMPLATE_NAME", "TEMPLATE_FILE", "TEMPLATE_DIR",
           "configure"]

#: The course's feedback template (a folder under :data:`TEMPLATE_DIR`) and its page, which extends
#: nbgrader's ``feedback/index.html.j2`` (found next in the template chain: the folder has no index).
TEMPLATE_NAME = "feedback_pending"
TEMPLATE_FILE = "pending.html.j2"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


#: What nbconvert's HTMLExporter gives an image that has no alt text (its accessibility pass).
IMAGE_ALT = "No description has been provided for this image"
# Highlighted code cells, per worker process: the release's code cells are the same in every submission.
_HIGHLIGHTED = TextMemo()
# One attribute of an HTML tag: its name, then an optional value (double-quoted, single-quoted or bare).
_ATTRIBUTE = r"""\s+([^\s=>/]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?"""
# An <img> tag: any number of attributes (the pattern above, its name not captured), then the tag's end.
_IMG = re.compile(r"<img((?:" + _ATTRIBUTE.replace("(", "(?:", 1) + r")*)(\s*/?>)", re.IGNORECASE)
_NAMES = re.compile(_ATTRIBUTE)


def describe_images(html: str) -> str:
    """``html`` with every ``<img>`` tag that has no alt attribute given nbconvert's placeholder alt text.

    Tags are read attribute by attribute (a quoted value may hold ``>``).  On a feedback page every
    ``<img`` starts a tag: the sanitiser escapes ``<`` inside attribute values and drops student
    ``<img>`` tags, code and text outputs are escaped, and markdown images always carry an alt."""
    def add_alt(m: re.Match) -> str:
        attrs = m.group(1)
        if any(name.lower() == "alt" for name in _NAMES.findall(attrs)):
            return m.group(0)
        return f'<img alt="{IMAGE_ALT}"{attrs}{m.group(2)}'
    return _IMG.sub(add_alt, html)


class FeedbackExporter(HTMLExporter):
    """The HTML exporter of ``generate_feedback`` alone, so its template settings reach no other page.

    It renders the page as ``HTMLExporter`` does, but not its last step: nbconvert parses the whole
    finished page again with BeautifulSoup to give images without alt text a placeholder and
    JupyterLab cells a tabindex.  On this page (nbgrader's classic-template feedback: no JupyterLab
    cells) only the images need it, and that parse was ~40% of the export, paid for every
    submission; :func:`describe_images` gives them the same placeholder."""

    def from_notebook_node(self, nb: NotebookNode, resources: dict | None = None,  # type: ignore[override]
                           **kw: Any) -> tuple[str, dict]:
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        highlight = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))

        def highlight_code(source: str, language: str | None = None, metadata: Any = None) -> str:
            """``highlight``, remembered per lexer and language (of the cell metadata, only a magic's
            language changes the result)."""
            magic = (metadata or {}).get("magics_language")
            return _HIGHLIGHTED((lexer, language, magic), source, lambda text: highlight(text, language, metadata))
        self.register_filter("highlight_code", highlight_code)
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return describe_images(html), resources


def configure(c: Any) -> Any:
    """Use :class:`PendingGrades` and the ``feedback_pending`` template in ``generate_feedback``.

    ``c.GenerateFeedback.preprocessors`` must already be set (``nbgrader_config.apply``);
    :class:`PendingGrades` goes right after nbgrader's ``GetGrades``, whose scores it reads.
    """
    import nbgrader
    from nbgrader.preprocessors import GetGrades

    steps = list(c.GenerateFeedback.preprocessors)
    if PendingGrades not in steps:
        at = steps.index(GetGrades) + 1 if GetGrades in steps else 0
        steps.insert(at, PendingGrades)
    c.GenerateFeedback.preprocessors = steps
    # nbgrader sets its own template folder only when none is configured, so name both.
    nbgrader_templates = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"
    # Only the feedback's exporter gets the template: set on HTMLExporter it would also reach formgrader's
    # page, which names its own template ('formgrade') and would then look for this file and fail.
    c.GenerateFeedback.exporter_class = FeedbackExporter
    c.FeedbackExporter.template_name = TEMPLATE_NAME
    c.FeedbackExporter.template_file = TEMPLATE_FILE
    c.FeedbackExporter.extra_template_basedirs = [str(TEMPLATE_DIR), str(nbgrader_templates)]
    return c
