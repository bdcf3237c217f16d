"""`actops serve`: the 「我的待办」 web service (Starlette, run by uvicorn).

``GET /todo/<token>`` verifies the signed personal link (:mod:`actops.kernel.links`) before
anything is read; a forged, malformed or foreign-purpose link gets 403, an expired one 410,
each a zh-CN page without anyone's data. Tokens never reach a log: uvicorn's access log is
off and this module logs requests with the token cut off. Responses are not cached and send
no referrer, so a token does not leak into NocoDB's logs when a row link is followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

from actops.errors import ActopsError
from actops.kernel.calendar import TZ
from actops.kernel.links import (
    PURPOSE_APPROVE,
    PURPOSE_SELF_EVAL,
    PURPOSE_TODO,
    DecisionLinks,
    LinkError,
    LinkSigner,
    public_url,
)
from actops.web.hooks import HookEndpoint
from actops.web.page import render_message, render_todo
from actops.web.todo import PageRefused, build_page, load_todo

log = logging.getLogger("actops.web")

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
}
WHAT_TO_DO = {
    "malformed": "请直接点击提醒邮件或企业微信消息中的「我的待办」链接，不要手动修改；如仍无法打开，请联系系统管理员。",
    "forged": "请使用提醒邮件或企业微信消息中的原始链接；如仍无法打开，请联系系统管理员。",
    "purpose": "请使用提醒消息中「我的待办」的链接。",
    "expired": "每封提醒邮件都带有新的链接：请打开最近一封提醒邮件中的「我的待办」链接，或联系系统管理员。",
}
HEADINGS = {"malformed": "链接无效", "forged": "链接无效", "purpose": "链接无效", "expired": "链接已过期"}


class StoreCache:
    """One bound store for a while: field titles are looked up again after ``ttl`` seconds
    (a column renamed in the grid) or after NocoDB failed."""

    def __init__(self, factory: Callable[[], Any], ttl: float = 300.0) -> None:
        self.factory, self.ttl = factory, ttl
        self._store: Any = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self) -> Any:
        with self._lock:
            if self._store is None or time.monotonic() - self._at > self.ttl:
                self._store, self._at = self.factory(), time.monotonic()
            return self._store

    def drop(self) -> None:
        with self._lock:
            self._store = None


def _wall_clock() -> datetime:
    return datetime.now(TZ)


def create_app(store: Callable[[], Any] | StoreCache, signer: LinkSigner, *,
               clock: Callable[[], datetime] = _wall_clock, link_clock: Callable[[], datetime] = _wall_clock,
               templates_dir: Path | None = None, hooks: HookEndpoint | None = None,
               on_decision: Callable[[str], None] | None = None) -> Starlette:
    """``clock`` is the business time the items are judged at (``--now`` for demos and tests);
    ``link_clock`` the time links expire by, the wall clock unless a test says otherwise.
    ``hooks`` adds ``POST /hooks/<rule>`` (:mod:`actops.web.hooks`); its wakers stop with the app.
    ``on_decision(step_code)`` is called after a decision was recorded on the approval page
    (by default: the hooks' waker of the approvals job, when there is one)."""
    stores = store if isinstance(store, StoreCache) else StoreCache(store)
    if on_decision is None and hooks is not None and "approvals" in hooks.wakers:
        waker = hooks.wakers["approvals"]

        def on_decision(step_code: str) -> None:  # the next step opens within seconds, not at the next poll
            waker.wake()

    def page(status: int, heading: str, detail: str, what_to_do: str, title: str = "我的待办") -> HTMLResponse:
        return HTMLResponse(render_message(status, heading, detail, what_to_do, templates_dir, title=title),
                            status_code=status, headers=HEADERS)

    def home(request: Request) -> HTMLResponse:
        return page(200, "请通过个人链接打开", "「我的待办」列出您需要处理的审批、报告、待办事项和逾期事项。",
                    "请点击提醒邮件或企业微信消息中的「我的待办」链接；链接为个人专用，请勿转发。")

    def todo(request: Request) -> HTMLResponse:
        now = clock()
        try:
            claims = signer.verify(request.path_params["token"], PURPOSE_TODO, link_clock())
        except LinkError as err:
            log.info("refused /todo/… (%s)", err.reason)
            return page(err.status, HEADINGS[err.reason], str(err), WHAT_TO_DO[err.reason])
        try:
            self_links = DecisionLinks(signer, public_url(), link_clock(), PURPOSE_SELF_EVAL, "self")
            html = render_todo(build_page(load_todo(stores.get(), claims.code, now, self_links)), claims.expires,
                               templates_dir)
        except PageRefused as err:
            log.info("refused /todo/… for %s: %s", claims.code, err)
            return page(err.status, "无法打开此链接", str(err), "如有疑问，请联系系统管理员。")
        except ActopsError as err:
            stores.drop()
            log.warning("todo page of %s: NocoDB failed: %s", claims.code, err)
            return page(503, "暂时无法读取数据", "系统暂时无法从 NocoDB 读取您的待办。",
                        "请稍后刷新本页；如持续出现，请联系系统管理员（服务日志中有详细原因）。")
        log.info("served /todo/… for %s", claims.code)
        return HTMLResponse(html, headers=HEADERS)

    decide_headers = {**HEADERS, "Content-Security-Policy": HEADERS["Content-Security-Policy"].replace(
        "form-action 'none'", "form-action 'self'")}

    async def approve(request: Request) -> HTMLResponse:
        from urllib.parse import parse_qs

        from actops.web import decide
        from actops.web.decide_page import render_decide, render_done

        try:
            claims = signer.verify(request.path_params["token"], PURPOSE_APPROVE, link_clock())
        except LinkError as err:
            log.info("refused /approve/… (%s)", err.reason)
            return page(err.status, HEADINGS[err.reason], str(err), WHAT_TO_DO[err.reason].replace("「我的待办」", "审批"))
        if not claims.ref:
            return page(403, "链接无效", "此链接不属于任何审批步骤。", "请使用提醒消息中的审批链接。")
        try:
            if request.method == "POST":
                form = parse_qs((await request.body()).decode("utf-8", "replace"))
                now = clock()
                view = decide.record(stores.get(), claims.code, claims.ref, (form.get("decision") or [""])[0],
                                     (form.get("comment") or [""])[0], now)
                log.info("decision on %s by %s", claims.ref, claims.code)
                if on_decision is not None:
                    on_decision(claims.ref)
                return HTMLResponse(render_done(view, (form.get("decision") or [""])[0],
                                                (form.get("comment") or [""])[0], templates_dir), headers=HEADERS)
            view = decide.load_view(stores.get(), claims.code, claims.ref)
            decide.check_open(view)
            return HTMLResponse(render_decide(view, claims.expires, row_url(view), templates_dir),
                                headers=decide_headers)
        except decide.Refused as err:
            log.info("refused /approve/… for %s on %s: %s", claims.code, claims.ref, err.detail)
            return page(err.status, err.heading, err.detail, err.what_to_do)
        except ActopsError as err:
            stores.drop()
            log.warning("approve page of %s: NocoDB failed: %s", claims.code, err)
            return page(503, "暂时无法读取数据", "系统暂时无法从 NocoDB 读取这条审批。",
                        "请稍后刷新本页；如持续出现，请联系系统管理员（服务日志中有详细原因）。")

    async def self_eval(request: Request) -> HTMLResponse:
        from urllib.parse import parse_qs

        from actops.messaging.render import environment
        from actops.web import decide
        from actops.web import self_eval as se

        token = request.path_params["token"]
        title = "自评"
        try:
            claims = signer.verify(token, PURPOSE_SELF_EVAL, link_clock())
        except LinkError as err:
            log.info("refused /self/… (%s)", err.reason)
            return page(err.status, HEADINGS[err.reason], str(err), WHAT_TO_DO[err.reason].replace("「我的待办」", "自评"),
                        title)
        if not claims.ref:
            return page(403, "链接无效", "此链接不属于任何考评周期。", "请使用自评邀请中的链接。", title)
        form_page = environment(templates_dir).get_template("self_eval.html.j2")
        try:
            saved = request.method == "POST"
            if saved:
                form = parse_qs((await request.body()).decode("utf-8", "replace"))
                try:
                    view = se.save(stores.get(), claims.code, claims.ref, form, token, clock())
                except se.Invalid as err:  # the form again, with what was typed and what is wrong
                    view = se.load(stores.get(), claims.code, claims.ref)  # still their own row, still open
                    log.info("self-evaluation of %s in %s not saved: %s", claims.code, claims.ref, err.detail)
                    html = form_page.render(saved=False, error=err,
                                            **se.page_values(view, claims.expires, se.typed(form)))
                    return HTMLResponse(html, status_code=400, headers=decide_headers)
                log.info("self-evaluation of %s in %s saved", claims.code, claims.ref)
            else:
                view = se.load(stores.get(), claims.code, claims.ref)
            html = form_page.render(saved=saved, error=None, **se.page_values(view, claims.expires))
            return HTMLResponse(html, headers=decide_headers)
        except decide.Refused as err:
            log.info("refused /self/… for %s in %s: %s", claims.code, claims.ref, err.detail)
            return page(err.status, err.heading, err.detail, err.what_to_do, title)
        except ActopsError as err:
            stores.drop()
            log.warning("self-evaluation page of %s: NocoDB failed: %s", claims.code, err)
            return page(503, "暂时无法读取数据", "系统暂时无法从 NocoDB 读取您的考评表。",
                        "请稍后刷新本页；如持续出现，请联系系统管理员（服务日志中有详细原因）。", title)

    def row_url(view: Any) -> str | None:
        try:
            from actops.kernel.links import row_links

            return row_links(stores.get(), ["approval_requests"]).row("approval_requests", view.request.get("Id"))
        except ActopsError:
            return None

    def health(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok", headers=HEADERS)

    async def not_found(request: Request, exc: Exception) -> HTMLResponse:
        return page(404, "页面不存在", "这个地址没有内容。", "请点击提醒消息中的「我的待办」链接。")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if hooks is not None:  # let a webhook run under way finish (or time out) before exiting
            await asyncio.to_thread(hooks.close)

    return Starlette(
        routes=[Route("/", home), Route("/todo/{token}", todo), Route("/healthz", health),
                Route("/approve/{token}", approve, methods=["GET", "POST"]),
                Route("/self/{token}", self_eval, methods=["GET", "POST"]),
                *(hooks.routes() if hooks is not None else [])],
        exception_handlers={404: not_found}, lifespan=lifespan,
    )


def serve(host: str, port: int, prefix: str | None, print_link: str | None,
          now: datetime | None = None, echo: Callable[[str], None] = print) -> None:
    """Run the service (or print one person's link and stop)."""
    import uvicorn

    from actops import config
    from actops.errors import ConfigError
    from actops.kernel.links import public_url, signer_from_env, todo_links_from_env
    from actops.service import store_from_env
    from actops.web.hooks import hooks_from_env

    signer = signer_from_env()
    if signer is None:
        raise ConfigError("ACTOPS_LINK_SECRET is not set: put a random value of at least 32 characters "
                          "(`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) in the environment "
                          "or .env — the same value the flows use to sign the links in digests")
    if print_link:
        links = todo_links_from_env(datetime.now(TZ))
        echo(links.url_for(print_link) if links else "")
        return
    config.nocodb()  # fail now, in one line, if NocoDB is not configured
    hooks = hooks_from_env(prefix, _wall_clock)  # webhooks run jobs at the real time, never --now
    app = create_app(lambda: store_from_env(prefix), signer, clock=(lambda: now) if now else _wall_clock,
                     hooks=hooks)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # One line per NocoDB call would flood the log (and block a service whose stderr is a
    # full pipe): the client's own requests are logged only when something goes wrong.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    echo(f"「我的待办」 on http://{host}:{port}/ — links in digests point to {public_url()}/todo/…"
         + (f" (items judged as of {now:%Y-%m-%d %H:%M})" if now else ""))
    echo(f"webhooks: POST /hooks/<rule> wakes {', '.join(hooks.wakers) or 'no job'} ({len(hooks.rules)} rules)"
         if hooks.secret else "webhooks off: ACTOPS_WEBHOOK_SECRET is not set (POST /hooks/… answers 401)")
    for rule, job in hooks.unrunnable.items():
        echo(f"! webhook rule {rule} wakes job {job!r}, which is not in the registry: answered 404")
    uvicorn.run(app, host=host, port=port, access_log=False, proxy_headers=True, log_level="info")
