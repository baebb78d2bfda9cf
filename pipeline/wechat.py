"""The WeChat edge: wechatpy over HTTP, with the fixes a CI publisher needs.

- Tokens come from `cgi-bin/stable_token`, so two jobs never invalidate each other's token
  (wechatpy only knows `cgi-bin/token`, where every fetch supersedes the previous token).
- The API base URL is configurable (the local sandbox, a fixed-IP relay).
- wechatpy's own retry is unbounded; here retries are bounded with backoff: -1 (busy) and token
  errors are retried a few times, a lost connection is retried only for reads. A write whose
  answer was lost raises `AmbiguousWrite`, because repeating it could duplicate an article;
  the publisher reconciles through the ledger instead.
- Uploads are sent as bytes, so a retried upload is never empty.
- Every error code on our path becomes a Chinese message that says how to fix it.
- The AppSecret and tokens never appear in messages (see `redact`).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.redact import redact

DEFAULT_API_BASE = "https://api.weixin.qq.com/cgi-bin/"
TOKEN_ERRORS = {40001, 40014, 42001}
BUSY = -1

_MESSAGES: dict[int, Text] = {
    BUSY: Text("微信系统繁忙（-1），已重试仍未成功。请稍后重新运行", "WeChat is busy (-1) even after retries; run again later"),
    40001: Text("AppSecret 错误或 access_token 已失效（40001）。请核对 CI 密钥 WECHAT_SECRET", "Wrong AppSecret or stale token (40001); check WECHAT_SECRET"),
    40002: Text("请求参数不合法（40002）", "Invalid argument (40002)"),
    40004: Text("媒体文件类型不合法（40004）", "Invalid media type (40004)"),
    40005: Text("文件类型不合法（40005）：正文图片只能是 jpg 或 png", "Invalid file type (40005): body images must be jpg or png"),
    40006: Text("文件大小不合法（40006）", "Invalid file size (40006)"),
    40007: Text("media_id 无效（40007）：草稿或素材已被删除或已发布。重新运行会重新创建", "Invalid media_id (40007): the draft or material is gone; a re-run recreates it"),
    40009: Text("图片大小不合法（40009）：正文图片须小于 1 MB", "Invalid image size (40009): body images must be under 1 MB"),
    40013: Text("AppID 不正确（40013）。请核对 CI 密钥 WECHAT_APPID", "Invalid AppID (40013); check WECHAT_APPID"),
    40114: Text("草稿中的文章序号无效（40114）", "Invalid article index in the draft (40114)"),
    40125: Text("AppSecret 不正确（40125）。请在公众平台“开发-基本配置”重置后更新 CI 密钥 WECHAT_SECRET", "Invalid AppSecret (40125); reset it and update WECHAT_SECRET"),
    40164: Text("调用接口的 IP 不在公众号的 IP 白名单中（40164）。请在公众平台“设置与开发-基本配置-IP白名单”加入发布机器的出口 IP（见 docs/setup.md）",
                "The caller's IP is not whitelisted (40164); add the publisher's egress IP in the MP console"),
    41005: Text("缺少媒体文件数据（41005）", "Media data missing (41005)"),
    42001: Text("access_token 已过期（42001），已重新获取仍失败", "access_token expired (42001) and refreshing did not help"),
    45002: Text("正文内容超长（45002）：须少于 20,000 个字符、1 MB", "Content too long (45002)"),
    45003: Text("标题超长（45003）：最多 32 个字", "Title too long (45003): at most 32 characters"),
    45004: Text("摘要超长（45004）：最多 128 个字", "Digest too long (45004): at most 128 characters"),
    45009: Text("今天的接口调用次数已用完（45009）。发布、轮询每天各 100 次，删除每天 10 次；请明天再运行，紧急时由管理员在公众平台清零",
                "Daily API quota reached (45009); run again tomorrow, or have the admin reset it"),
    45011: Text("调用太频繁（45011），请一分钟后再试", "Too many calls this minute (45011); retry in a minute"),
    45028: Text("今天的群发次数已用完（45028）：订阅号每天只能群发 1 次。可改为发布（不推送）或明天再群发",
                "No mass-send quota left today (45028); publish without push, or send tomorrow"),
    45065: Text("相同内容 24 小时内已群发过（45065），不会重复推送", "Already mass-sent in the last 24 h (45065); not sent again"),
    45166: Text("正文内容不合法（45166）：请运行 gzh check 检查", "Invalid content (45166); run gzh check"),
    48001: Text("公众号没有此接口权限（48001）：发布接口只对已认证的公众号开放，请确认认证未过期", "API unauthorized (48001): publishing needs a verified account"),
    53503: Text("草稿未通过微信的发布检查（53503）。请在公众平台草稿箱中打开该草稿查看原因", "The draft failed WeChat's publish check (53503); open it in the MP draft box"),
    53504: Text("该草稿需要到公众平台网页端发布（53504）", "This draft must be published from the MP web console (53504)"),
    53505: Text("请先在公众平台网页端手动保存一次该草稿，再重新运行（53505）", "Save the draft once in the MP web console, then run again (53505)"),
    53600: Text("article_id 无效（53600）", "Invalid article_id (53600)"),
    88000: Text("文章没有留言权限（88000）", "The article has no comment privilege (88000)"),
    89503: Text("此 IP 调用需要管理员在公众平台确认（89503）", "An admin must confirm calls from this IP (89503)"),
}
_UNKNOWN = Text("微信接口 {endpoint} 返回错误 {code}：{message}", "WeChat {endpoint} returned error {code}: {message}")
_NETWORK = Text("无法连接微信接口 {endpoint}（网络错误）。请检查网络或 WECHAT_API_BASE 设置", "Cannot reach WeChat {endpoint} (network error); check the network or WECHAT_API_BASE")
_AMBIGUOUS = Text("调用 {endpoint} 时连接中断，无法确定微信是否已执行。重新运行时会先核对再继续，不会重复发布",
                  "The connection dropped during {endpoint}; whether WeChat acted is unknown. A re-run reconciles first")
_MALFORMED = Text(
    "微信接口 {endpoint} 的回答不是预期的格式（{detail}），可能是中转服务器或网关返回的错误页。请检查 WECHAT_API_BASE 指向的地址是否可用，稍后重新运行",
    "WeChat {endpoint} answered in an unexpected shape ({detail}), perhaps a relay's or gateway's error page. "
    "Check the address WECHAT_API_BASE points to, then run again")
_NOT_AN_OBJECT = Text("不是 JSON 对象", "not a JSON object")
_MISSING_FIELD = Text("缺少字段 {field}", "no field {field}")
_NO_CREDENTIALS = Text("没有微信公众号凭据：请设置环境变量（CI 中为密钥）WECHAT_APPID 和 WECHAT_SECRET；本地演示可用 gzh demo",
                       "No WeChat credentials: set WECHAT_APPID and WECHAT_SECRET (CI secrets); for a local demo use gzh demo")


class WeChatError(GzhError):
    """A WeChat API call failed; `code` is WeChat's errcode (None for network errors)."""

    def __init__(self, endpoint: str, code: int | None, message: str) -> None:
        super().__init__(message)
        self.endpoint, self.code = endpoint, code


