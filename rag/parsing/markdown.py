"""Markdown briefs: ``#`` headings, ``[^n]`` markers and ``[^n]:`` definitions.

YAML front matter (pandoc's ``title``, ``subtitle``, ``author`` as a string or a list,
``date``, ``abstract``, and ``editor``, ``publisher``; Jekyll's and Obsidian's blocks read
the same way, their other keys ignored) names the document and its people. With a YAML
title every ``#`` heading is a section, but for one repeating the title. Without one, a
leading ``# Title`` names the document when what follows looks like a title page: short
blocks (author, date, ...) up to the next heading, read like the plain-text front matter,
or a document with no other ``#`` heading. Markers become superscript digits in the clean
text, so passages look alike whatever the source format.
"""

from __future__ import annotations

import datetime as dt
import re

import yaml

from rag.parsing.footnotes import iso_date
from rag.parsing.plaintext import names_a_field, parse_front_matter, split_role
from rag.parsing.structure import Draft, outline
from rag.records import FrontMatter
from rag.text import collapse_space, match_key, to_superscript, unescape_markdown

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_DEFINITION_RE = re.compile(r"^\[\^([^\]\s]+)\]:\s*(.*)$")
_MARKER_RE = re.compile(r"\[\^([^\]\s]+)\](?!:)")
_WIKILINK_RE = re.compile(r"\[\[(?:[^\]|]*\|)?([^\]|]*)\]\]")
_STAMP_RE = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]")
# What pandoc's ``smart`` extension (on by default) writes for typography: ``---`` is an em
# dash, ``--`` an en dash; a backslash keeps them literal. Code spans and URLs are left alone.
_DASHES_RE = re.compile(r"(?<![\\-])(---?)(?!-)")
_VERBATIM_RE = re.compile(r"`[^`]*`|<https?://[^>\s]*>|https?://\S+")
_RULE_RE = re.compile(r"^ {0,3}([-*_])(?:\s*\1){2,}\s*$")
# Front matter beyond this is not a title page; it is left unread (with a warning).
_YAML_MAX_CHARS = 64 * 1024
# A block of this many words is prose, not a title-page line (as in plain text).
_PROSE_WORDS = 20
_STRING_KEYS = ("title", "subtitle", "author_role", "centre", "institute", "abstract")
_NAMES_KEYS = ("author", "editor", "publisher")


def smart_dashes(text: str) -> str:
    """``--`` and ``---`` as the dashes pandoc means by them, outside code and URLs."""
    out, at = [], 0
    for match in _VERBATIM_RE.finditer(text):
        out += [_DASHES_RE.sub(_dash, text[at : match.start()]), match.group()]
        at = match.end()
    out.append(_DASHES_RE.sub(_dash, text[at:]))
    return "".join(out)


def _dash(match: re.Match[str]) -> str:
    return "\u2014" if len(match.group(1)) == 3 else "\u2013"


def _text(value: object) -> str | None:
    """A scalar as text: ``[[Jane Doe]]`` (Obsidian's links) as ``Jane Doe``; pandoc reads
    metadata strings as Markdown, so its escapes and dashes are read too."""
    if isinstance(value, dict):
        value = value.get("name")  # pandoc's author: {name: ..., affiliation: ...}
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return None
    text = unescape_markdown(smart_dashes(_WIKILINK_RE.sub(r"\1", str(value))))
    return collapse_space(text) or None


def _names(value: object) -> str | None:
    """``A``, ``A and B``, ``A, B and C`` from a string or a list of names."""
    items = value if isinstance(value, list) else [value]
    names = [n for n in (_text(item) for item in items[:50]) if n]
    if len(names) > 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return names[0] if names else None


