"""The Admin Portal's pages: server-rendered HTML, a little same-origin
JavaScript for copy buttons, and nothing from elsewhere.

Every page needs an open portal session (its cookie is set when a one-time
link is used, and Leave ends it) and works on that session's organization
only; every form carries a CSRF token; every answer carries a strict
Content-Security-Policy.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Awaitable, Callable

import jinja2
from aiohttp import web
from scimd.connections.v1 import connections_service_pb2 as connections_pb

from gateway.calls import call
from gateway.json import within_body_timeout
from gateway.keys import BACKENDS, SETTINGS, TOKEN_CACHE
from gateway.portal import session as portal_session
from gateway.portal.idp_guides import CHOICES, GUIDES, guide_for
from gateway.portal.organization import PAGE, NoConnection, OrganizationView
from runtime.errors import ServiceError

routes = web.RouteTableDef()
STATIC = Path(__file__).parent / "static"

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Portal links carry a secret in their query string: never send it on.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

PortalHandler = Callable[[web.Request, portal_session.PortalSession, OrganizationView], Awaitable[web.StreamResponse]]


def _secured(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.update(SECURITY_HEADERS)
    return response


def render(template: str, *, status: int = 200, **context: Any) -> web.Response:
    html = _templates.get_template(template).render(**context)
    return _secured(web.Response(text=html, status=status, content_type="text/html", charset="utf-8"))


def redirect(location: str) -> web.Response:
    return _secured(web.Response(status=303, headers={"Location": location}))


def _set_cookie(request: web.Request, reply: web.StreamResponse, name: str, value: str, *,
                lifetime: timedelta, path: str) -> None:
    reply.set_cookie(
        name, value, max_age=int(lifetime.total_seconds()), path=path, httponly=True, samesite="Strict",
        secure=request.app[SETTINGS].public_url.startswith("https://"),
    )


def _expired_form() -> web.Response:
    return render("message.html", status=403, title="This form has expired",
                  message="Go back, reload the page and try again.")


def portal_page(handler: PortalHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Runs `handler` for an open session's organization; forms must bring its CSRF token."""

    async def page(request: web.Request) -> web.StreamResponse:
        settings = request.app[SETTINGS]
        session = portal_session.read(settings, request.cookies.get(portal_session.COOKIE, ""))
        if session is None or not await portal_session.is_open(request.app[BACKENDS], session):
            return render("message.html", status=401, title="Your portal session has ended",
                          message="Ask your application's administrator for a new Admin Portal link.")
        if request.method == "POST":
            form = await within_body_timeout(request, request.post())
            if not portal_session.csrf_matches(session, str(form.get("csrf_token", ""))):
                return _expired_form()
        view = OrganizationView(request.app[BACKENDS], settings, request.app[TOKEN_CACHE], session.organization_id)
        try:
            return await handler(request, session, view)
        except NoConnection:
            return redirect("/portal")
        except ServiceError as error:
            if error.kind.http_status >= 500:
                raise
            return render("message.html", status=error.kind.http_status, title="That did not work",
                          message=error.message, session=session)

    return page


def _page_number(request: web.Request) -> int:
    value = request.query.get("page", "0")
    return min(int(value), 10_000) if value.isdigit() else 0


def _unusable_link() -> web.Response:
    return render("message.html", status=401, title="This link cannot be used",
                  message="Admin Portal links work once and for a few minutes. Ask for a new one.")


@routes.get("/portal/enter")
async def confirm_entry(request: web.Request) -> web.StreamResponse:
    """Asks before using the one-time link: opening it (or another site, or a
    mail scanner, fetching it) changes nothing."""
    link = request.query.get("link", "")
    if not link:
        return _unusable_link()
    entry_token = portal_session.new_entry_token()
    reply = render("enter.html", link=link, csrf_token=entry_token)
    _set_cookie(request, reply, portal_session.ENTRY_COOKIE, entry_token,
                lifetime=portal_session.ENTRY_LIFETIME, path="/portal/enter")
    return reply


@routes.post("/portal/enter")
async def enter(request: web.Request) -> web.StreamResponse:
    """Uses up the one-time link and opens the portal session, for the form of
    the page above only, in the browser that showed it."""
    form = await within_body_timeout(request, request.post())
    if not portal_session.entry_matches(request.cookies.get(portal_session.ENTRY_COOKIE, ""),
                                        str(form.get("csrf_token", ""))):
        return _expired_form()
    try:
        response = await call(request.app[BACKENDS].connections.RedeemPortalLink(
            connections_pb.RedeemPortalLinkRequest(link_token=str(form.get("link", "")))))
    except ServiceError as error:
        if error.kind.http_status >= 500:
            raise
        return _unusable_link()
    cookie, _ = portal_session.issue(request.app[SETTINGS], response.session_id, response.organization_id)
    reply = redirect("/portal")
    _set_cookie(request, reply, portal_session.COOKIE, cookie, lifetime=portal_session.LIFETIME, path="/portal")
    reply.del_cookie(portal_session.ENTRY_COOKIE, path="/portal/enter")
    return reply


