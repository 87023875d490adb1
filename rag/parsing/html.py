"""HTML briefs: h1–h6 sections, paragraphs, and footnotes resolved to their notes.

Footnotes are found the ways HTML writers put them:
- pandoc's ``<a href="#fn1" class="footnote-ref"><sup>1</sup></a>`` with the notes in
  ``<section class="footnotes">`` / ``<aside id="footnotes">`` (back-links dropped);
- Word's "Save as HTML": ``<a href="#_ftn1">[1]</a>`` with the notes in ``<div id="ftn1">``
  (endnotes ``_edn``/``edn``);
- a trailing "Notes"/"References"/"Endnotes" heading followed by an ordered list, cited by
  ``<sup>1</sup>`` or links into the list.
Each marker becomes the superscript digits the text and Markdown readers write, so the
chunker attaches the note to the passage citing it. Scripts, styles, navigation and forms
are dropped. ``<title>`` and ``<meta>`` (author, ``citation_*``, ``dc.*``) and pandoc's
title block feed the front matter.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from rag.parsing.footnotes import iso_date
from rag.parsing.plaintext import parse_front_matter
from rag.parsing.structure import Draft, outline
from rag.records import FrontMatter
from rag.text import collapse_space, to_superscript

_DROP = ("script", "style", "nav", "noscript", "template", "iframe", "form", "button", "svg")
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {
    *_HEADINGS,
    "p",
    "li",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "td",
    "th",
    "figcaption",
    "caption",
    "div",
    "section",
    "article",
    "aside",
    "main",
    "header",
    "footer",
    "ol",
    "ul",
    "dl",
    "table",
    "tr",
    "tbody",
    "thead",
    "figure",
    "body",
}
_NOTES_HEADING_RE = re.compile(r"^\s*(notes|endnotes|footnotes|references)\s*:?\s*$", re.I)
_WORD_NOTE_RE = re.compile(r"^_?(ftn|edn)(\d+)$", re.I)
_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NUMBER_RE = re.compile(r"[0-9]{1,6}")
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_CHARSET_RE = re.compile(rb"<meta[^>]+charset\s*=", re.I)
_AUTHOR_META = ("author", "citation_author", "dc.creator", "dcterms.creator")
_DATE_META = (
    "citation_publication_date",
    "citation_date",
    "dc.date",
    "dcterms.date",
    "date",
)
_TITLE_META = ("citation_title", "dc.title", "dcterms.title")
_ABSTRACT_META = (
    "citation_abstract",
    "dc.description",
    "dcterms.abstract",
    "dcterms.description",
    "description",
    "og:description",
)


def _classes(el: etree._Element) -> set[str]:
    return set(str(el.get("class") or "").split())


def _inline(el: etree._Element, *, notes: bool = False) -> str:
    """The text of ``el`` (without its tail); in a note, emphasis as ``*...*`` and a link's
    address as ``<url>`` when its text does not show it (what the footnote parser reads)."""
    parts: list[str] = [el.text or ""]
    for child in el:
        if not isinstance(child.tag, str):  # comments, processing instructions
            parts.append(child.tail or "")
            continue
        tag = child.tag.lower()
        if tag == "br":
            parts.append(" ")
        else:
            inner = _inline(child, notes=notes)
            if notes and tag in ("em", "i", "cite") and inner.strip():
                inner = f"*{inner.strip()}*"
            href = child.get("href") or ""
            if notes and tag == "a" and href.startswith("http") and href not in inner:
                inner = f"{inner} <{href}>"
            parts.append(inner)
        parts.append(child.tail or "")
    return "".join(parts)


def _is_block(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and el.tag.lower() in _BLOCKS


def _leaf_blocks(root: etree._Element) -> list[etree._Element]:
    """Block elements holding no other block: headings, paragraphs, list items... (one
    pass from the end: an element holds a block when a child is or holds one)."""
    elements = list(root.iter())
    holds: set[etree._Element] = set()
    for el in reversed(elements):
        if any(_is_block(child) or child in holds for child in el):
            holds.add(el)
    return [el for el in elements if _is_block(el) and el not in holds]


def _replace_with_text(el: etree._Element, text: str) -> None:
    parent = el.getparent()
    if parent is None:
        return
    joined = text + (el.tail or "")
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + joined
    else:
        parent.text = (parent.text or "") + joined
    parent.remove(el)


class _Notes:
    """Note numbers by the ids (and anchor names) inside each note, and each note's text."""

    def __init__(self) -> None:
        self.by_id: dict[str, int] = {}
        self.text: dict[int, str] = {}
        self.containers: list[etree._Element] = []

    def add(self, number: int, note: etree._Element) -> None:
        if number in self.text:
            return
        for el in note.iter():
            if not isinstance(el.tag, str):
                continue
            for key in (el.get("id"), el.get("name")):
                if key:
                    self.by_id.setdefault(key, number)
        # Drop back-links (pandoc's ↩, Word's leading [1]) before taking the text.
        for link in list(note.iter("a")):
            href = (link.get("href") or "").lstrip("#")
            if (
                "footnote-back" in _classes(link)
                or link.get("role") == "doc-backlink"
                or (href and href != link.get("href") and _is_backlink(href))
            ):
                _replace_with_text(link, "")
        text = collapse_space(_inline(note, notes=True))
        self.text[number] = (
            re.sub(r"^\[?\d+\]?\s*", "", text)
            if _WORD_NOTE_RE.match(str(note.get("id") or ""))
            else text
        )

    def add_list(self, ol: etree._Element) -> None:
        self.containers.append(ol)
        given = str(ol.get("start") or "1").strip()
        start = int(given) if _NUMBER_RE.fullmatch(given) else 1
        for offset, li in enumerate(el for el in ol if el.tag == "li"):
            self.add(start + offset, li)


