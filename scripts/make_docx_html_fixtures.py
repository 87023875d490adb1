"""Write the bundled brief as pandoc Markdown, then let pandoc make the Word and HTML fixtures.

The Markdown is generated from the parsed text brief (rag.parsing.parse_file), so it says
what the text version says: a YAML title/author/date block, the front-matter lines as
paragraphs, ``#``/``##`` headings, paragraphs with ``[^n]`` markers and the footnote
definitions as the text brief wrote them (``*Publisher*``, ``<url>``). Pandoc's ``smart``
extension is turned off so quotes and dashes are not changed on the way.

    python scripts/make_docx_html_fixtures.py      # needs /usr/bin/pandoc

Writes tests/fixtures/brief.md, brief.docx, brief.html and brief-sections.html
(``--section-divs``), brief-pandoc.md: the brief as ``pandoc -t markdown`` writes it (the
YAML block with the editor too, lines wrapped at 72 columns, ``\'`` escapes, ``--`` for an
en dash, notes' continuation lines indented), and brief-endnotes.docx: pandoc's .docx
rewritten the way other Word files differ from pandoc's: headings in custom styles ("Brief
Section", "Brief Subsection", known as headings only by their outline level or the heading
style they are based on) and the notes as endnotes. CI does not run this; the outputs are committed.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

from rag.parsing import parse_file
from rag.parsing.plaintext import parse_plaintext
from rag.text import MARKER_RE, from_superscript

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "rag" / "data" / "pakistan-us-relations-2024.txt"
OUT = ROOT / "tests" / "fixtures"
# Punctuation pandoc Markdown could read as markup (math, citations, emphasis, links...).
_ESCAPE_RE = re.compile(r"([\\*_\[\]<>$^~@#|`])")


def escape(text: str) -> str:
    text = _ESCAPE_RE.sub(r"\\\1", text)
    text = re.sub(r"^(\d+)\.", r"\1\\.", text)  # not an ordered list
    return re.sub(r"^([-+])", r"\\\1", text)


def body_text(text: str) -> str:
    return MARKER_RE.sub(lambda m: f"[^{from_superscript(m.group())}]", escape(text))


def markdown(*, editor: bool = False) -> str:
    doc = parse_file(SOURCE)
    raw = parse_plaintext(SOURCE.read_text(encoding="utf-8")).definitions
    fm = doc.front_matter
    assert fm is not None and fm.title and fm.author and fm.date_text
    out = [
        "---",
        f'title: "{fm.title}"',
        f'author: "{fm.author}"',
        *([f'editor: "{fm.editor}"'] if editor else []),
        f'date: "{fm.date_text}"',
        "---",
        "",
    ]
    out += [escape(line) + "\n" for line in fm.lines[1:]]
    headings = {s.span.start: s for s in doc.sections if s.title != "Front Matter"}
    paragraphs = {p.span.start: p for p in doc.paragraphs if p.kind == "body"}
    for start in sorted(headings.keys() | paragraphs.keys()):
        if start in headings:
            section = headings[start]
            out.append("#" * len(section.path) + " " + escape(section.title) + "\n")
        else:
            span = paragraphs[start].span
            out.append(body_text(doc.body[span.start : span.end]) + "\n")
    for number, definition in sorted(raw.items()):
        out.append(f"[^{number}]: {definition}\n")
    return "\n".join(out)


def endnotes_variant(source: Path, target: Path) -> None:
    """``source`` with custom heading styles and its footnotes turned into endnotes."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename).decode("utf-8")
            name = info.filename
            if name == "word/styles.xml":
                # Section: its own outline level; Subsection: based on Heading 2 only.
                data = data.replace(
                    '<w:style w:styleId="Heading1" w:type="paragraph">\n'
                    '    <w:name w:val="Heading 1" />',
                    '<w:style w:styleId="BriefSection" w:type="paragraph">\n'
                    '    <w:name w:val="Brief Section" />',
                ).replace(
                    "</w:styles>",
                    '<w:style w:styleId="BriefSubsection" w:type="paragraph">'
                    '<w:name w:val="Brief Subsection" /><w:basedOn w:val="Heading2" />'
                    "</w:style></w:styles>",
                )
            if name == "word/document.xml":
                data = data.replace('w:val="Heading1"', 'w:val="BriefSection"')
                data = data.replace('w:val="Heading2"', 'w:val="BriefSubsection"')
            if name in ("word/document.xml", "word/footnotes.xml"):
                data = data.replace("w:footnoteReference", "w:endnoteReference")
                data = data.replace("w:footnoteRef ", "w:endnoteRef ")
                data = data.replace("<w:footnote ", "<w:endnote ").replace(
                    "</w:footnote>", "</w:endnote>"
                )
                data = data.replace("w:footnotes", "w:endnotes")
            if name in ("[Content_Types].xml", "word/_rels/document.xml.rels"):
                data = data.replace("footnotes", "endnotes")
            name = name.replace("footnotes", "endnotes")
            zout.writestr(name, data.encode("utf-8"))


def main() -> None:
    md = OUT / "brief.md"
    md.write_text(markdown(), encoding="utf-8")
    base = ["pandoc", "-f", "markdown-smart", str(md)]
    subprocess.run([*base, "-o", str(OUT / "brief.docx")], check=True)
    subprocess.run([*base, "-s", "-o", str(OUT / "brief.html")], check=True)
    subprocess.run(
        [*base, "-s", "--section-divs", "-t", "html5", "-o", str(OUT / "brief-sections.html")],
        check=True,
    )
    endnotes_variant(OUT / "brief.docx", OUT / "brief-endnotes.docx")
    # What pandoc writes, read back: its Markdown writer, not ours, decides the spelling.
    written = subprocess.run(
        ["pandoc", "-f", "markdown-smart", "-t", "markdown", "-s"],
        input=markdown(editor=True),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (OUT / "brief-pandoc.md").write_text(written, encoding="utf-8")


if __name__ == "__main__":
    main()
