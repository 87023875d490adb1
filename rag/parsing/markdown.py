"""Markdown briefs: ``#`` headings, ``[^n]`` markers and ``[^n]:`` definitions.

A leading ``# Title`` names the document; short blocks between it and the first ``##``
heading (author, date, ...) are its front matter, read like the plain-text front matter.
Markers become superscript digits in the clean text, so passages look alike whatever the
source format.
"""

from __future__ import annotations

import re

from rag.parsing.plaintext import parse_front_matter
from rag.parsing.structure import Draft, Heading, Para
from rag.records import SectionRef
from rag.text import collapse_space, to_superscript, unescape_markdown

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_DEFINITION_RE = re.compile(r"^\[\^([^\]\s]+)\]:\s*(.*)$")
_MARKER_RE = re.compile(r"\[\^([^\]\s]+)\](?!:)")
_YAML_KEYS = {"title", "author", "author_role", "editor", "date", "institute", "centre"}


def _split_yaml(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    # Only flat "key: value" front matter; anything richer is left in the text.
    if not lines or lines[0].strip() != "---":
        return {}, lines
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            meta = {}
            for line in lines[1:end]:
                key, sep, value = line.partition(":")
                if sep and key.strip().lower() in _YAML_KEYS:
                    meta[key.strip().lower()] = value.strip().strip("\"'")
            return meta, lines[end + 1 :]
    return {}, lines


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
    meta, lines = _split_yaml(lines)
    lines, raw_defs = _definitions(lines, draft)
    numbers = _numbering("\n".join(lines), list(raw_defs))
    draft.definitions = {numbers[label]: value for label, value in raw_defs.items()}

    def clean(block: str) -> str:
        block = _MARKER_RE.sub(lambda m: to_superscript(numbers[m.group(1)]), block)
        return collapse_space(unescape_markdown(block))

    blocks: list[str] = []
    current: list[str] = []
    for line in [*lines, ""]:
        if _HEADING_RE.match(line) or not line.strip():
            if current:
                blocks.append(clean(" ".join(current)))
                current = []
            if line.strip():
                blocks.append(line)
        else:
            current.append(line.strip())

    title = meta.get("title")
    first = _HEADING_RE.match(blocks[0]) if blocks else None
    if first and len(first.group(1)) == 1:
        title = title or clean(first.group(2))
        blocks = blocks[1:]
    body_at = next((i for i, b in enumerate(blocks) if _HEADING_RE.match(b)), len(blocks))
    front, blocks = blocks[:body_at], blocks[body_at:]
    if not blocks:
        blocks, front = front, []  # no sections at all: everything is body text
    front_lines = ([title] if title else []) + front
    if front_lines or meta:
        parsed = parse_front_matter(front_lines)
        extra = {k: v for k, v in meta.items() if k != "title"}
        draft.front_matter = parsed.model_copy(update=extra) if parsed else None
    draft.title = title

    base = SectionRef(title=title or "Body", path=(title or "Body",))
    stack: list[tuple[int, str]] = []
    section = base
    for block in blocks:
        match = _HEADING_RE.match(block)
        if match:
            level, name = len(match.group(1)), clean(match.group(2)).rstrip(":")
            stack = [(lvl, n) for lvl, n in stack if lvl < level] + [(level, name)]
            section = SectionRef(title=name, path=tuple(n for _, n in stack))
            draft.items.append(Heading(section))
        else:
            draft.items.append(Para(text=block, section=section))
    return draft
