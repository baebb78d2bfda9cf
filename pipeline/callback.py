"""Followers' messages to the account (Art. 8): the callback server WeChat pushes them to.

Verifies WeChat's signature (SHA1 of the sorted token, timestamp and nonce), decrypts safe-mode
messages with the EncodingAESKey, parses them with wechatpy, records each message once (WeChat
retries up to three times) in the ledger and routes it by the policy's keywords, telling the
departments in their WeCom or DingTalk groups once it has answered; `gzh inbox` then tracks its
deadline like a comment. It answers `success` and never replies automatically:
an automatic reply is published content and needs review like any post.
"""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatException
from wechatpy.utils import check_signature

from pipeline import inbox, notify, output
from pipeline.errors import GzhError, HttpServer, listening
from pipeline.i18n import Text
from pipeline.ledger import Event, Kind, Ledger
from pipeline.policy import Policy

PORT = 8080  # `gzh callback serve` listens here unless told otherwise; its --help reads it from here
AES_KEY_LENGTH = 43  # an EncodingAESKey: 32 bytes in base64 without the trailing "="

_AES_KEY_ALPHABET = Text("WECHAT_AES_KEY 含有字母、数字、+ 和 / 以外的字符（例如空格、引号或结尾的 =）",
                         "WECHAT_AES_KEY holds characters other than letters, digits, + and / (a space, a quote, a trailing =)")
_AES_KEY_LENGTH = Text("WECHAT_AES_KEY 有 {length} 个字符，消息加解密密钥应为 43 个字符",
                       "WECHAT_AES_KEY has {length} characters; the EncodingAESKey has 43")
_AES_KEY_WHERE = Text("{problem}。请从公众平台“设置与开发 → 基本配置 → 服务器配置 → 消息加解密密钥”原样复制 43 个字符的 "
                      "EncodingAESKey（不要加 =）；消息加解密方式为明文模式时不要设置 WECHAT_AES_KEY",
                      "{problem}. Copy the 43-character EncodingAESKey as shown in the MP console (Settings and development → "
                      "Basic configuration → Server configuration → Message encryption key), without '='; leave "
                      "WECHAT_AES_KEY unset in plaintext mode")
_NO_APPID = Text("设置了 WECHAT_AES_KEY（安全模式）时还要设置 WECHAT_APPID：解密每条消息时都要核对它"
                 "（公众平台“设置与开发 → 基本配置”中的开发者ID(AppID)）",
                 "With WECHAT_AES_KEY (safe mode) set WECHAT_APPID too: every message is checked against it "
                 "(the AppID in the MP console's basic configuration)")
_PLAINTEXT_REFUSED = Text("拒绝了一条未加密的消息（403，未记录）：设置了 WECHAT_AES_KEY（安全模式）时，微信只推送加密的消息。"
                          "如果公众平台“服务器配置”的消息加解密方式是明文模式，请改为安全模式，或者不设置 WECHAT_AES_KEY\n",
                          "Refused a plaintext message (403, not recorded): in safe mode (WECHAT_AES_KEY set) WeChat pushes "
                          "encrypted messages only. If the MP console's server configuration says plaintext mode, switch it "
                          "to safe mode or unset WECHAT_AES_KEY\n")


def safe_mode(token: str, aes_key: str, appid: str) -> WeChatCrypto | None:
    """The decrypter for safe mode (None in plaintext mode), or a message saying what to fix: checked
    before listening, because wechatpy only asserts on a malformed key."""
    if not aes_key:
        return None
    if not re.fullmatch(r"[A-Za-z0-9+/]*", aes_key):
        raise GzhError(_AES_KEY_WHERE(problem=_AES_KEY_ALPHABET()))
    if len(aes_key) != AES_KEY_LENGTH:
        raise GzhError(_AES_KEY_WHERE(problem=_AES_KEY_LENGTH(length=len(aes_key))))
    if not appid:
        raise GzhError(_NO_APPID())
    return WeChatCrypto(token, aes_key, appid)


class CallbackServer:
    def __init__(self, ledger: Ledger, policy: Policy, token: str, *, crypto: WeChatCrypto | None = None,
                 host: str = "127.0.0.1", port: int = PORT) -> None:
        self.ledger, self.policy, self.token, self.crypto = ledger, policy, token, crypto
        self.lock = threading.Lock()
        self.server = listening(lambda: HttpServer((host, port), _handler(self)), host, port)
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
                "openid_sha256": inbox.follower(message.source), "content_sha256": inbox.fingerprint(content),
                "departments": list(inbox.route(self.policy, "", content))}))
        return key

    def announce(self, key: str) -> None:
        """Tell the departments a message was routed to (the administrators when none), after WeChat
        has its answer: a slow robot must not make WeChat retry."""
        with self.lock:
            item = next(item for item in inbox.comments(self.policy, self.ledger.events) if item.key == key)
            warnings = inbox.announce(self.policy, self.ledger, item)
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
            refusal = self._refusal(query)
            if refusal:
                return self._send(*refusal)
            try:
                if owner.crypto is not None:
                    body = owner.crypto.decrypt_message(body, query.get("msg_signature", ""),
                                                        query.get("timestamp", ""), query.get("nonce", ""))
                key = owner.receive(body)
            except (WeChatException, ValueError, KeyError):  # a bad msg_signature or AppID, broken XML
                return self._send(400, b"invalid message")
            self._send(200, b"success")
            if key:
                owner.announce(key)

        def _refusal(self, query: dict[str, str]) -> tuple[int, bytes] | None:
            """Why a push is not taken: unsigned, or not in this server's mode (plaintext or safe)."""
            if not self._signed(query):
                return 403, b"invalid signature"
            encrypted = query.get("encrypt_type") == "aes"
            if encrypted and owner.crypto is None:
                return 400, b"safe mode needs WECHAT_AES_KEY"
            if owner.crypto is not None and not encrypted:
                # In safe mode WeChat encrypts every push (encrypt_type=aes with msg_signature), so a plaintext
                # one is not WeChat's, or the console is still in plaintext mode: refused like a bad signature
                # (403; WeChat would retry it, then tell the follower the account cannot serve), recorded
                # nowhere, and said on the console, since only someone holding the token gets this far.
                output.write(_PLAINTEXT_REFUSED())
                return 403, b"safe mode: encrypted messages only"
            return None

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
