"""Followers' messages to the account (Art. 8): the callback server WeChat pushes them to.

Verifies WeChat's signature (SHA1 of the sorted token, timestamp and nonce), decrypts safe-mode
messages with the EncodingAESKey, parses them with wechatpy, records each message once (WeChat
retries up to three times) in the ledger and routes it by the policy's keywords, telling the
departments in their WeCom or DingTalk groups once it has answered; `gzh inbox` then tracks its
deadline like a comment. It answers `success` and never replies automatically:
an automatic reply is published content and needs review like any post.
"""
from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from pipeline import inbox, notify, output
from pipeline.errors import listening
from pipeline.ledger import Event, Kind, Ledger
from pipeline.policy import Policy


class CallbackServer:
    def __init__(self, ledger: Ledger, policy: Policy, token: str, *, aes_key: str = "", appid: str = "",
                 host: str = "127.0.0.1", port: int = 8080) -> None:
        self.ledger, self.policy, self.token = ledger, policy, token
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.lock = threading.Lock()
        self.server = listening(lambda: ThreadingHTTPServer((host, port), _handler(self)), host, port)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> "CallbackServer":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def receive(self, xml: str) -> str:
        """Record the message once; its key, or "" when it was recorded before (a retry)."""
        message = parse_message(xml)
        content = getattr(message, "content", "") or f"[{message.type}]"
        key = f"msg:{message.id or message.source + ':' + str(int(message.time))}"
        with self.lock:  # WeChat retries a slow answer: record each message once
            self.ledger.sync()
            if any(event.kind is Kind.MESSAGE and event.data.get("key") == key for event in self.ledger.events):
                return ""
            self.ledger.append(Event(Kind.MESSAGE, data={
                "key": key, "content": content, "create_time": int(message.time), "type": message.type,
                "openid_sha256": hashlib.sha256(message.source.encode("utf-8")).hexdigest(),
                "departments": list(inbox.route(self.policy, "", content))}))
        return key

    def announce(self, key: str) -> None:
        """Tell the departments a message was routed to (the administrators when none), after WeChat
        has its answer: a slow robot must not make WeChat retry."""
        with self.lock:
            item = next(item for item in inbox.comments(self.policy, self.ledger.events, {}) if item.key == key)
            warnings = notify.notify(self.policy, inbox.notice(item), departments=item.departments,
                                     people=() if item.departments else self.policy.members("administrator"),
                                     ledger=self.ledger)
        output.write(notify.warning_text(warnings))


def _handler(owner: CallbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
            return

        def _query(self) -> dict[str, str]:
            return {key: values[-1] for key, values in parse_qs(urlsplit(self.path).query).items()}

        def _signed(self, query: dict[str, str]) -> bool:
            try:
                check_signature(owner.token, query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", ""))
                return True
            except InvalidSignatureException:
                return False

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            query = self._query()
            if not self._signed(query):
                return self._send(403, b"invalid signature")
            self._send(200, query.get("echostr", "").encode("utf-8"))  # the server-address check

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            query = self._query()
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
            if not self._signed(query):
                return self._send(403, b"invalid signature")
            try:
                if query.get("encrypt_type") == "aes":
                    if owner.crypto is None:
                        return self._send(400, b"safe mode needs WECHAT_AES_KEY")
                    body = owner.crypto.decrypt_message(body, query.get("msg_signature", ""),
                                                        query.get("timestamp", ""), query.get("nonce", ""))
                key = owner.receive(body)
            except (InvalidSignatureException, ValueError, KeyError):
                return self._send(400, b"invalid message")
            self._send(200, b"success")
            if key:
                owner.announce(key)

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