def _date(value: object) -> tuple[str, str | None] | None:
    """(date as written, ISO date) of a YAML date, a timestamp or a string."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value:%B} {value.day}, {value.year}", value.isoformat()
    text = _text(value)
    if text is None:
        return None
    stamp = _STAMP_RE.match(text)  # 2024-03-01 10:00:00 +0000, which YAML leaves a string
    if stamp and not iso_date(text):
        try:
            return _date(dt.date.fromisoformat(stamp.group(1)))
        except ValueError:
            pass
    return text, iso_date(text)


def _split_yaml(lines: list[str], draft: Draft) -> tuple[dict[str, str], list[str]]:
    """The YAML front matter's fields the brief knows, and the lines after it."""
    if not lines or lines[0].rstrip() != "---":
        return {}, lines
    size = 0
    for end in range(1, len(lines)):
        size += len(lines[end]) + 1
        if size > _YAML_MAX_CHARS:
            draft.warnings.append(
                f"YAML front matter over {_YAML_MAX_CHARS // 1024} KiB is not read"
            )
            return {}, lines
        if lines[end].rstrip() in ("---", "..."):
            break
    else:
        return {}, lines  # never closed: a thematic break, not front matter
    rest = lines[end + 1 :]
    try:
        data = yaml.safe_load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        draft.warnings.append(f"YAML front matter{where} is not valid YAML; it is not read")
        return {}, rest
    if not isinstance(data, dict):
        return {}, rest
    data = {str(k).strip().lower(): v for k, v in data.items()}
    meta: dict[str, str] = {}
    for key in _STRING_KEYS:
        text = _text(data.get(key))
        if text:
            meta[key] = text
    for key in _NAMES_KEYS:
        names = _names(data.get(key))
        if names:
            meta[key] = names
    if isinstance(data.get("author"), str) and "author_role" not in meta and "author" in meta:
        # author: "Jane Doe, Senior Fellow", as a title page's byline would print it.
        name, role = split_role(meta["author"])
        if role:
            meta["author"], meta["author_role"] = name, role
    written = _date(data.get("date"))
    if written:
        meta["date_text"] = written[0]
        if written[1]:
            meta["date"] = written[1]
    return meta, rest


def _title_page_lines(meta: dict[str, str]) -> list[str]:
    """The lines a title page would print for the YAML fields (shown and cited)."""
    lines = [meta[k] for k in ("title", "subtitle") if k in meta]
    if "author" in meta:
        lines.append(f"By {meta['author']}")
    lines += [meta[k] for k in ("author_role",) if k in meta]
    if "editor" in meta:
        lines.append(f"Edited by {meta['editor']}")
    org = [meta[k] for k in ("centre", "institute", "publisher") if k in meta]
    if org:
        lines.append(", ".join(dict.fromkeys(org)))
    if "date_text" in meta:
        lines.append(meta["date_text"])
    return lines


def _looks_like_title_page(blocks: list[str]) -> bool:
    return all(len(b.split()) < _PROSE_WORDS for b in blocks)


def _first_heading_note(name: str, is_title: bool, only_one: bool, follows: list[str]) -> str:
    """What ``rag index`` says of a first ``# Heading`` with no YAML title over it: which
    rule made it the title or a section, and how to get the other reading."""
    shown = f'"{name[:77]}..."' if len(name) > 80 else f'"{name}"'
    if not is_title:
        return (
            f"the first heading {shown} was read as a section: nothing that looks like a "
            "title page follows it (prose comes before the next heading); give a YAML "
            "title to name the brief"
        )
    if only_one:
        why = 'it is the only "#" heading'
    elif follows:
        why = "a title page follows"
    else:
        why = "another heading follows it at once"
    return (
        f"the first heading {shown} was read as the title ({why}); give a YAML title "
        "to make it a section"
    )


def _definitions(lines: list[str], draft: Draft) -> tuple[list[str], dict[str, str]]:
    """Lift ``[^n]: text`` definitions (with indented continuation lines) out of the body."""
    body: list[str] = []
    # Each definition's lines, joined at the end (not copied again at every line).
    raw: dict[str, list[str]] = {}
    label = None
    for line in lines:
        match = _DEFINITION_RE.match(line)
        if match:
            label = match.group(1)
            if label in raw:
                draft.warnings.append(f"footnote [^{label}] is defined twice; keeping the first")
                label = None
            else:
                raw[label] = [match.group(2)]
            continue
        if label is not None and line.startswith(("    ", "\t")) and line.strip():
            raw[label].append(line.strip())
            continue
        label = None
        body.append(line)
    return body, {label: " ".join(parts) for label, parts in raw.items()}