class AmbiguousWrite(WeChatError):
    """A write was sent but its answer was lost: WeChat may or may not have acted."""


class Answer(dict):  # type: ignore[type-arg]
    """A JSON object WeChat answered: a missing field is a WeChatError that names it, not a KeyError.

    Objects nested inside are Answers too, so `item["content"]["news_item"]` fails the same way.
    """

    endpoint = ""

    def __missing__(self, key: str) -> Any:
        raise WeChatError(self.endpoint, None, _MALFORMED(endpoint=self.endpoint, detail=_MISSING_FIELD(field=key)))


def _answer(value: Any, endpoint: str) -> Any:
    if isinstance(value, dict):
        answer = Answer((key, _answer(item, endpoint)) for key, item in value.items())
        answer.endpoint = endpoint
        return answer
    if isinstance(value, list):
        return [_answer(item, endpoint) for item in value]
    return value


def message_for(endpoint: str, code: int | None, errmsg: str = "") -> str:
    if code is None:
        return _NETWORK(endpoint=endpoint)
    text = _MESSAGES.get(code)
    return text() if text else _UNKNOWN(endpoint=endpoint, code=code, message=redact(errmsg))


@dataclass(frozen=True)
class Credentials:
    appid: str
    secret: str
    api_base: str = DEFAULT_API_BASE

    @classmethod
    def from_environment(cls) -> "Credentials":
        appid, secret = os.environ.get("WECHAT_APPID", ""), os.environ.get("WECHAT_SECRET", "")
        if not appid or not secret:
            raise GzhError(_NO_CREDENTIALS())
        return cls(appid, secret, os.environ.get("WECHAT_API_BASE") or DEFAULT_API_BASE)

    def __repr__(self) -> str:  # never print the secret, even in a debugger or a crash log
        return f"Credentials(appid={self.appid!r}, secret='***', api_base={self.api_base!r})"