def _is_backlink(target: str) -> bool:
    return target.startswith(("fnref", "_ftnref", "_ednref", "ftnref", "ednref")) or bool(
        re.match(r"^(fnref|ref)[-:]?\d", target)
    )


def _find_notes(body: etree._Element) -> _Notes:
    notes = _Notes()
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        classes, ident = _classes(el), str(el.get("id") or "")
        role = el.get("role") or ""
        if (
            "footnotes" in classes
            or ident == "footnotes"
            or role in ("doc-endnotes", "doc-footnotes")
        ):
            if any(el is c or el in c.iterancestors() for c in notes.containers):
                continue
            ols = list(el.iter("ol"))
            if ols:
                for ol in ols:
                    notes.add_list(ol)
                notes.containers.append(el)
    # Word's "Save as HTML": <div id="ftn1">, <div id="edn1"> (endnotes after footnotes).
    word = [
        (m.group(1).lower(), int(m.group(2)), el)
        for el in body.iter("div")
        if (m := _WORD_NOTE_RE.match(str(el.get("id") or "")))
    ]
    footnotes = max((n for kind, n, _ in word if kind == "ftn"), default=0)
    for kind, number, el in word:
        notes.add(number + (footnotes if kind == "edn" else 0), el)
        notes.containers.append(el)
    # A trailing "Notes"/"References" heading and the ordered list after it.
    for heading in body.iter(*_HEADINGS):
        if not _NOTES_HEADING_RE.match(_inline(heading)):
            continue
        nxt = heading.getnext()
        while nxt is not None and not (isinstance(nxt.tag, str) and nxt.tag == "ol"):
            nxt = None if nxt.tag in _HEADINGS else nxt.getnext()
        if nxt is not None and not any(nxt is c for c in notes.containers):
            notes.add_list(nxt)
            notes.containers.append(heading)
    return notes


def _mark(body: etree._Element, notes: _Notes) -> None:
    """Replace each marker with the superscript number of the note it points to."""

    # The elements themselves, not their id()s: lxml makes a new proxy object per access
    # unless one is alive, so an id() could be reused by an unrelated element.
    within = {el for c in notes.containers for el in c.iter()}

    def inside(el: etree._Element) -> bool:
        return el in within

    for link in list(body.iter("a")):
        if inside(link):
            continue
        href = link.get("href") or ""
        if href.startswith("#") and href[1:] in notes.by_id:
            _replace_with_text(link, to_superscript(notes.by_id[href[1:]]))
    for sup in list(body.iter("sup")):
        if inside(sup):
            continue
        digits = _inline(sup).strip().strip("[]()")
        if _NUMBER_RE.fullmatch(digits):
            _replace_with_text(sup, to_superscript(int(digits)))


