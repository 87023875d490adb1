"""MkDocs hook: the tables the code defines are written from the code when the site is built.

- ``configuration.md``: the marker ``<!-- generated: settings -->`` becomes one row per field
  of :class:`rag.config.Settings` (env var, type, range, default, ``description``), so a
  setting is documented once, where it is declared.
- ``cli.md``: the marker ``<!-- generated: exit-codes -->`` becomes the exit-code table, from
  ``rag.cli.EXIT_CODES`` (exception → code), the ``EXIT_*`` constants beside it, and the
  one-line descriptions of the exception tree in ``rag.errors``' docstring.

A marker may be followed by a note for readers of the unbuilt page (on GitHub), closed by
``<!-- end generated -->``: the table replaces both. Registered by ``hooks:`` in
``mkdocs.yml``; ``tests/test_docs.py`` imports it too. Run it as a script to print both
tables: ``python docs/hooks.py``.
"""

from __future__ import annotations

import enum
import re
import sys
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

ROOT = Path(__file__).resolve().parent.parent

SETTINGS_MARKER = "<!-- generated: settings -->"
EXIT_CODES_MARKER = "<!-- generated: exit-codes -->"
END_MARKER = "<!-- end generated -->"

# The exit codes the CLI raises as constants rather than from an exception's kind. A new
# EXIT_* constant without a line here fails the build, so the table can never miss one.
EXIT_CONSTANTS = {
    "EXIT_ERROR": "anything else; also `rag eval` below `--min-recall-at-5`",
    "EXIT_NOT_FOUND": "`rag answer`: nothing relevant was found in the briefs (not an error; "
    "the answer says so)",
    "EXIT_INTERRUPTED": "interrupted (Ctrl-C); nothing was published",
}


def _checkout() -> None:
    """Import ``rag`` from this checkout, not from whichever copy is installed."""
    if sys.path[:1] != [str(ROOT)]:
        sys.path.insert(0, str(ROOT))
    import rag

    where = Path(rag.__file__).resolve().parent.parent
    if where != ROOT:
        raise RuntimeError(f"docs/hooks.py: rag was imported from {where}, not from {ROOT}")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return " or ".join(_type_name(a) for a in inner) + ", optional"
    if origin is list:
        (item,) = get_args(annotation)
        return {"path": "paths", "text": "texts"}.get(_type_name(item), f"list of {item}")
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in annotation)
    names = {"int": "integer", "float": "number", "str": "text", "bool": "true/false"}
    name = getattr(annotation, "__name__", str(annotation))
    return {"SecretStr": "secret text", "Path": "path"}.get(name, names.get(name, name))


def _bounds(metadata: list[Any]) -> str:
    found = {
        attr: getattr(m, attr)
        for m in metadata
        for attr in ("ge", "gt", "le", "lt")
        if hasattr(m, attr)
    }
    if "ge" in found and "le" in found:
        return f"{found['ge']:g} – {found['le']:g}"
    signs = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    return ", ".join(f"{signs[a]} {v:g}" for a, v in found.items())


def _default(field: Any) -> str:
    if field.default_factory is not None:
        return "none" if field.default_factory is list else "computed (see description)"
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def env_names(name: str, field: Any, prefix: str) -> list[str]:
    """The variables that set a field: ``RAG_<NAME>``, or its validation aliases."""
    aliases = getattr(field.validation_alias, "choices", None)
    if aliases:
        return [a.upper() for a in aliases if isinstance(a, str) and a.upper().startswith(prefix)]
    return [f"{prefix}{name}".upper()]


def settings_table() -> str:
    _checkout()
    from rag.config import Settings

    prefix = str(Settings.model_config.get("env_prefix", ""))
    rows = [
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    missing = []
    for name, field in Settings.model_fields.items():
        if not field.description:
            missing.append(name)
        first, *others = env_names(name, field, prefix)
        variable = f'<span id="{first.lower()}"></span>`{first}`'
        if others:
            variable += " (also " + ", ".join(f"`{o}`" for o in others) + ")"
        kind = _type_name(field.annotation)
        bounds = _bounds(field.metadata)
        rows.append(
            f"| {variable} | {kind}{', ' + bounds if bounds else ''} | {_default(field)} "
            f"| {_cell(field.description or '')} |"
        )
    if missing:
        raise ValueError(f"rag.config.Settings fields without a description=: {missing}")
    return "\n".join(rows)


def _error_descriptions() -> dict[str, tuple[int, str]]:
    """Each exception in the tree drawn in ``rag.errors``' docstring: (depth, its line)."""
    import rag.errors

    found: dict[str, tuple[int, str]] = {}
    for line in (rag.errors.__doc__ or "").splitlines():
        match = re.match(r"^(\s*[│ ]*)[├└]── (\w+)\s*(.*)$", line)
        if match:
            found[match[2]] = (len(match[1]), match[3].strip())
    return found


def exit_code_table() -> str:
    _checkout()
    import rag.cli
    import rag.errors

    described = _error_descriptions()
    by_code: dict[int, list[str]] = {0: ["done (`rag answer`: an answer was found)"]}
    raised: dict[int, list[str]] = {0: []}
    for kind, code in rag.cli.EXIT_CODES:
        family = [kind] + [
            c
            for c in vars(rag.errors).values()
            if isinstance(c, type) and issubclass(c, kind) and c is not kind
        ]
        for cls in family:
            text = described.get(cls.__name__, (0, ""))[1].removeprefix("…or ")
            if text:
                by_code.setdefault(code, []).append(text)
        raised.setdefault(code, []).extend(f"`{c.__name__}`" for c in family)
    constants = {
        name: value
        for name, value in vars(rag.cli).items()
        if name.startswith("EXIT_") and isinstance(value, int) and not isinstance(value, bool)
    }
    unknown = set(constants) - set(EXIT_CONSTANTS)
    if unknown:
        raise ValueError(f"docs/hooks.py: describe the exit code constants {sorted(unknown)}")
    for name, code in constants.items():
        by_code.setdefault(code, []).append(EXIT_CONSTANTS[name])
        raised.setdefault(code, []).append(f"`{name}`")
    rows = ["| code | meaning | raised as |", "|---:|---|---|"]
    for code in sorted(by_code):
        meaning = "; ".join(by_code[code])
        rows.append(f"| {code} | {_cell(meaning)} | {', '.join(raised.get(code, [])) or '—'} |")
    return "\n".join(rows)


GENERATED = {SETTINGS_MARKER: settings_table, EXIT_CODES_MARKER: exit_code_table}
EXPECTED = {"configuration.md": SETTINGS_MARKER, "cli.md": EXIT_CODES_MARKER}


def fill(markdown: str) -> str:
    """Each marker, and the note after it up to ``<!-- end generated -->`` (what GitHub shows
    in its place), becomes its table."""
    for marker, make in GENERATED.items():
        block = re.compile(re.escape(marker) + r"(?:.*?" + re.escape(END_MARKER) + ")?", re.DOTALL)
        if block.search(markdown):
            table = make()
            markdown = block.sub(lambda _, table=table: table, markdown)
    return markdown


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    expected = EXPECTED.get(page.file.src_uri)
    if expected and expected not in markdown:
        raise ValueError(f"{page.file.src_uri} lost its marker {expected!r}")
    return fill(markdown)


if __name__ == "__main__":
    print(settings_table(), end="\n\n")
    print(exit_code_table())
