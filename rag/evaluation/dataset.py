"""Q&A files (JSONL) and their validation, with errors that name the file and line.

``qa.jsonl``:        {"id", "question", "evidence": [quotes], "answer"?, "section"?, "footnotes"?}
``footnotes.jsonl``: {"id", "question", "footnote": 4, "document"?}
``offtopic.jsonl``:  {"id", "question"}: questions the briefs do not answer
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rag.errors import DatasetError


class QAItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    question: str = Field(min_length=1)
    evidence: tuple[str, ...] = Field(min_length=1)
    answer: str | None = None
    section: str | None = None
    footnotes: tuple[int, ...] = ()
    # In a library: the brief the question is about (`rag eval --scoped` searches it alone,
    # and the report gives metrics per brief).
    document: str | None = None

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question is blank")
        return value

    @field_validator("evidence")
    @classmethod
    def _quotes_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not q.strip() for q in value):
            raise ValueError("an evidence quote is blank")
        return value


class FootnoteItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    question: str = Field(min_length=1)
    footnote: int = Field(ge=1)
    document: str | None = None


class OffTopicItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    question: str = Field(min_length=1)


T = TypeVar("T", QAItem, FootnoteItem, OffTopicItem)


def _read_jsonl(path: Path, model: type[T]) -> list[T]:
    if not path.is_file():
        raise DatasetError(f"{path}: no such dataset file; pass an existing JSONL file")
    items: list[T] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text; save the dataset as UTF-8 JSONL") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{path}:{number}: expected a JSON object per line")
        record.setdefault("id", f"line{number}")
        try:
            item = model.model_validate(record)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "record"
            raise DatasetError(f"{path}:{number}: {field}: {first['msg']}") from None
        if item.id in seen:
            raise DatasetError(f"{path}:{number}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: holds no records")
    return items


def load_qa(path: Path) -> list[QAItem]:
    return _read_jsonl(Path(path), QAItem)


def load_footnote_questions(path: Path) -> list[FootnoteItem]:
    return _read_jsonl(Path(path), FootnoteItem)


def load_off_topic(path: Path) -> list[OffTopicItem]:
    return _read_jsonl(path, OffTopicItem)
