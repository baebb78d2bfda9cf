"""Rehearsals from another process (`gzh sandbox tamper|delete|ban|comment|message|fault|quota`): the
sandbox's controls over HTTP (docs/sandbox.md), and a follower's message pushed to the callback server
exactly as WeChat pushes it (signed; encrypted in safe mode).

Only a sandbox on this machine is driven: the controls are the sandbox's own, and an API base that is
not on loopback is the real account (or its relay), which a rehearsal must never touch.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlencode, urlsplit

from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from pipeline.connect import loopback
from pipeline.errors import GzhError, UsageError
from pipeline.i18n import Text

TIMEOUT = 10.0
DEFAULT_OPENID = "o-follower"  # the follower a rehearsal speaks as, unless told another

_NOT_LOCAL = Text("WECHAT_API_BASE 是 {base}，不是本机的沙盒：演练命令只驱动本机运行的 gzh sandbox serve。"
                  "请把它设为沙盒启动时显示的地址（例如 http://127.0.0.1:8765/cgi-bin/），或者不设置它（默认端口 8765）",
                  "WECHAT_API_BASE is {base}, not a sandbox on this machine: rehearsals drive a local gzh sandbox serve only. "
                  "Set it to the address the sandbox printed (e.g. http://127.0.0.1:8765/cgi-bin/) or unset it (port 8765)")
_SANDBOX_DOWN = Text("连不上沙盒 {url}（{error}）：请先在另一个终端运行 gzh sandbox serve，"
                     "并让 WECHAT_API_BASE 与它显示的地址一致",
                     "Cannot reach the sandbox at {url} ({error}): run gzh sandbox serve in another terminal first, "
                     "with WECHAT_API_BASE as it prints")
_NOT_SANDBOX = Text("{url} 的回答不是沙盒的（{detail}）：这个地址上运行的不是 gzh sandbox serve",
                    "{url} did not answer as the sandbox does ({detail}): it is not gzh sandbox serve")
_REFUSED = Text("沙盒拒绝了这次演练（错误码 {errcode}）：{error}", "The sandbox refused the rehearsal (errcode {errcode}): {error}")
_NO_ARTICLE = Text("沙盒中没有 article_id 为 {article_id} 的文章：文章要先用 gzh publish 发布到这个沙盒"
                   "（沙盒的状态文件夹换过时，原来的文章也不在了）",
                   "The sandbox has no article {article_id}: publish it to this sandbox with gzh publish first "
                   "(a new sandbox folder has none of the old articles)")
_CALLBACK_DOWN = Text("连不上回调服务 {url}（{error}）：请先在另一个终端运行 gzh callback serve，或用 --to 指定它的地址",
                      "Cannot reach the callback server at {url} ({error}): run gzh callback serve first, or give --to")
# What the sandbox's refusals mean for someone rehearsing; other errcodes are shown as the sandbox says them.
_REASONS = {53600: _NO_ARTICLE}


def sandbox_url(default_port: int, env: Mapping[str, str] = os.environ) -> str:
    """The running sandbox: the host of WECHAT_API_BASE (what `gzh publish` talks to), else the default port."""
    base = env.get("WECHAT_API_BASE", "")
    if not base:
        return f"http://127.0.0.1:{default_port}/"
    if not loopback(base):
        raise UsageError(_NOT_LOCAL(base=base))
    parts = urlsplit(base)
    return f"{parts.scheme}://{parts.netloc}/"


def control(url: str, action: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """One control (`POST /_sandbox/<action>`); a refusal becomes a Chinese error saying what to do."""
    request = urllib.request.Request(f"{url}_sandbox/{action}", data=json.dumps(dict(data), ensure_ascii=False).encode("utf-8"),
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # loopback only (sandbox_url)
            answer = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise GzhError(_NOT_SANDBOX(url=url, detail=f"HTTP {error.code}")) from None
    except (urllib.error.URLError, OSError) as error:
        raise GzhError(_SANDBOX_DOWN(url=url, error=_reason(error))) from None
    except ValueError:
        raise GzhError(_NOT_SANDBOX(url=url, detail="JSON")) from None
    if not isinstance(answer, dict):
        raise GzhError(_NOT_SANDBOX(url=url, detail="JSON"))
    if answer.get("ok") is False:
        errcode = answer.get("errcode", "—")
        reason = _REASONS.get(errcode)
        raise GzhError(reason(**data) if reason else _REFUSED(errcode=errcode, error=answer.get("error", "")))
    return answer


def _reason(error: BaseException) -> str:
    """The cause people recognise (Connection refused, timed out), not urllib's wrapper."""
    cause = getattr(error, "reason", error)
    return getattr(cause, "strerror", None) or type(cause).__name__


@dataclass(frozen=True)
class Message:
    """A follower's text message as WeChat pushes it to the account's server."""

    content: str
    openid: str = DEFAULT_OPENID
    msg_id: int = 0                          # WeChat's 64-bit MsgId; 0 draws a new one
    create_time: dt.datetime | None = None   # when the follower wrote it; None is now

    def xml(self, msg_id: int, timestamp: str) -> str:
        created = str(int(self.create_time.timestamp())) if self.create_time else timestamp
        return (f"<xml><ToUserName>{_cdata('gh_sandbox')}</ToUserName><FromUserName>{_cdata(self.openid)}</FromUserName>"
                f"<CreateTime>{created}</CreateTime><MsgType>{_cdata('text')}</MsgType>"
                f"<Content>{_cdata(self.content)}</Content><MsgId>{msg_id}</MsgId></xml>")


def _cdata(text: str) -> str:
    """Text in a CDATA section, a "]]>" in it split across two, so no content can end the section early."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def push_message(url: str, token: str, message: Message, crypto: WeChatCrypto | None = None) -> tuple[int, str]:
    """What WeChat does when a follower writes: POST the message to the server, signed with the token
    (SHA1 of the sorted token, timestamp and nonce) and, in safe mode, encrypted with the
    EncodingAESKey and signed again (msg_signature). The server's (status, body)."""
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    body = message.xml(message.msg_id or secrets.randbelow(2**63 - 1) + 1, timestamp)
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce)
    query = {"signature": signer.signature, "timestamp": timestamp, "nonce": nonce, "openid": message.openid}
    if crypto is not None:
        body = crypto.encrypt_message(body, nonce, timestamp)
        query.update(encrypt_type="aes",
                     msg_signature=ElementTree.fromstring(body).findtext("MsgSignature") or "")
    request = urllib.request.Request(f"{url}?{urlencode(query)}", data=body.encode("utf-8"), method="POST",
                                     headers={"Content-Type": "text/xml"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")
    except (urllib.error.URLError, OSError) as error:
        raise GzhError(_CALLBACK_DOWN(url=url, error=_reason(error))) from None