class _StableTokenClient(WeChatClient):
    """wechatpy's client with the token from stable_token and its own retry turned off."""

    def __init__(self, credentials: Credentials, timeout: float) -> None:
        super().__init__(credentials.appid, credentials.secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = credentials.api_base if credentials.api_base.endswith("/") else credentials.api_base + "/"

    def fetch_access_token(self) -> dict[str, Any]:
        response = self._http.post(
            url=f"{self.API_BASE_URL}stable_token",
            json={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret, "force_refresh": False},
            timeout=self.timeout,
        )
        response.raise_for_status()
        result = response.json()
        if not isinstance(result, dict):
            raise WeChatError("stable_token", None, _MALFORMED(endpoint="stable_token", detail=_NOT_AN_OBJECT()))
        if result.get("errcode", 0) != 0:
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self)
        expires_in = result.get("expires_in", 7200)
        if not isinstance(result.get("access_token"), str) or not isinstance(expires_in, int):
            raise WeChatError("stable_token", None, _MALFORMED(endpoint="stable_token", detail=_MISSING_FIELD(field="access_token")))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result

    def forget_token(self) -> None:
        self.session.delete(self.access_token_key)


class WeChat:
    """The calls the pipeline makes, each with bounded retries and translated errors."""

    def __init__(self, credentials: Credentials, *, timeout: float = 30.0, attempts: int = 3,
                 backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = _StableTokenClient(credentials, timeout)
        self._attempts, self._backoff, self._sleep = attempts, backoff, sleep
        self.calls: list[str] = []  # endpoints called, in order: for --dry-run plans and reports

    # -- the retry policy -------------------------------------------------------------------------

    def _call(self, endpoint: str, method: str, *, write: bool, **kwargs: Any) -> Any:
        for attempt in range(1, self._attempts + 1):
            self.calls.append(endpoint)
            # wechatpy writes the token into `params` and encodes `data` in place: copy per attempt
            fresh = {key: dict(value) if isinstance(value, dict) else value for key, value in kwargs.items()}
            try:
                result = self._client._request(method, endpoint, **fresh)
            except WeChatClientException as error:
                code = error.errcode
                if code in TOKEN_ERRORS and attempt < self._attempts:
                    self._client.forget_token()  # stable_token hands out the current token again
                    continue
                if code == BUSY and attempt < self._attempts:
                    self._sleep(self._backoff * 2 ** (attempt - 1))
                    continue
                if code is None and error.response is None:
                    raise self._network_error(endpoint, write, error, attempt) from None
                raise WeChatError(endpoint, code, message_for(endpoint, code, str(error.errmsg or ""))) from None
            except requests.RequestException as error:
                if write or attempt == self._attempts:
                    raise self._network_error(endpoint, write, error, attempt) from None
                self._sleep(self._backoff * 2 ** (attempt - 1))
                continue
            if isinstance(result, dict):
                return _answer(result, endpoint)
            # wechatpy hands back the raw response when the body is not JSON: a relay's error page
            if write:  # the relay may have forwarded the write before failing: reconcile, never repeat
                raise AmbiguousWrite(endpoint, None, _AMBIGUOUS(endpoint=endpoint))
            if attempt == self._attempts:
                raise WeChatError(endpoint, None, _MALFORMED(endpoint=endpoint, detail=_NOT_AN_OBJECT()))
            self._sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _network_error(self, endpoint: str, write: bool, error: Exception, attempt: int) -> WeChatError:
        if write:
            return AmbiguousWrite(endpoint, None, _AMBIGUOUS(endpoint=endpoint))
        return WeChatError(endpoint, None, _NETWORK(endpoint=endpoint))

    def _post(self, endpoint: str, data: dict[str, Any], *, write: bool) -> dict[str, Any]:
        return self._call(endpoint, "post", write=write, data=data)

    # -- tokens ------------------------------------------------------------------------------------

    def check_credentials(self) -> None:
        """A token call: proves the AppID, AppSecret, IP whitelist and base URL all work."""
        self.calls.append("stable_token")
        try:
            self._client.fetch_access_token()
        except WeChatClientException as error:
            raise WeChatError("stable_token", error.errcode, message_for("stable_token", error.errcode)) from None
        except requests.RequestException:
            raise WeChatError("stable_token", None, _NETWORK(endpoint="stable_token")) from None

    # -- images ------------------------------------------------------------------------------------

    def upload_image(self, filename: str, data: bytes) -> str:
        """media/uploadimg: a body image (jpg/png under 1 MB); returns its WeChat URL.

        Uploads count as reads for retrying: a repeated upload only leaves an unused image.
        """
        result = self._call("media/uploadimg", "post", write=False, files={"media": (filename, data)})
        return str(result["url"])

    def add_image_material(self, filename: str, data: bytes) -> tuple[str, str]:
        """material/add_material type=image: a permanent image (covers); returns (media_id, url)."""
        result = self._call("material/add_material", "post", write=False, params={"type": "image"},
                            files={"media": (filename, data)})
        return str(result["media_id"]), str(result.get("url", ""))

    # -- drafts ------------------------------------------------------------------------------------

    def draft_add(self, article: dict[str, Any]) -> str:
        # Not wechatpy's draft.add: it drops fields such as pic_crop_235_1.
        return str(self._post("draft/add", {"articles": [article]}, write=True)["media_id"])

    def draft_update(self, media_id: str, article: dict[str, Any]) -> None:
        self._post("draft/update", {"media_id": media_id, "index": 0, "articles": article}, write=True)

    def draft_get(self, media_id: str) -> dict[str, Any]:
        return self._post("draft/get", {"media_id": media_id}, write=False)

    def draft_batchget(self, offset: int, count: int = 20, no_content: bool = True) -> dict[str, Any]:
        return self._post("draft/batchget", {"offset": offset, "count": count, "no_content": int(no_content)}, write=False)

    # -- publishing --------------------------------------------------------------------------------

    def submit(self, media_id: str) -> tuple[str, str]:
        """freepublish/submit: (publish_id, msg_data_id); the latter keys the article's comments."""
        answer = self._post("freepublish/submit", {"media_id": media_id}, write=True)
        return str(answer["publish_id"]), str(answer.get("msg_data_id", ""))

    def publish_status(self, publish_id: str) -> dict[str, Any]:
        return self._post("freepublish/get", {"publish_id": publish_id}, write=False)

    def published(self, offset: int, count: int = 20, no_content: bool = True) -> dict[str, Any]:
        return self._post("freepublish/batchget", {"offset": offset, "count": count, "no_content": int(no_content)}, write=False)

    def all_published(self, no_content: bool = True) -> Iterator[dict[str, Any]]:
        """Every published article, 20 a page (ceil(n/20) calls of a 100-a-day quota); stop early to save calls."""
        offset, total = 0, 1
        while offset < total:
            page = self.published(offset, 20, no_content)
            total = int(page.get("total_count", 0))
            items = page.get("item", [])
            yield from items
            if not items:
                return
            offset += len(items)

    def get_article(self, article_id: str) -> dict[str, Any]:
        return self._post("freepublish/getarticle", {"article_id": article_id}, write=False)

    def delete_article(self, article_id: str, index: int) -> None:
        if index < 1:  # 0 deletes every article under the id: never what a caller means by accident
            raise ValueError("freepublish/delete index is 1-based")
        self._post("freepublish/delete", {"article_id": article_id, "index": index}, write=True)

    # -- mass send and preview ---------------------------------------------------------------------

    def mass_send(self, media_id: str, client_msg_id: str) -> dict[str, Any]:
        """message/mass/sendall to all followers; `clientmsgid` makes WeChat refuse a repeat for 24 h."""
        data = {"filter": {"is_to_all": True}, "mpnews": {"media_id": media_id}, "msgtype": "mpnews",
                "send_ignore_reprint": 0, "clientmsgid": client_msg_id}
        return self._post("message/mass/sendall", data, write=True)

    def mass_preview(self, media_id: str, wechat_id: str) -> dict[str, Any]:
        data = {"towxname": wechat_id, "mpnews": {"media_id": media_id}, "msgtype": "mpnews"}
        return self._post("message/mass/preview", data, write=True)

    # -- comments (Art. 8) -------------------------------------------------------------------------

    def list_comments(self, msg_data_id: str, index: int, begin: int, count: int = 49) -> dict[str, Any]:
        data = {"msg_data_id": msg_data_id, "index": index, "begin": begin, "count": count, "type": 0}
        return self._post("comment/list", data, write=False)

    def reply_comment(self, msg_data_id: str, index: int, user_comment_id: int, content: str) -> None:
        data = {"msg_data_id": msg_data_id, "index": index, "user_comment_id": user_comment_id, "content": content}
        self._post("comment/reply/add", data, write=True)

    def unmark_elected_comment(self, msg_data_id: str, index: int, user_comment_id: int) -> None:
        """comment/unmarkelect: out of the elected comments, the ones followers see under the article."""
        data = {"msg_data_id": msg_data_id, "index": index, "user_comment_id": user_comment_id}
        self._post("comment/unmarkelect", data, write=True)

    def delete_comment(self, msg_data_id: str, index: int, user_comment_id: int) -> None:
        data = {"msg_data_id": msg_data_id, "index": index, "user_comment_id": user_comment_id}
        self._post("comment/delete", data, write=True)
