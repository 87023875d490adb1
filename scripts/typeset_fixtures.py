"""Typeset the bundled brief into the PDF fixtures under ``tests/fixtures/`` (run by hand).

The PDFs are committed, so the tests need no typesetter; rerun this only to change them:

    pip install -e '.[pdf-tools]'     # WeasyPrint (needs Debian's pango), pypdf
    python scripts/typeset_fixtures.py

WeasyPrint is a real layout engine: CSS ``float: footnote`` puts each citation at the foot
of the page where it is cited, so paragraphs and sentences break across pages after the
footnote area, as in published briefs. Two layouts (fonts, sizes, margins, page sizes,
paragraph style, hyphen character, footnote numbering all differ) keep the PDF reader from
being tuned to one. The bad-input fixtures (no footnotes, no text layer, encrypted) are
made here too.
"""

from __future__ import annotations

import html
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.config import bundled_brief  # noqa: E402
from rag.parsing import parse_file  # noqa: E402
from rag.parsing.plaintext import parse_plaintext  # noqa: E402
from rag.records import Document  # noqa: E402
from rag.text import MARKER_RE, from_superscript  # noqa: E402

OUT = ROOT / "tests" / "fixtures"
RUNNING_HEAD = "ISSI Issue Brief · Pakistan-U.S. Relations"

LAYOUT_A = """
@page {
  size: A4; margin: 24mm 22mm 26mm 25mm;
  @top-center { content: "%(head)s"; font: italic 9pt "Liberation Serif"; color: #555; }
  @bottom-center { content: counter(page); font: 9pt "Liberation Serif"; }
  @footnote { border-top: 0.5pt solid black; padding-top: 4pt; margin-top: 10pt; }
}
html { font: 11pt/1.45 "Liberation Serif"; text-align: justify; hyphens: auto; }
h1 { font-size: 20pt; text-align: center; margin: 0 0 12pt; line-height: 1.2; }
.front p { text-align: center; margin: 0; }
.front .gap { margin-top: 10pt; }
h2 { font-size: 14pt; margin: 16pt 0 6pt; }
h3 { font-size: 12pt; margin: 12pt 0 4pt; }
p { margin: 0 0 8pt; }
.fn { float: footnote; font-size: 8.5pt; line-height: 1.3; text-align: left; hyphens: manual; }
.fn a { color: black; text-decoration: none; overflow-wrap: anywhere; }
::footnote-call { content: counter(footnote); vertical-align: super; font-size: 7pt;
  line-height: 0; }
.fn::footnote-marker { content: counter(footnote) " "; vertical-align: super; font-size: 6pt; }
"""

LAYOUT_B = """
@page {
  size: A5; margin: 16mm 14mm 18mm 15mm;
  @top-right { content: "%(head)s"; font: 7.5pt "DejaVu Sans"; }
  @bottom-left { content: "Page " counter(page) " of " counter(pages); font: 7.5pt "DejaVu Sans"; }
  @footnote { margin-top: 8pt; }
}
html { font: 9pt/1.35 "DejaVu Sans"; text-align: justify; hyphens: auto;
  hyphenate-character: "-"; }
h1 { font-size: 15pt; margin: 0 0 8pt; line-height: 1.2; }
.front p { margin: 0; }
.front .gap { margin-top: 6pt; }
h2 { font-size: 11pt; margin: 12pt 0 4pt; }
h3 { font-size: 9pt; font-style: italic; margin: 8pt 0 2pt; }
p { margin: 0; text-indent: 1.5em; }
h2 + p, h3 + p { text-indent: 0; }
.fn { float: footnote; font-size: 7pt; line-height: 1.25; text-align: left; hyphens: manual;
  text-indent: 0; }
.fn a { color: black; text-decoration: none; overflow-wrap: anywhere; }
::footnote-call { content: counter(footnote); vertical-align: super; font-size: 6pt;
  line-height: 0; }
.fn::footnote-marker { content: counter(footnote) ". "; }
"""

LAYOUTS = {
    "brief-a4-serif.pdf": (LAYOUT_A, True),  # subsection headings keep their colon
    "brief-a5-sans.pdf": (LAYOUT_B, False),  # ... and lose it here: size/style tells the level
}


