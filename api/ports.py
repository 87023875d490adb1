"""Can the server listen where it is asked to? Checked before the index loads and before
"serving on" is printed, so a busy port is one line with its own exit code, not uvicorn's
bind error after a success message (and exit 3, which means a bad index)."""

from __future__ import annotations

import errno
import socket

from rag.errors import AddressUnavailable


def check_listen(host: str, port: int) -> None:
    """Bind ``host``:``port`` as uvicorn will (SO_REUSEADDR) and let go at once; raise
    :class:`AddressUnavailable` saying what to do when that fails. Port 0 always works."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            shown = f"[{host}]" if ":" in host else host
            if exc.errno == errno.EADDRINUSE:
                raise AddressUnavailable(
                    f"port {port} on {shown} is already in use; pick another with --port "
                    "(RAG_PORT), or stop what is listening there"
                ) from None
            if exc.errno == errno.EACCES:
                raise AddressUnavailable(
                    f"no permission to listen on port {port} of {shown} (ports below 1024 "
                    "need privileges); pick another with --port (RAG_PORT)"
                ) from None
            raise AddressUnavailable(
                f"cannot listen on {shown}:{port} ({exc.strerror or exc}); check --host "
                "(RAG_HOST) names an address of this machine"
            ) from None
