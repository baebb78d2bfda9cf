"""The few exceptions that cross stage boundaries, and the servers' side of errors (a port in use, a caller gone).

Anything raised from here is an *expected* failure: `main` prints its message (already in the
user's language) without a traceback. Anything else is a bug and goes to the error log.
"""
from __future__ import annotations

import errno
import sys
from http.server import ThreadingHTTPServer
from typing import Any, Callable, TypeVar

from pipeline.i18n import Text

Server = TypeVar("Server")


class GzhError(Exception):
    """A failure the user can fix; the message says how. Exit code 1 unless overridden."""

    exit_code = 1


class UsageError(GzhError):
    """Bad command-line arguments or a missing file named on the command line."""

    exit_code = 2


class ConfigError(GzhError):
    """The policy file (gzh.yml) is missing or invalid; raised by `pipeline.policy`."""

    exit_code = 2


_PORT_IN_USE = Text("端口 {port} 已被占用：请换一个端口（-p 其他端口），或先停止正在使用它的程序",
                    "Port {port} is in use: pick another (-p) or stop the program using it")
_CANNOT_LISTEN = Text("无法在 {host}:{port} 上监听（{reason}）：1024 以下的端口需要管理员权限，地址须是本机的",
                      "Cannot listen on {host}:{port} ({reason}): ports below 1024 need root, and the address must be this machine's")


class HttpServer(ThreadingHTTPServer):
    """gzh's HTTP servers (trusted service, callback, preview, sandbox): quiet when a caller hangs up.

    A caller that hangs up before its answer (killed mid-call, timed out) is routine for a server, but
    socketserver prints its traceback into whatever output is current, long after the caller is
    gone. Anything else is a bug: shown as usual."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def listening(open_server: Callable[[], Server], host: str, port: int) -> Server:
    """A server bound to host:port, or a message saying why not (a busy port is a user's matter)."""
    try:
        return open_server()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(_PORT_IN_USE(port=port)) from None
        if error.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
            raise UsageError(_CANNOT_LISTEN(host=host, port=port, reason=error.strerror)) from None
        raise