def _numbering(text: str, labels: list[str]) -> dict[str, int]:
    """Numeric labels keep their number; named ones get the next free numbers in order."""
    order = [m.group(1) for m in _MARKER_RE.finditer(text)] + labels
    numbers = {label: int(label) for label in order if label.isdigit()}
    next_free = max(numbers.values(), default=0) + 1
    for label in order:
        if label not in numbers:
            numbers[label] = next_free
            next_free += 1
    return numbers


def parse_markdown(text: str) -> Draft:
    draft = Draft()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    meta, lines = _split_yaml(lines, draft)
    lines, raw_defs = _definitions(lines, draft)
    numbers = _numbering("\n".join(lines), list(raw_defs))
    draft.definitions = {numbers[label]: value for label, value in raw_defs.items()}

    draft.definitions = {n: smart_dashes(value) for n, value in draft.definitions.items()}

    def clean(block: str) -> str:
        block = _MARKER_RE.sub(lambda m: to_superscript(numbers[m.group(1)]), block)
        return collapse_space(unescape_markdown(smart_dashes(block)))

    blocks: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if _RULE_RE.match(line):  # a thematic break separates blocks and says nothing
            line = ""
        if _HEADING_RE.match(line) or not line.strip():
            if current:
                blocks.append(clean(" ".join(current)))
                current = []
            if line.strip():
                blocks.append(line)
        else:
            current.append(line.strip())

    def level(block: str) -> int:
        match = _HEADING_RE.match(block)
        return len(match.group(1)) if match else 0

    title = meta.get("title")
    titled = False  # a `#` heading opens the text as its title
    first = _HEADING_RE.match(blocks[0]) if blocks else None
    if first and len(first.group(1)) == 1:
        name = clean(first.group(2))
        nxt = next((i for i, b in enumerate(blocks[1:], 1) if level(b)), len(blocks))
        if title:
            # With a YAML title, the first `#` heading is the title only when it repeats it.
            is_title = match_key(name) == match_key(title)
        else:
            only_one = sum(1 for b in blocks if level(b) == 1) == 1
            is_title = only_one or _looks_like_title_page(blocks[1:nxt])
            draft.notes.append(_first_heading_note(name, is_title, only_one, blocks[1:nxt]))
        if is_title:
            title, titled = title or name, True
            blocks = blocks[1:]
    body_at = next((i for i, b in enumerate(blocks) if level(b)), len(blocks))
    front, blocks = blocks[:body_at], blocks[body_at:]
    # Prose before the first heading is body text, and so is all text before it when YAML
    # stands for the title page, no `#` title heads the text and no line of it is one only
    # a title page prints ("By ...", a date): Jekyll's posts, not pandoc's converted briefs.
    printed = any(names_a_field(b) for b in front)
    if not blocks or not _looks_like_title_page(front) or (meta and not titled and not printed):
        blocks, front = front + blocks, []
    abstract = meta.pop("abstract", None)
    # What the Markdown's own title page says is read like plain text; the YAML fields,
    # already named, override it. The lines shown are the title page's, with a line for
    # each YAML field it does not state (after the title).
    read = parse_front_matter(([title] if title else []) + front)
    said = read.model_dump() if read else {}
    extra = _title_page_lines({k: v for k, v in meta.items() if said.get(k) != v})
    lines = list(read.lines if read else ())
    if title and lines:
        extra, lines = [lines[0], *(x for x in extra if x != title)], lines[1:]
    shown = list(dict.fromkeys(extra + lines))
    if shown or abstract:
        fields = {k: v for k, v in meta.items() if k != "publisher"}
        if "publisher" in meta:
            fields["institute" if "institute" not in meta else "centre"] = meta["publisher"]
        if abstract:  # made a section of its own by the assembler
            fields["abstract"] = clean(abstract)
        draft.front_matter = (read or FrontMatter()).model_copy(
            update={**fields, "lines": tuple(shown)}
        )
    draft.title = title

    def outlined(block: str) -> tuple[int, str]:  # (depth, name) of a heading, else (0, text)
        match = _HEADING_RE.match(block)
        return (len(match.group(1)), clean(match.group(2)).rstrip(":")) if match else (0, block)

    outline(draft, map(outlined, blocks), title)
    return draft