def footnote_html(raw: str) -> str:
    """``Title, *Publisher*, date, <https://…>`` → HTML with <em> and a link."""
    text = html.escape(raw, quote=False)
    text = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)
    return re.sub(r"&lt;(https?://[^&\s]+)&gt;", r'<a href="\1">\1</a>', text)


def body_html(text: str, definitions: dict[int, str], seen: list[int]) -> str:
    out, pos = [], 0
    for match in MARKER_RE.finditer(text):
        out.append(html.escape(text[pos : match.start()], quote=False))
        number = from_superscript(match.group())
        seen.append(number)
        out.append(f'<span class="fn">{footnote_html(definitions[number])}</span>')
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def brief_html(doc: Document, definitions: dict[int, str], css: str, colons: bool) -> str:
    fm = doc.front_matter
    assert fm is not None
    lines = list(fm.lines[1:])
    front = "".join(
        f'<p class="{"gap" if line in ("By", "Edited by") or line.startswith("(") else ""}">'
        f"{html.escape(line)}</p>"
        for line in lines
    )
    parts = [f"<h1>{html.escape(fm.title or doc.title)}</h1><div class='front'>{front}</div>"]
    seen: list[int] = []
    body_sections = [s for s in doc.sections if s.path != ("Front Matter",)]
    for section in body_sections:
        tag = "h2" if len(section.path) == 1 else "h3"
        title = section.title + (":" if colons and tag == "h3" else "")
        parts.append(f"<{tag}>{html.escape(title)}</{tag}>")
        for para in doc.paragraphs:
            if para.section.path == section.path:
                text = doc.body[para.span.start : para.span.end]
                parts.append(f"<p>{body_html(text, definitions, seen)}</p>")
    # counter(footnote) numbers calls in order; the brief must cite 1, 2, 3 … in order.
    assert seen == sorted(seen) == list(definitions), seen
    style = css % {"head": RUNNING_HEAD}
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{html.escape(doc.title)}</title><style>{style}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )


PLAIN_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><style>
@page { size: A5; margin: 18mm; } html { font: 10pt/1.4 "Liberation Sans"; }
p { margin: 0 0 8pt; }</style></head><body>
<p>This note has no headings and no footnotes. It is a short memo written as plain
paragraphs, so a reader of briefs should index it as body text and say that it found
neither headings nor footnotes.</p>
<p>Its second paragraph talks about irrigation canals in the Indus basin and the cost of
lining them with concrete, which saves water that seeps into the ground.</p>
</body></html>"""


def write(name: str, data: bytes) -> None:
    (OUT / name).write_bytes(data)
    print(f"{name}: {len(data) / 1024:.0f} KiB")


def main() -> None:
    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML

    source = bundled_brief()
    doc = parse_file(source)
    definitions = parse_plaintext(source.read_text(encoding="utf-8")).definitions
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (css, colons) in LAYOUTS.items():
        page = brief_html(doc, definitions, css, colons)
        write(name, HTML(string=page).write_pdf(pdf_version="1.7", uncompressed_pdf=False))

    write("plain-memo.pdf", HTML(string=PLAIN_HTML).write_pdf())

    # A scan: the first page of a brief as a picture, with no text layer at all.
    import pypdfium2

    image = pypdfium2.PdfDocument(OUT / "brief-a5-sans.pdf")[0].render(scale=0.8).to_pil()
    png = io.BytesIO()
    image.convert("L").save(png, format="PNG", optimize=True)
    scan = f"<img src='data:image/png;base64,{__import__('base64').b64encode(png.getvalue()).decode()}' style='width:100%'>"  # noqa: E501
    write("scanned.pdf", HTML(string=f"<style>@page{{size:A5;margin:0}}</style>{scan}").write_pdf())

    # Encrypted with a user password: nothing can be read without it.
    writer = PdfWriter(clone_from=PdfReader(OUT / "plain-memo.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    write("encrypted.pdf", buffer.getvalue())


if __name__ == "__main__":
    main()
