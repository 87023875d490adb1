"""PDF briefs: read the page layout (glyph sizes, weights, positions) into a Draft.

glyphs.py   the PDF library (pypdfium2) behind one function; errors become one line
lines.py    glyphs → text lines, with raised small digits turned into footnote markers
layout.py   per page: running headers and page numbers, the footnote area, body blocks
reader.py   blocks → front matter, headings, paragraphs (rejoined across pages), footnotes
"""

from rag.parsing.pdf.reader import parse_pdf

__all__ = ["parse_pdf"]
