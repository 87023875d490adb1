"""Typeset two small briefs whose title pages and footnote numbers differ from the bundled
brief's fixtures (run by hand; the PDFs are committed, so the tests need no typesetter):

    pip install -e '.[pdf-tools]'     # WeasyPrint (needs Debian's pango)
    python scripts/typeset_notes_fixtures.py

- ``notes-raised-dot.pdf``: US Letter, sans; no ``<title>`` (so no /Info title: the title is
  the line the first page prints largest, under a small "POLICY BRIEF No. 7" kicker), a
  title page of "By", a role, "Edited by", a centre and a date on one line each; footnotes
  numbered ``¹.`` (raised, with a dot).
- ``notes-bracketed.pdf``: A5, serif; a ``<title>`` (the /Info title, longer than the
  printed title, which a subtitle line follows); footnotes numbered ``[1]``.
- ``byline-centred.pdf``: A4, Liberation Sans, the title block centred: a title, an italic
  subtitle with a comma, an italic "By" line, "Edited by", a day-first date ("16 September
  2024") in small capitals, then a standfirst paragraph (prose with commas, no heading over
  it) before the first section; a ``<meta name="description">`` (the PDF's /Subject, an
  abstract the page does not print); footnotes numbered ``1)``.
"""

from __future__ import annotations

import html
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"

NOTES = {
    1: '"Indus Waters Treaty," *World Bank*, September 19, 1960, <https://example.org/iwt>',
    2: 'Amina Rahman, "Glaciers and Rivers," *Journal of Water Policy*, May 3, 2021.',
    3: '"Kishanganga Award," *Permanent Court of Arbitration*, December 20, 2013.',
    4: 'Sara Khan, "Dams on the Chenab," *River Review*, January 8, 2023, '
    "<https://example.org/chenab>",
}

SECTIONS = [
    (
        "Introduction",
        [
            "The Indus Waters Treaty divides six rivers between two states, three to each "
            "side, and it has outlasted three wars and many crises since it was signed "
            "with the help of the World Bank.[1] Few agreements between rivals have lasted "
            "as long, and fewer still have kept working through open conflict.",
            "Its success rests on a simple bargain: the eastern rivers for one side, the "
            "western rivers for the other, with limited rights to use the western waters "
            "for power and farming upstream. That bargain is now strained by a warming "
            "climate that changes when and how much water the rivers carry.[2]",
        ],
    ),
    (
        "Disputes Under the Treaty",
        [
            "Disputes over dam design have gone to neutral experts and to a court of "
            "arbitration, which ruled on the diversion of water between tributaries and "
            "on the drawdown of reservoirs below their dead storage level.[3] Both "
            "procedures have been slow, and each side has blamed the other for delays.",
            "New projects on the Chenab have renewed the argument about pondage and "
            "spillways, since each dam upstream can change the timing of flows that "
            "farmers downstream depend on in the sowing season.[4] The treaty has no "
            "clause on climate, and neither side has proposed to renegotiate it.",
            "A joint commission still meets, exchanges flood data and tours sites, which "
            "is more than most neighbours in the region manage on any issue at all, and "
            "its quiet work is the strongest argument for keeping the treaty as it is.",
        ],
    ),
    (
        "Way Forward",
        [
            "The two governments could share glacier and snow data in real time, agree on "
            "a common method for reporting flows, and ask the commission to study how the "
            "treaty's terms apply when the western rivers carry less water in the decades "
            "ahead. None of this requires a new treaty, only the will to use the old one.",
        ],
    ),
]


def _note(raw: str) -> str:
    text = html.escape(raw, quote=False)
    parts = text.split("*")
    text = "".join(f"<em>{p}</em>" if i % 2 else p for i, p in enumerate(parts))
    return text.replace("&lt;", "").replace("&gt;", "")


def _body() -> str:
    out = []
    for title, paragraphs in SECTIONS:
        out.append(f"<h2>{html.escape(title)}</h2>")
        for para in paragraphs:
            text = html.escape(para, quote=False)
            for number, raw in NOTES.items():
                text = text.replace(f"[{number}]", f'<span class="fn">{_note(raw)}</span>')
            out.append(f"<p>{text}</p>")
    return "".join(out)


RAISED_DOT = """
@page { size: letter; margin: 22mm 24mm;
  @bottom-right { content: counter(page); font: 8pt "DejaVu Sans"; } }
html { font: 10pt/1.4 "DejaVu Sans"; text-align: left; }
.kicker { font-size: 8pt; letter-spacing: 1pt; margin: 0 0 6pt; }
h1 { font-size: 22pt; line-height: 1.15; margin: 0 0 14pt; }
.front p { margin: 0; font-size: 10pt; }
.front { margin-bottom: 18pt; }
h2 { font-size: 13pt; margin: 14pt 0 6pt; }
p { margin: 0 0 7pt; }
.fn { float: footnote; font-size: 7.5pt; line-height: 1.3; }
::footnote-call { content: counter(footnote); vertical-align: super; font-size: 6.5pt;
  line-height: 0; }
.fn::footnote-marker { content: counter(footnote) ". "; vertical-align: super;
  font-size: 5.5pt; }
"""

