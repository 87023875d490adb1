"""Word (.docx) briefs read from their OOXML parts with zipfile and lxml.

python-docx has no footnote API (and docx2python flattens notes into its own text
markers), so the parts are read here: ``word/document.xml`` for paragraphs in order,
``word/styles.xml`` for which style is a heading (``heading 1..6`` by name, or an outline
level), ``word/footnotes.xml``/``word/endnotes.xml`` for the notes, and
``docProps/core.xml`` for the title, author and description (the abstract, unless an
Abstract-styled paragraph gives it). A ``w:footnoteReference`` becomes the
superscript number Word shows (notes numbered in order of reference; endnotes after the
footnotes), so the chunker attaches the note to the passage citing it. A note's italic
runs are kept as ``*...*`` and a link's address as ``<url>``: what the footnote parser
reads for the publisher and URL.

Bounded: every part is checked against RAG_MAX_FILE_BYTES by its declared uncompressed
size before it is read (a zip bomb is refused, not inflated), and the XML parser resolves
no entities and fetches nothing.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

from lxml import etree

from rag.errors import CorpusFormatError
from rag.parsing.html import front_matter
from rag.parsing.structure import Draft
from rag.parsing.structure import outline as add_outline
from rag.text import collapse_space, to_superscript

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DC = "http://purl.org/dc/elements/1.1/"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_OFFICE_DOCUMENT = "/officeDocument"
_HEADING_NAME_RE = re.compile(r"^heading\s*([1-9])$", re.I)
_TITLE_STYLES = {"title", "subtitle", "author", "date", "abstract"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class _Package:
    """The zip's parts, each read only after its declared size is checked."""

    def __init__(self, path: Path, data: bytes, budget: int) -> None:
        self.path, self.budget, self.spent = path, budget, 0
        if data.startswith(_OLE_MAGIC):
            raise CorpusFormatError(
                f"{path}: is an encrypted (password-protected) Word file or an old binary "
                ".doc, not a .docx; remove the password or save it as .docx, then retry"
            )
        try:
            self.zip = zipfile.ZipFile(BytesIO(data))
            self.names = set(self.zip.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            raise CorpusFormatError(
                f"{path}: not a Word .docx (not a readable ZIP archive); save it again as "
                ".docx, or convert it to .txt or .md"
            ) from None

    def read(self, name: str) -> bytes | None:
        name = name.lstrip("/")
        if name not in self.names:
            return None
        info = self.zip.getinfo(name)
        if info.flag_bits & 0x1:
            raise CorpusFormatError(
                f"{self.path}: its parts are encrypted; remove the password and retry"
            )
        self.spent += info.file_size
        if self.spent > self.budget:
            raise CorpusFormatError(
                f"{self.path}: its text parts unpack to over {self.budget:,} bytes, the "
                "budget per brief; split the document, or raise RAG_MAX_FILE_BYTES"
            )
        try:
            return self.zip.read(name)
        except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as exc:
            raise CorpusFormatError(
                f"{self.path}: is corrupt ({name}: {exc}); save it again as .docx and retry"
            ) from None

    def xml(self, name: str) -> etree._Element | None:
        data = self.read(name)
        if data is None:
            return None
        try:
            return etree.fromstring(data, parser=_PARSER)
        except etree.XMLSyntaxError as exc:
            raise CorpusFormatError(
                f"{self.path}: is corrupt ({name}: {exc.msg}); save it again as .docx and retry"
            ) from None

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, target) for ``part``; targets resolved to part names."""
        folder, base = posixpath.split(part)
        root = self.xml(posixpath.join(folder, "_rels", base + ".rels"))
        out: dict[str, tuple[str, str]] = {}
        for rel in root.iter(f"{{{_REL}}}Relationship") if root is not None else ():
            target = str(rel.get("Target") or "")
            if rel.get("TargetMode") != "External":
                target = posixpath.normpath(posixpath.join(folder, target)).lstrip("/")
            out[str(rel.get("Id"))] = (str(rel.get("Type") or ""), target)
        return out


def _digits(value: object) -> bool:
    return bool(re.fullmatch(r"[0-9]{1,2}", str(value)))


def _by_type(rels: dict[str, tuple[str, str]], suffix: str, default: str) -> str:
    return next((t for kind, t in rels.values() if kind.endswith(suffix)), default)


def _styles(root: etree._Element | None) -> dict[str, tuple[str, int | None]]:
    """Style id → (lower-case name, heading level from its name or outline level)."""
    out: dict[str, tuple[str, int | None]] = {}
    parents: dict[str, str] = {}
    for style in root.iter(_w("style")) if root is not None else ():
        sid = str(style.get(_w("styleId")) or "")
        name_el = style.find(_w("name"))
        name = str(name_el.get(_w("val")) if name_el is not None else sid).lower()
        match = _HEADING_NAME_RE.match(name)
        level = int(match.group(1)) if match else None
        outline = style.find(f"{_w('pPr')}/{_w('outlineLvl')}")
        if level is None and outline is not None and _digits(outline.get(_w("val"))):
            lvl = int(str(outline.get(_w("val"))))
            level = lvl + 1 if lvl < 6 else None
        based = style.find(_w("basedOn"))
        parents[sid] = str(based.get(_w("val"))) if based is not None else ""
        out[sid] = (name, level)
    # A style based on a heading style is a heading of its level (a short chain, bounded).
    for sid, (name, level) in list(out.items()):
        parent, hops = parents.get(sid, ""), 0
        while level is None and parent in out and hops < 10:
            level, parent, hops = out[parent][1], parents.get(parent, ""), hops + 1
        out[sid] = (name, level)
    return out


def _italic(run: etree._Element) -> bool:
    props = run.find(_w("rPr"))
    el = props.find(_w("i")) if props is not None else None
    return el is not None and str(el.get(_w("val"), "true")).lower() not in ("0", "false")


class _Text:
    """The text of paragraphs: markers numbered in order of reference."""

    def __init__(self, rels: dict[str, tuple[str, str]]) -> None:
        self.rels = rels
        self.notes: dict[tuple[str, str], int] = {}

    def paragraph(self, p: etree._Element, *, notes: bool = False) -> str:
        # (text, italic) pieces, merged so an italic phrase split into runs is one *...*.
        pieces: list[tuple[str, bool]] = []
        for el in _walk(p):
            tag = el.tag
            if tag == _w("t"):
                run = el.getparent()
                pieces.append((el.text or "", notes and run is not None and _italic(run)))
            elif tag in (_w("tab"), _w("br"), _w("cr")):
                pieces.append((" ", False))
            elif tag == _w("noBreakHyphen"):
                pieces.append(("-", False))
            elif tag in (_w("footnoteReference"), _w("endnoteReference")):
                kind = "foot" if tag == _w("footnoteReference") else "end"
                number = self.notes.get((kind, str(el.get(_w("id")))))
                if number is not None:
                    pieces.append((to_superscript(number), False))
        if not notes:
            return collapse_space("".join(chunk for chunk, _ in pieces))
        text = _with_emphasis(pieces)
        for link in p.iter(_w("hyperlink")):
            target = self.rels.get(str(link.get(f"{{{R}}}id")), ("", ""))[1]
            shown = "".join(t.text or "" for t in link.iter(_w("t")))
            if target.startswith("http") and target not in shown:
                text += f" <{target}>"
        return collapse_space(text)


def _walk(el: etree._Element) -> Iterator[etree._Element]:
    """The descendants of paragraph ``el`` in order, without the paragraphs nested in it
    (a text box's, read as paragraphs of their own) or a fallback copy (``mc:Fallback``)."""
    for child in el:
        if child.tag in (_w("p"), _FALLBACK):
            continue
        yield child
        yield from _walk(child)


def _with_emphasis(pieces: list[tuple[str, bool]]) -> str:
    merged: list[tuple[str, bool]] = []
    for chunk, italic in pieces:
        if merged and merged[-1][1] == italic:
            merged[-1] = (merged[-1][0] + chunk, italic)
        else:
            merged.append((chunk, italic))
    out = []
    for text, italic in merged:
        if italic and text.strip():
            lead = text[: len(text) - len(text.lstrip())]
            trail = text[len(text.rstrip()) :]
            text = f"{lead}*{text.strip()}*{trail}"
        out.append(text)
    return "".join(out)


def _paragraphs(root: etree._Element) -> list[etree._Element]:
    """Paragraphs of the body in order, those in tables and text boxes included; a text
    box's fallback copy for old readers (``mc:Fallback``) is skipped, not read twice."""
    body = root.find(_w("body"))
    if body is None:
        return []
    return [p for p in body.iter(_w("p")) if not any(a.tag == _FALLBACK for a in p.iterancestors())]


def parse_docx(path: Path, data: bytes, budget: int) -> Draft:
    pkg = _Package(path, data, budget)
    main = _by_type(pkg.rels(""), _OFFICE_DOCUMENT, "word/document.xml")
    document = pkg.xml(main) if main.endswith(".xml") else None
    if document is None or document.tag != _w("document"):
        raise CorpusFormatError(
            f"{path}: a ZIP archive but not a Word document (its main part is not "
            "word/document.xml's kind); give a .docx saved by Word, LibreOffice or pandoc"
        )
    rels = pkg.rels(main)
    styles = _styles(pkg.xml(_by_type(rels, "/styles", "word/styles.xml")))
    paragraphs = _paragraphs(document)

    text = _Text({})
    # Notes are numbered in order of reference; endnotes after the footnotes.
    refs: dict[str, dict[str, None]] = {"foot": {}, "end": {}}
    for p in paragraphs:
        for ref in p.iter(_w("footnoteReference"), _w("endnoteReference")):
            kind = "foot" if ref.tag == _w("footnoteReference") else "end"
            refs[kind].setdefault(str(ref.get(_w("id"))), None)
    for i, nid in enumerate(refs["foot"]):
        text.notes[("foot", nid)] = i + 1
    for i, nid in enumerate(refs["end"]):
        text.notes[("end", nid)] = len(refs["foot"]) + i + 1

    definitions: dict[int, str] = {}
    for kind, suffix, default in (
        ("foot", "/footnotes", "word/footnotes.xml"),
        ("end", "/endnotes", "word/endnotes.xml"),
    ):
        part = _by_type(rels, suffix, default)
        root = pkg.xml(part)
        if root is None:
            continue
        notes = _Text(pkg.rels(part))
        for note in root.iter(_w(f"{kind}note")):
            number = text.notes.get((kind, str(note.get(_w("id")))))
            if number is not None:
                body = " ".join(notes.paragraph(p, notes=True) for p in note.iter(_w("p")))
                definitions[number] = collapse_space(body)

    core = pkg.xml("docProps/core.xml")
    title = author = description = None
    if core is not None:
        title = collapse_space(core.findtext(f"{{{_DC}}}title") or "") or None
        author = collapse_space(core.findtext(f"{{{_DC}}}creator") or "") or None
        description = collapse_space(core.findtext(f"{{{_DC}}}description") or "") or None

    head_lines: list[str] = []
    blocks: list[tuple[int, str]] = []
    title_from_style = None
    # The Subtitle and Abstract styles (pandoc's, Word's own Subtitle) are fields of their
    # own: a subtitle's commas are no institute's, and an abstract is a section, not lines.
    styled: dict[str, list[str]] = {"subtitle": [], "abstract": []}
    for p in paragraphs:
        line = text.paragraph(p)
        if not line:
            continue
        props = p.find(_w("pPr"))
        style = props.find(_w("pStyle")) if props is not None else None
        name, level = styles.get(str(style.get(_w("val"))) if style is not None else "", ("", None))
        outline = props.find(_w("outlineLvl")) if props is not None else None
        if outline is not None and _digits(outline.get(_w("val"))):
            lvl = int(str(outline.get(_w("val"))))
            level = lvl + 1 if lvl < 6 else level
        if name in _TITLE_STYLES and not blocks:
            if name == "title" and title_from_style is None:
                title_from_style = line
            elif name in styled:
                styled[name].append(line)
            else:
                head_lines.append(line)
        else:
            blocks.append((level or 0, line))
    title = title_from_style or title

    body_at = next((i for i, (level, _) in enumerate(blocks) if level), len(blocks))
    front, blocks = [t for _, t in blocks[:body_at]], blocks[body_at:]
    if not blocks:
        blocks, front = [(0, t) for t in front], []
    draft = Draft(title=title, definitions=definitions)
    draft.front_matter = front_matter(
        title,
        head_lines,
        front,
        author=author,
        subtitle=" ".join(styled["subtitle"]) or None,
        abstract=" ".join(styled["abstract"]) or description,
    )
    add_outline(draft, ((lvl, t.rstrip(":").strip() if lvl else t) for lvl, t in blocks), title)
    return draft