def _meta(root: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for el in root.iter("meta"):
        name = str(el.get("name") or el.get("property") or "").strip().lower()
        content = collapse_space(str(el.get("content") or ""))
        if name and content:
            found.setdefault(name, content)
    return found


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((meta[k] for k in keys if k in meta), None)


def _source(data: bytes) -> bytes | str:
    """What lxml should parse: the bytes when they declare their encoding (a BOM or a
    charset), else UTF-8 text (libxml2 would otherwise take undeclared bytes as Latin-1)."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or _CHARSET_RE.search(
        data[:4096]
    ):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    # lxml refuses text that declares an encoding (XHTML's <?xml ...?>): drop it.
    return _XML_DECL_RE.sub("", text, count=1)


def parse_html(data: bytes) -> Draft:
    """The draft of an HTML brief; raises ``ValueError`` when lxml finds no document."""
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(_source(data), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError) as exc:
        raise ValueError(str(exc)) from None
    meta = _meta(root)
    title_el = root.find(".//title")
    shown = collapse_space(_inline(title_el)) if title_el is not None else ""
    title = _first(meta, _TITLE_META) or shown or None
    body = root.find("body")
    if body is None:
        body = root
    for el in list(body.iter(*_DROP)):
        _replace_with_text(el, "")

    notes = _find_notes(body)
    _mark(body, notes)
    for container in notes.containers:
        if container.getparent() is not None:
            _replace_with_text(container, "")

    # Pandoc's title block (h1.title, p.subtitle, p.author, p.date, div.abstract) is front
    # matter; its subtitle and abstract are fields, not lines to read as a title page.
    head_lines: list[str] = []
    named: dict[str, str] = {}
    header = next((el for el in body.iter("header") if el.get("id") == "title-block-header"), None)
    candidates = [header] if header is not None else []
    candidates += [
        el
        for el in body.iter("h1", "p", "div")
        if _classes(el)
        & ({"abstract"} if el.tag == "div" else {"title", "subtitle", "author", "date"})
        and (header is None or header not in el.iterancestors())
    ]
    for container in candidates:
        if container.getparent() is None:
            continue  # inside a container taken already
        for kind, text in _title_block(container):
            if kind in ("title", "subtitle", "abstract"):
                named[kind] = text
            else:
                head_lines.append(text)
        _replace_with_text(container, "")
    title = named.pop("title", title)

    blocks: list[tuple[int, str]] = []  # (heading level or 0, text)
    for leaf in _leaf_blocks(body):
        text = collapse_space(_inline(leaf))
        if text:
            blocks.append((_HEADINGS.get(leaf.tag.lower(), 0), text))
    # Without a title block, a leading h1 is the title when it repeats <title>, or when
    # there is no <title> and it is the only h1 over h2.. sections.
    h1s = [t for level, t in blocks if level == 1]
    lower = any(level > 1 for level, _ in blocks)
    if (
        blocks
        and blocks[0][0] == 1
        and (blocks[0][1] == title or (title is None and len(h1s) == 1 and lower))
    ):
        title = blocks[0][1]
        blocks = blocks[1:]

    body_at = next((i for i, (level, _) in enumerate(blocks) if level), len(blocks))
    front, blocks = [t for _, t in blocks[:body_at]], blocks[body_at:]
    if not blocks:
        blocks, front = [(0, t) for t in front], []
    return _draft(title, meta, head_lines, front, blocks, notes.text, named)


def _title_block(container: etree._Element) -> list[tuple[str, str]]:
    """(class, text) of each line of a title block: ``title``, ``subtitle``, ``abstract``
    (its paragraphs joined, pandoc's "Abstract" label dropped) or ``line``."""
    out: list[tuple[str, str]] = []
    abstracts = [el for el in container.iter("div") if "abstract" in _classes(el)]
    for el in abstracts:
        for label in [x for x in el.iter("div") if "abstract-title" in _classes(x)]:
            _replace_with_text(label, "")
        paras = [collapse_space(_inline(leaf)) for leaf in _leaf_blocks(el)]
        out.append(("abstract", " ".join(p for p in paras if p)))
        if el is not container:
            _replace_with_text(el, "")
    if container in abstracts:
        return out
    for leaf in [container] if container.tag in ("h1", "p") else _leaf_blocks(container):
        text = collapse_space(_inline(leaf))
        kind = next((k for k in ("title", "subtitle") if k in _classes(leaf)), "line")
        if text:
            out.append((kind, text))
    return out


def _draft(
    title: str | None,
    meta: dict[str, str],
    head_lines: list[str],
    front: list[str],
    blocks: list[tuple[int, str]],
    definitions: dict[int, str],
    named: dict[str, str],
) -> Draft:
    """``named``: the title block's subtitle and abstract, if it has them."""
    draft = Draft(title=title, definitions=dict(definitions))
    author = _first(meta, _AUTHOR_META)
    date = _first(meta, _DATE_META)
    draft.front_matter = front_matter(
        title,
        head_lines,
        front,
        author=author,
        date=date,
        subtitle=named.get("subtitle"),
        abstract=named.get("abstract") or _first(meta, _ABSTRACT_META),
    )
    outline(draft, ((lvl, t.rstrip(":").strip() if lvl else t) for lvl, t in blocks), title)
    return draft


def front_matter(
    title: str | None,
    head_lines: list[str],
    front: list[str],
    *,
    author: str | None = None,
    date: str | None = None,
    subtitle: str | None = None,
    abstract: str | None = None,
) -> FrontMatter | None:
    """Front matter from the title, the title block's lines (author, date...) and the
    paragraphs before the first heading; a title-block line the paragraphs repeat is
    written once. Metadata (author, date) fills what the lines do not say. The subtitle is
    shown under the title but not read as a title-page line (its commas are no institute's);
    the abstract is a field (a section of its own), not a line."""
    lines = ([title] if title else []) + [h for h in head_lines if h not in front] + front
    if not lines and not (author or date or subtitle or abstract):
        return None
    parsed = parse_front_matter(lines) or FrontMatter()
    update: dict[str, object] = {}
    if title:
        update["title"] = title
    if subtitle and subtitle != title:
        update["subtitle"] = subtitle
        shown = list(parsed.lines)
        if subtitle not in shown:
            shown.insert(1 if title else 0, subtitle)
        update["lines"] = tuple(shown)
    if abstract:
        update["abstract"] = abstract
    if author and not parsed.author:
        update["author"] = author
    if date and not parsed.date:
        iso = date[:10] if _ISO_RE.match(date) else iso_date(date)
        if iso:
            update["date"] = iso
        update.setdefault("date_text", date)
    return parsed.model_copy(update=update)