BRACKETED = """
@page { size: A5; margin: 15mm 14mm 17mm;
  @bottom-center { content: counter(page); font: 8pt "Liberation Serif"; } }
html { font: 10pt/1.35 "Liberation Serif"; text-align: justify; }
h1 { font-size: 17pt; margin: 0 0 4pt; }
.subtitle { font-size: 12pt; font-style: italic; margin: 0 0 10pt; }
.front p { margin: 0; }
h2 { font-size: 12pt; margin: 12pt 0 4pt; }
p { margin: 0 0 6pt; }
.fn { float: footnote; font-size: 7.5pt; line-height: 1.25; text-align: left; }
::footnote-call { content: "[" counter(footnote) "]"; font-size: 7pt; vertical-align: super;
  line-height: 0; }
.fn::footnote-marker { content: "[" counter(footnote) "] "; }
"""

CENTRED = """
@page { size: A4; margin: 25mm 30mm 22mm;
  @bottom-center { content: "Page " counter(page); font: 8pt "Liberation Sans"; } }
html { font: 10.5pt/1.45 "Liberation Sans"; text-align: left; }
h1 { font-size: 20pt; text-align: center; margin: 0 0 6pt; font-weight: normal; }
.subtitle { font-size: 13pt; font-style: italic; text-align: center; margin: 0 0 14pt; }
.front { text-align: center; margin-bottom: 20pt; }
.front p { margin: 0 0 2pt; }
.byline { font-style: italic; }
.date { font-variant: small-caps; font-size: 9.5pt; color: #444; }
.standfirst { font-size: 11.5pt; margin: 0 0 14pt; }
h2 { font-size: 11.5pt; font-weight: bold; margin: 14pt 0 5pt; text-transform: uppercase; }
p { margin: 0 0 7pt; }
.fn { float: footnote; font-size: 8pt; line-height: 1.3; }
::footnote-call { content: counter(footnote); vertical-align: super; font-size: 7pt;
  line-height: 0; }
.fn::footnote-marker { content: counter(footnote) ") "; }
"""
STANDFIRST = (
    "Sixty-five years on, the treaty that divides the Indus still works, but a warming "
    "climate, new dams and a cold peace between its parties are testing it as never before, "
    "and this brief asks what would keep it alive."
)
ABSTRACT = (
    "The brief recommends a shared glacier monitoring network, funded jointly, as the first "
    "step toward adapting the treaty to climate change."
)


def _page(css: str, head: str, front: str, title_tag: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{title_tag}'
        f"<style>{css}</style></head><body>{head}<div class='front'>{front}</div>"
        f"{_body()}</body></html>"
    )


def main() -> None:
    from weasyprint import HTML

    raised = _page(
        RAISED_DOT,
        "<p class='kicker'>POLICY BRIEF No. 7</p><h1>Sharing the Indus in a Warming Climate</h1>",
        "".join(
            f"<p>{line}</p>"
            for line in (
                "By Amina Rahman",
                "Research Fellow",
                "Edited by Sara Khan",
                "Centre for River Policy",
                "March 1, 2024",
            )
        ),
        "",
    )
    HTML(string=raised).write_pdf(OUT / "notes-raised-dot.pdf")
    bracketed = _page(
        BRACKETED,
        "<h1>Water, Power and Peace</h1><p class='subtitle'>The Indus Treaty at Sixty-Five</p>",
        "<p>By</p><p>John Smith</p><p>Edited by</p><p>Sara Khan</p><p>May 2024</p>",
        "<title>Water, Power and Peace: The Indus Treaty at Sixty-Five</title>",
    )
    HTML(string=bracketed).write_pdf(OUT / "notes-bracketed.pdf")
    centred = _page(
        CENTRED,
        "<h1>The Indus Treaty at Sixty-Five</h1>"
        "<p class='subtitle'>Glaciers, Dams and a Cold Peace</p>",
        "<p class='byline'>By Farah Siddiqui</p><p>Edited by Dr Omar Farooq</p>"
        "<p class='date'>16 September 2024</p></div>"
        f"<p class='standfirst'>{STANDFIRST}</p><div>",
        f'<meta name="description" content="{ABSTRACT}">',
    )
    HTML(string=centred).write_pdf(OUT / "byline-centred.pdf")


if __name__ == "__main__":
    main()
