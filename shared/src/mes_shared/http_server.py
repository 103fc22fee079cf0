"""The HTTP server's own error answers as problem+json, like every answer of the services.

A request the server cannot parse (a malformed request line or header, a URL or headers longer than its parser
takes) never reaches the app: uvicorn answers it 400 itself, in text/plain. These protocol classes answer the
same 400 as an RFC 9457 problem. Services are started with

    uvicorn --factory <service>.main:create_app --http mes_shared.http_server:ProblemHTTPProtocol ...

(deploy/scripts/services.sh and each service's Dockerfile do).
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.h11_impl import H11Protocol

from mes_shared.problems import PROBLEM_MEDIA_TYPE

BAD_REQUEST = json.dumps(
    {
        "type": "/problems/bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": "the server could not read the HTTP request: a malformed request line or header, or a URL or "
        "headers longer than the server takes (send long selections in a request body instead)",
    }
).encode()


def _answer_400(transport: asyncio.Transport, default_headers: list[tuple[bytes, bytes]]) -> None:
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [
        b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n",
        b"content-length: " + str(len(BAD_REQUEST)).encode() + b"\r\n",
        b"connection: close\r\n\r\n",
    ]
    transport.write(b"".join(head) + BAD_REQUEST)
    transport.close()


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        _answer_400(self.transport, self.server_state.default_headers)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: uvicorn itself would use h11
    ProblemHTTPProtocol: type[asyncio.Protocol] = ProblemH11Protocol
else:

    class ProblemHttpToolsProtocol(HttpToolsProtocol):
        def send_400_response(self, msg: str) -> None:
            _answer_400(self.transport, self.server_state.default_headers)

    ProblemHTTPProtocol = ProblemHttpToolsProtocol