@routes.get("/portal")
@portal_page
async def overview(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.connection()
    shown = view.shown(connection) if connection else None
    idp = request.query.get("idp") or (shown["identity_provider"] if shown else "okta")
    held = await view.held_deprovisions(connection.connection_id) if connection else []
    return render(
        "overview.html", session=session, organization=await view.organization(), connection=shown,
        choices=[(key, GUIDES[key].name) for key in CHOICES], guide=guide_for(idp), idp=idp, held=held,
    )


@routes.post("/portal/held_deprovisions/{decision}")
@portal_page
async def resolve_held(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    decision = request.match_info["decision"]
    if decision not in ("approve", "reject"):
        raise ServiceError("NOT_FOUND", "no such decision")
    connection = await view.require_connection()
    await view.resolve_held_deprovisions(connection.connection_id, approve=decision == "approve")
    return redirect("/portal")


@routes.post("/portal/connection")
@portal_page
async def create_connection(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    form = await within_body_timeout(request, request.post())
    idp = str(form.get("identity_provider", ""))
    if idp not in GUIDES:
        raise ServiceError("INVALID_VALUE", "choose your identity provider")
    connection, token = await view.create_connection(idp, GUIDES[idp].name)
    return render("token.html", session=session, connection=connection, token=token, guide=guide_for(idp),
                  heading="Your SCIM connection is ready")


@routes.post("/portal/rotation/{step}")
@portal_page
async def rotate(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    step = request.match_info["step"]
    if step not in ("start", "complete", "cancel"):
        raise ServiceError("NOT_FOUND", "no such step")
    connection = await view.require_connection()
    shown, next_token = await view.rotate(connection.connection_id, step)
    if step == "start":
        return render("token.html", session=session, connection=shown, token=next_token,
                      guide=guide_for(shown["identity_provider"]), heading="Your new bearer token",
                      rotation=True)
    return redirect("/portal")


@routes.get("/portal/connection/delete")
@portal_page
async def confirm_delete(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    return render("delete.html", session=session, connection=view.shown(connection))


@routes.post("/portal/connection/delete")
@portal_page
async def delete_connection(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    form = await within_body_timeout(request, request.post())
    connection = await view.connection()
    if connection is not None and form.get("confirm") == connection.connection_id:
        await view.delete_connection(connection.connection_id)
    return redirect("/portal")


@routes.get("/portal/groups")
@portal_page
async def groups(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    query, page = request.query.get("q", ""), _page_number(request)
    found, total = await view.groups(connection.connection_id, query, page)
    return render(
        "groups.html", session=session, groups=found, total=total, query=query, page=page, page_size=PAGE,
        roles=await view.roles(), mapping=await view.assignments(connection.connection_id),
    )


def _submitted_mapping(form, current: dict[str, str]) -> dict[str, str]:
    """The current mapping with the page's choices applied (fields `role:<group id>`)."""
    mapping = dict(current)
    for key, value in form.items():
        if key.startswith("role:"):
            mapping[key.removeprefix("role:")] = str(value)
    return {group_id: role_id for group_id, role_id in mapping.items() if role_id}


@routes.post("/portal/groups/preview")
@portal_page
async def preview_mapping(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    mapping = _submitted_mapping(await within_body_timeout(request, request.post()), await view.assignments(connection.connection_id))
    changes = await view.map_groups(connection.connection_id, mapping, apply=False)
    names = await view.user_names([change.member_id for change in changes])
    return render("preview.html", session=session, mapping=mapping, changes=changes, names=names)


@routes.post("/portal/groups/apply")
@portal_page
async def apply_mapping(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    form = await within_body_timeout(request, request.post())
    mapping = {key.removeprefix("role:"): str(value) for key, value in form.items() if key.startswith("role:")}
    await view.map_groups(connection.connection_id, {g: r for g, r in mapping.items() if r}, apply=True)
    return redirect("/portal/groups")


@routes.get("/portal/members")
@portal_page
async def members(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    query, page = request.query.get("q", ""), _page_number(request)
    found, total = await view.members(connection.connection_id, query, page)
    return render("members.html", session=session, members=found, total=total, query=query, page=page,
                  page_size=PAGE)


@routes.get("/portal/requests")
@portal_page
async def requests(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    member, status, cursor = (request.query.get(k, "") for k in ("member", "status", "cursor"))
    entries, next_cursor, warnings = await view.requests(connection, member, status, cursor)
    return render("requests.html", session=session, entries=entries, next_cursor=next_cursor, warnings=warnings,
                  member=member, status_filter=status, retention_days=f"{request.app[SETTINGS].request_log_retention_days:g}")


@routes.get("/portal/activity")
@portal_page
async def activity(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    return render("activity.html", session=session, entries=await view.activity(),
                  endpoints=await view.webhook_endpoints())


@routes.post("/portal/logout")
@portal_page
async def logout(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    await portal_session.end(request.app[BACKENDS], session)
    reply = render("message.html", title="You have left the Admin Portal", message="You can close this page.")
    reply.del_cookie(portal_session.COOKIE, path="/portal")
    return reply


routes.static("/portal/static", STATIC)
