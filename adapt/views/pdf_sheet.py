"""A printed sheet for the MARAC documents: lines that wrap to the page,
lists that say "and N more" when they are cut, and a footer on every page.

Text is drawn in DejaVu Sans as shipped by matplotlib (:func:`pdf_text`), so
names in any European alphabet print as written, with no download.

A :class:`Sheet` is either one page (the MARAC check summary: what does not
fit is counted, never dropped silently) or as many pages as it needs up to a
cap (the meeting list). A few lines at the bottom of the last page are held
back so that the "and N more" notes always have room.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import matplotlib
from anyascii import anyascii
from fpdf import FPDF

PDF_FONT = "DejaVuSans"
PAGE_HEIGHT = 297.0  # A4 portrait, mm
MARGIN = 12.0
FOOTER_SPACE = 22.0  # below the last line of text: the footer's room
HANG = 4.0  # mm: continuation lines of a wrapped line are indented this much
RESERVED_LINES = 3  # held back at the bottom of the last page for the last "and N more" note


def font_files() -> dict[str, Path]:
    """DejaVu Sans (regular, bold, oblique) from matplotlib's own data folder:
    a Unicode TrueType font that installs with a registry package, so a force's
    machine has it without a download."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf",
            "I": folder / "DejaVuSans-Oblique.ttf"}  # fmt: skip


@cache
def _drawable() -> frozenset[int]:
    """The code points DejaVu Sans has a glyph for (read once)."""
    pdf = FPDF()
    pdf.add_font(PDF_FONT, "", font_files()[""])
    return frozenset(pdf.fonts[PDF_FONT.lower()].cmap)


def pdf_text(text: object) -> str:
    """``text`` as the PDF can draw it: every letter DejaVu Sans has
    (``Łukasz Żółć``, Greek, Cyrillic) as written; a character it lacks
    (``山田``, emoji) transliterated (:mod:`anyascii`), or ``?``.

    >>> pdf_text("Łukasz Żółć — 山田")
    'Łukasz Żółć — ShanTian'
    """
    have = _drawable()
    return "".join(c if ord(c) in have else (anyascii(c) or "?") for c in str(text))


def _more(n: int, what: str) -> str:
    """ "3 more victims": the count, "more", the noun."""
    one, _, many = what.partition("/")
    return f"{n} more {one if n == 1 else many or one + 's'}"


def counted(n: int, what: str) -> str:
    """``n`` and a noun, singular or plural; ``what`` is "noun" or "noun/plural".

    >>> counted(1, "victim"), counted(3, "victim"), counted(2, "address/addresses")
    ('1 victim', '3 victims', '2 addresses')
    """
    one, _, many = what.partition("/")
    return f"{n} {one if n == 1 else many or one + 's'}"


class _Pages(FPDF):
    """FPDF with the sheet's footer (the marking and who made it) on every page."""

    footer_text = ""
    numbered = False

    def footer(self) -> None:
        self.set_y(PAGE_HEIGHT - 18)
        self.set_font(PDF_FONT, "I", 8)
        if self.numbered:
            self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R",
                      new_x="LMARGIN", new_y="NEXT")  # fmt: skip
        self.multi_cell(0, 4, pdf_text(self.footer_text))


class Sheet:
    """A4 portrait, DejaVu Sans. ``max_pages=1`` makes a one-page summary.

    :meth:`line` draws one fact wrapped to the page (continuation lines hang
    under the first); :meth:`listing` draws items and, when it cuts the list
    at ``limit`` items, says how many more there are. Once the sheet is full,
    what could not be drawn is counted (:meth:`left_out`) and one last note,
    in the room held back for it, says how much more there is and ``where``
    to find it.
    """

    def __init__(self, footer: str, *, where: str, max_pages: int = 1) -> None:
        pdf = _Pages(orientation="P", unit="mm", format="A4")
        for style, path in font_files().items():
            pdf.add_font(PDF_FONT, style, path)
        pdf.footer_text = footer
        pdf.numbered = max_pages > 1
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.add_page()
        self.pdf = pdf
        self.max_pages = max_pages
        self.where = where
        self.full = False
        self.left: dict[str, int] = {}  # what could not be drawn once the sheet was full

    # -- room ------------------------------------------------------------
    def _room(self, height: float, *, reserve: float) -> bool:
        """Whether ``height`` fits on this page (or a new one), keeping
        ``reserve`` mm free at the bottom of the last page; opens the next
        page when that is where it fits."""
        bottom = PAGE_HEIGHT - FOOTER_SPACE
        if self.pdf.get_y() + height <= bottom - reserve:
            return True
        if self.pdf.page_no() < self.max_pages and MARGIN + height <= bottom - reserve:
            self.pdf.add_page()
            return True
        return False

    def _wrapped(self, text: str, size: float, style: str, indent: float) -> list[str]:
        self.pdf.set_font(PDF_FONT, style, size)
        width = self.pdf.epw - indent - HANG
        drawn = pdf_text(text)
        if "\n" not in drawn and self.pdf.get_string_width(drawn) <= width - 1:
            return [drawn]  # fits: fpdf's line breaking is slow, measure once instead
        return self.pdf.multi_cell(width, 5, drawn, dry_run=True, output="LINES")

    # -- drawing ---------------------------------------------------------
    def line(
        self,
        text: str,
        size: float = 9,
        style: str = "",
        height: float = 4.6,
        *,
        indent: float = 0.0,
        count: str | None = "line",
        force: bool = False,
    ) -> bool:
        """One fact, wrapped to the page's width (every word kept). When it
        does not fit, nothing is drawn, the sheet is full, the line is
        counted as ``count`` left out (None: the caller counts) and False is
        returned. ``force`` may use the room held back for the last note."""
        parts = self._wrapped(text, size, style, indent) or [""]
        reserve = 0.0 if force else RESERVED_LINES * 4.6
        if (self.full and not force) or not self._room(height * len(parts), reserve=reserve):
            self.full = True
            if count:
                self.left_out(1, count)
            return False
        for n, part in enumerate(parts):
            self.pdf.set_x(MARGIN + indent + (HANG if n else 0.0))
            self.pdf.cell(0, height, part, new_x="LMARGIN", new_y="NEXT")
        return True

    def left_out(self, count: int, what: str) -> None:
        """Record that ``count`` ``what`` could not be drawn (the sheet is full)."""
        if count > 0:
            self.left[what] = self.left.get(what, 0) + count

    def listing(self, items: Sequence[str], *, limit: int, what: str, indent: float = 3.0) -> int:
        """Draw up to ``limit`` of ``items``; a list cut at the limit ends
        with "… and N more ``what``" (a noun, or "noun/plural"); items the
        full sheet had no room for are counted for the last note. Returns the
        number drawn."""
        drawn = 0
        for item in items[:limit]:
            if not self.line(item, indent=indent, count=None):
                break
            drawn += 1
        if self.full:
            self.left_out(len(items) - drawn, what)
        elif len(items) > drawn:
            note = f"… and {_more(len(items) - drawn, what)} ({self.where})"
            self.line(note, 9, "I", indent=indent, count=None)
            if self.full:
                self.left_out(len(items) - drawn, what)
        return drawn

    def gap(self, mm: float) -> None:
        if not self.full:
            self.pdf.ln(mm)

    def output(self) -> bytes:
        """The PDF; when the sheet filled up, its last line says what was left out."""
        if self.left:
            left = ", ".join(_more(n, what) for what, n in self.left.items())
            self.line(f"… and {left}: no room on this sheet ({self.where})", 9, "I",
                      count=None, force=True)  # fmt: skip
        return bytes(self.pdf.output())
