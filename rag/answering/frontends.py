"""Which chat front end is asking, as far as it matters to an answer: whether it lists the
sources itself, so the Markdown Sources footer would show them a second time.

Open WebUI turns the streamed ``source`` events into its own numbered list of sources, and
it is the only client known to do so. At its default settings it sends nothing that names
it: its backend calls the API through a shared ``aiohttp`` session (User-Agent
``Python/3.x aiohttp/3.y``) and drops its ``metadata`` before sending. With
``ENABLE_FORWARD_USER_INFO_HEADERS`` it adds ``X-OpenWebUI-User-*`` and
``X-OpenWebUI-Chat-Id`` headers. Either is taken as Open WebUI. Other clients (the
``openai`` SDKs, LibreChat's, curl, browsers) send their own User-Agents and keep the footer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

FooterMode = Literal["auto", "always", "never"]

_AIOHTTP_RE = re.compile(r"\baiohttp/\d")


def lists_sources(headers: Mapping[str, str]) -> bool:
    """True when the request comes from a client that lists the source events itself."""
    lowered = {name.lower(): value for name, value in headers.items()}
    if any(name.startswith("x-openwebui-") for name in lowered):
        return True
    return bool(_AIOHTTP_RE.search(lowered.get("user-agent", "")))


def wants_footer(mode: FooterMode, stream: bool, headers: Mapping[str, str]) -> bool:
    """Whether an answer carries its Markdown Sources footer.

    ``auto`` leaves it out only where the sources are listed already: a streamed answer
    (source events are only streamed) to a client that lists them.
    """
    if mode != "auto":
        return mode == "always"
    return not (stream and lists_sources(headers))
