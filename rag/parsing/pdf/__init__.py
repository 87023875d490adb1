"""PDF briefs: read the page layout (glyph sizes, weights, positions) into a Draft.

budgets.py  what reading one PDF may cost (RAG_PDF_MAX_*), and the one-line errors
scan.py     the raw file, before PDFium: inflated bytes, objects per page, form depth
worker.py   PDFium (pypdfium2) in a process of its own, under memory and time limits
glyphs.py   runs the worker; every glyph with its size, style and position
lines.py    glyphs → text lines, with raised small digits turned into footnote markers
layout.py   per page: running headers and page numbers, the footnote area, body blocks
info.py     the /Info title and subject, read from the file's bytes
title_page.py  the first page's title block → title, subtitle, byline, date (front matter)
reader.py   blocks → headings, paragraphs (rejoined across pages), footnotes
"""

from rag.parsing.pdf.reader import parse_pdf

__all__ = ["parse_pdf"]
