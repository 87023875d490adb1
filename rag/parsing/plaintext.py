"""Plain-text briefs extracted from PDFs.

What the extraction leaves behind, and how each is read:
- front matter (title, "By" author and role, centre/institute, "Edited by", date,
  disclaimer in parentheses) in short blocks before the first heading;
- headings as short standalone lines; one ending in ":" is a subsection of the last
  top-level heading;
- footnote definitions (lines opening with superscript digits) where page breaks were,
  sometimes in the middle of a sentence or right after a heading: they are lifted out, and
  the text they cut is rejoined.
"""

from __future__ import annotations

import re

from rag.parsing.footnotes import DATE_RE, LOOSE_DATE_RE, iso_date
from rag.parsing.structure import Draft, Heading, Para
from rag.records import FrontMatter, SectionRef
from rag.text import MARKER_RE, SUPERSCRIPTS, collapse_space, from_superscript, unescape_markdown

_DEFINITION_RE = re.compile(f"^([{SUPERSCRIPTS}]+)\\s*(\\S.*)$", re.S)
_SENTENCE_END_RE = re.compile(f"[.!?…][\"'’”)\\]]*[{SUPERSCRIPTS}]*$")
_HEADING_MAX_WORDS = 12
_BYLINE_RE = re.compile(r"^(by|edited by)(?:\s+(.+))?$", re.I)
# Names on a byline ("Dr Neelum Nigar", "Amina Rahman and John Smith"): a few words.
_NAME_MAX_WORDS = 8
_ROLE_MAX_WORDS = 6
# A title page's labelled lines: "Author: Jane Doe", "Edited by: X", "Published: May 2024".
_LABELS = {
    "author": "author",
    "authors": "author",
    "written by": "author",
    "editor": "editor",
    "editors": "editor",
    "edited by": "editor",
    "date": "date",
    "dated": "date",
    "published": "date",
    "publication date": "date",
}
_LABEL_RE = re.compile(rf"^({'|'.join(_LABELS)})\s*:\s*(\S.*)$", re.I)
# "By Jane Doe, Senior Fellow": the words after the comma that make it a role, not a
# second name ("By Jane Doe, John Roe and Ann Poe") or a degree ("Jane Doe, PhD").
_ROLE_WORDS = re.compile(
    r"\b(?:fellows?|directors?|professors?|researchers?|analysts?|editors?|senior|research|"
    r"associates?|lecturers?|scholars?|chair|president|advis[eo]rs?|consultants?|head|dean|"
    r"officers?|managers?|coordinators?|economists?|scientists?|specialists?|assistants?|"
    r"visiting|principal|chief|deputy|executive|ambassador|experts?|candidate)\b",
    re.I,
)
_ROLE_LINE_MAX_WORDS = 12
# A heading must be followed by at least this much prose to end the front matter.
_PARAGRAPH_MIN_WORDS = 20


def _blocks(text: str) -> list[list[str]]:
    blocks, current = [], []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.rstrip()
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _is_definition(block: list[str]) -> bool:
    return bool(_DEFINITION_RE.match(block[0]))


def _is_heading(block: list[str]) -> bool:
    line = block[0]
    return (
        len(block) == 1
        and len(line.split()) <= _HEADING_MAX_WORDS
        and line[:1].isupper()
        and not MARKER_RE.search(line)
        and not re.search(r"[.!?;,)]$", line)
    )


def _is_prose(block: list[str]) -> bool:
    return not _is_heading(block) and len(" ".join(block).split()) >= _PARAGRAPH_MIN_WORDS


def _body_start(blocks: list[list[str]]) -> int:
    """Index of the first heading followed (past any footnotes) by a real paragraph."""
    # after[i]: the first block after i that is not a footnote definition (one pass from the
    # end, so a file of many headings and footnotes costs no more than its length).
    after: list[int | None] = [None] * len(blocks)
    following: int | None = None
    for i in range(len(blocks) - 1, -1, -1):
        after[i] = following
        if not _is_definition(blocks[i]):
            following = i
    for i, block in enumerate(blocks):
        nxt = after[i]
        if nxt is not None and _is_heading(block) and _is_prose(blocks[nxt]):
            return i
    return 0


def _labelled(line: str, fields: dict[str, str]) -> bool:
    """Read ``Author: Jane Doe``, ``Editor: …``, ``Date: …`` into ``fields``."""
    match = _LABEL_RE.match(line)
    if not match:
        return False
    field, value = _LABELS[match.group(1).lower()], match.group(2).strip()
    if field == "date":
        if not (DATE_RE.fullmatch(value) or LOOSE_DATE_RE.fullmatch(value)):
            return False  # "Published: ISSI" names no date
        _date(value, fields)
    elif field == "author":
        _byline(value, fields)  # "Author: Jane Doe, Senior Fellow" too
    else:
        fields[field] = value
    return True


def _date(text: str, fields: dict[str, str]) -> None:
    fields["date_text"] = text
    iso = iso_date(text)
    if iso:  # "September 2024" has no day: written, not dated
        fields["date"] = iso


