"""WeChat official-account push adapter (公众号消息推送): `GET|POST /v1/wechat/{account}`.

WeChat signs every call with the account's token (`signature`, and `msg_signature` over the ciphertext in
safe mode 安全模式). Every refused signature or stale timestamp is a 403 (WeChat's own convention; there is
no credential challenge to answer, so no 401). The reply is a passive text reply (被动回复) rendered by
wechatpy, encrypted again in safe mode.
"""

from __future__ import annotations

import binascii
import struct
import time
from typing import Annotated
from xml.parsers.expat import ExpatError

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import PlainTextResponse, Response
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from services.intake.adapters.http.guards import throttle
from services.intake.domain.credentials import Denied
from services.intake.domain.wechat import Malformed, check_push, check_window, parse
from services.intake.settings import WechatAccount
from services.intake.wechat_inbox import WechatInbox

router = APIRouter(prefix="/v1/wechat", tags=["WeChat official account"])
Account = Annotated[str, Path(pattern=r"^[a-z0-9_\-]{2,32}$", description="a key of INTAKE_WECHAT_ACCOUNTS")]
Param = Annotated[str, Query()]
RESPONSES: dict[int | str, dict[str, str]] = {
    400: {"description": "not a WeChat push XML, or the ciphertext cannot be decrypted"},
    403: {"description": "bad signature / msg_signature / AppId, or timestamp outside the window (replay)"},
    404: {"description": "unknown account"},
    413: {"description": "body too large"},
    415: {"description": "content-type must be text/xml or application/xml"},
}


def _account(request: Request, name: str) -> WechatAccount:
    account: WechatAccount | None = request.app.state.settings.wechat_accounts.get(name)
    if account is None:
        raise HTTPException(404, f"unknown WeChat account {name!r}")
    return account


def _refuse(denied: Denied | None) -> None:
    if denied is not None:
        raise HTTPException(denied.status, denied.reason)


@router.get("/{account}", response_class=PlainTextResponse, responses=RESPONSES,
            summary="URL verification (服务器配置): echoes echostr when the signature is the account's")
async def verify_url(
    account: Account, request: Request, signature: Param = "", timestamp: Param = "", nonce: Param = "",
    echostr: Param = "",
) -> PlainTextResponse:
    acct = _account(request, account)
    try:
        check_signature(acct.token, signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        raise HTTPException(403, "bad WeChat signature") from exc
    return PlainTextResponse(echostr)


@router.post("/{account}", response_class=Response, responses=RESPONSES,
             summary="Take a citizen's message or event; answers with a passive text reply (XML)")
async def receive_push(
    account: Account, request: Request, signature: Param = "", timestamp: Param = "", nonce: Param = "",
    encrypt_type: Param = "", msg_signature: Param = "",
) -> Response:
    acct = _account(request, account)
    settings = request.app.state.settings
    body = await request.body()
    now, window = int(time.time()), settings.signature_window_seconds
    crypto: WeChatCrypto | None = None
    xml: str | bytes = body
    if encrypt_type.lower() == "aes":
        crypto = _crypto(acct)
        xml = _decrypt(crypto, body, msg_signature, timestamp, nonce)
        _refuse(check_window(timestamp, now, window))
    else:
        _refuse(check_push(acct.token, signature, timestamp, nonce, now, window))
    msg = parse(xml)
    if isinstance(msg, Malformed):
        raise HTTPException(400, msg.reason)
    throttle(request, f"wechat:{account}")
    inbox: WechatInbox = request.app.state.wechat_inbox
    received = await inbox.receive(account, msg)
    reply = TextReply(source=msg.to_user, target=msg.openid, content=received.reply).render()
    if crypto is not None:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return Response(reply, media_type="application/xml")


def _crypto(acct: WechatAccount) -> WeChatCrypto:
    if not acct.encoding_aes_key:
        raise HTTPException(400, "safe mode (encrypt_type=aes) but the account has no EncodingAESKey")
    return WeChatCrypto(acct.token, acct.encoding_aes_key, acct.app_id)


def _decrypt(crypto: WeChatCrypto, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
    """wechatpy checks msg_signature over the ciphertext, decrypts and checks the AppId inside."""
    try:
        xml: str = crypto.decrypt_message(body, msg_signature, timestamp, nonce)
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        raise HTTPException(403, f"safe mode: {exc.errmsg}") from exc
    except (ExpatError, KeyError, TypeError, ValueError, IndexError, binascii.Error, struct.error) as exc:
        raise HTTPException(400, f"safe mode: unreadable Encrypt element ({type(exc).__name__})") from exc
    return xml

