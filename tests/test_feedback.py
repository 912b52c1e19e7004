"""The feedback page's exporter: nbconvert's HTMLExporter page, without re-parsing the whole page.

``FeedbackExporter`` skips nbconvert's BeautifulSoup pass over the finished page and gives images
their placeholder alt text itself (``describe_images``).  The page must stay nbconvert's page: here
both render the same notebook (an image output, a markdown image, a table, a student's HTML) and
the pages are compared element for element.  (The sanitiser, which runs before either exporter in
``generate_feedback``, is not part of this comparison: ``tests/test_hostile_files.py`` covers it.)
"""
from __future__ import annotations

import base64
import copy
import struct
import zlib

import nbformat
import pytest
from bs4 import BeautifulSoup
from feedbackpage import make_gradebook, render, two_cell_notebook
from nbconvert.exporters import HTMLExporter

from autograder.feedback import IMAGE_ALT, describe_images


class NbconvertPage(HTMLExporter):
    """nbconvert's own exporter, given the feedback template's settings."""


def _png() -> str:
    """A 1x1 PNG, base64 (what a kernel's image/png output holds)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))
    return base64.b64encode(raw).decode()


def _rich_notebook():
    nb = two_cell_notebook()
    plot = nbformat.v4.new_code_cell("plt.plot(x)", execution_count=3, outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
        nbformat.v4.new_output("display_data", data={"image/png": _png()}, metadata={"image/png": {"width": 40}}),
        nbformat.v4.new_output("execute_result", execution_count=3, data={
            "text/html": '<table class="dataframe"><tr><th>tier</th><td title="a > b">0.31</td></tr></table>'
                         '<img src="x.png"><b onclick="x()">bold</b>',
            "text/plain": "table"})])
    notes = nbformat.v4.new_markdown_cell("A chart: ![reliability](chart.png) and ![](blank.png)\n\n> quoted")
    nb.cells[1:1] = [plot, notes]
    return nb


@pytest.mark.parametrize("html, expected", [
    ('<img src="data:image/png;base64,AAA"\n>', f'<img alt="{IMAGE_ALT}" src="data:image/png;base64,AAA"\n>'),
    ('<img src="x" alt="" />', '<img src="x" alt="" />'),                    # an empty alt is an alt
    ('<img src="x" ALT=chart>', '<img src="x" ALT=chart>'),
    ('<img src="x.png" title="a alt=b > c"/>', f'<img alt="{IMAGE_ALT}" src="x.png" title="a alt=b > c"/>'),
    ('<img data-alt="1" src="y">', f'<img alt="{IMAGE_ALT}" data-alt="1" src="y">'),
    ("<IMG SRC=x>", f'<img alt="{IMAGE_ALT}" SRC=x>'),
    ("<imgx src=1> &lt;img src=2&gt;", "<imgx src=1> &lt;img src=2&gt;"),   # not an img tag
])
def test_images_without_alt_text_get_nbconverts_placeholder(html, expected):
    assert describe_images(html) == expected


def test_the_feedback_page_is_nbconverts_page(tmp_path):
    db = make_gradebook(tmp_path)
    nb = _rich_notebook()
    ours = render(db, copy.deepcopy(nb))
    theirs = render(db, copy.deepcopy(nb), exporter_class=NbconvertPage)
    # The two image outputs and the HTML output's image get the placeholder; markdown images have their alt.
    assert ours.count("<img") == 5 and ours.count(f'alt="{IMAGE_ALT}"') == 3
    # nbconvert re-serialises its page through BeautifulSoup; read through the same parser, the pages agree.
    assert str(BeautifulSoup(ours, features="html.parser")) == theirs