def parse_front_matter(lines: list[str]) -> FrontMatter | None:
    if not lines:
        return None
    fields: dict[str, str] = {"title": lines[0]}
    i = 1
    while i < len(lines):
        line, low = lines[i], lines[i].lower()
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if _labelled(line, fields):
            i += 1
            continue
        if low == "by" and nxt:
            role = _byline(nxt, fields)
            # A role line may follow the name ("Research Fellow").
            if not role and i + 2 < len(lines) and not _known_line(lines[i + 2]):
                fields["author_role"] = lines[i + 2]
                i += 1
            i += 2
            continue
        if low.startswith("by "):
            role = _byline(line[3:].strip(), fields)
            # "By Jane Doe" over "Research Fellow": the role, as under "By" / name.
            if not role and nxt and not _known_line(nxt) and len(nxt.split()) <= _ROLE_MAX_WORDS:
                fields["author_role"] = nxt
                i += 1
        elif low == "edited by" and nxt:
            fields["editor"] = nxt
            i += 2
            continue
        elif low.startswith("edited by "):
            fields["editor"] = line[len("edited by ") :].strip()
        elif DATE_RE.fullmatch(line.strip()) or LOOSE_DATE_RE.fullmatch(line.strip()):
            _date(line.strip(), fields)
        elif line.startswith("(") and line.endswith(")"):
            fields["disclaimer"] = line[1:-1].strip()
        elif re.search(r"\b(Centre|Center|Institute|Department|School)\b", line) or "," in line:
            centre, _, institute = line.rpartition(",")
            fields["centre"] = centre.strip() or institute.strip()
            if centre.strip():
                fields["institute"] = institute.strip()
        i += 1
    return FrontMatter(**fields, lines=tuple(lines))


def split_role(byline: str) -> tuple[str, str | None]:
    """``Jane Doe, Senior Fellow`` as the name and the role, when the words after the first
    comma name a position; a list of names (``Jane Doe, John Roe and Ann Poe``) or a degree
    (``Jane Doe, PhD``) is left whole."""
    name, comma, role = byline.partition(",")
    name, role = name.strip(), role.strip()
    if (
        not comma
        or not name
        or not role
        or len(role.split()) > _ROLE_LINE_MAX_WORDS
        or not _ROLE_WORDS.search(role)
    ):
        return byline, None
    return name, role


def _byline(byline: str, fields: dict[str, str]) -> bool:
    """The author (and the role after a comma, if any) of a byline; whether it had a role."""
    fields["author"], role = split_role(byline)
    if role:
        fields["author_role"] = role
    return role is not None


def names_a_field(line: str) -> bool:
    """A line only a title page prints: "By" or "Edited by" with a name (capitalised, so
    "By the way, ..." is prose), a date alone, or a disclaimer in parentheses."""
    text = line.strip()
    if _LABEL_RE.match(text):
        return True
    match = _BYLINE_RE.match(text)
    if match:
        name = match.group(2)
        return not name or (name[:1].isupper() and len(name.split()) <= _NAME_MAX_WORDS)
    return bool(
        DATE_RE.fullmatch(text)
        or LOOSE_DATE_RE.fullmatch(text)
        or (text.startswith("(") and text.endswith(")"))
    )


def _known_line(line: str) -> bool:
    low = line.lower()
    return (
        low.startswith(("edited by", "by ", "("))
        or bool(DATE_RE.fullmatch(line) or LOOSE_DATE_RE.fullmatch(line))
        or bool(_LABEL_RE.match(line))
        or bool(re.search(r"\b(Centre|Center|Institute)\b", line))
    )


def _ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END_RE.search(text))


def parse_plaintext(text: str) -> Draft:
    blocks = _blocks(unescape_markdown(text))
    start = _body_start(blocks)
    draft = Draft()
    front_lines = [line for b in blocks[:start] if not _is_definition(b) for line in b]
    draft.front_matter = parse_front_matter(front_lines)
    draft.title = draft.front_matter.title if draft.front_matter else None

    top: str | None = None
    section = SectionRef(title=draft.title or "Body", path=(draft.title or "Body",))
    last_para: Para | None = None
    # The pieces of ``last_para``'s text, joined once it is complete: a paragraph rejoined
    # across many page breaks is not copied again at each one.
    pieces: list[str] = []
    page_break = False
    for block in blocks[start:]:
        if _is_definition(block):
            match = _DEFINITION_RE.match(" ".join(block))
            assert match is not None
            number = from_superscript(match.group(1))
            if number in draft.definitions:
                draft.warnings.append(f"footnote {number} is defined twice; keeping the first")
            else:
                draft.definitions[number] = match.group(2)
            page_break = True
            continue
        if _is_heading(block):
            title = block[0].rstrip(":").strip()
            if block[0].endswith(":") and top is not None:
                section = SectionRef(title=title, path=(top, title))
            else:
                top = title
                section = SectionRef(title=title, path=(title,))
            draft.items.append(Heading(section))
            _join(last_para, pieces)
            last_para, page_break = None, False
            continue
        prose = collapse_space(" ".join(block))
        # A footnote block sat at a page break in the middle of this sentence: rejoin.
        if (
            last_para is not None
            and page_break
            and (not _ends_sentence(pieces[-1]) or prose[:1].islower())
        ):
            pieces.append(prose)
        else:
            _join(last_para, pieces)
            last_para, pieces = Para(text=prose, section=section), [prose]
            draft.items.append(last_para)
        page_break = False
    _join(last_para, pieces)
    return draft


def _join(para: Para | None, pieces: list[str]) -> None:
    if para is not None and len(pieces) > 1:
        para.text = " ".join(pieces)
