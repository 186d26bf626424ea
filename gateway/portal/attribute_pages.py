"""The Admin Portal's attribute mapping pages: the customer's admin maps what
their identity provider sends (chosen from the paths it has sent) to the
vendor's custom fields, previews whose values change, and saves; the
directory then applies the mapping to every member in the background."""

from __future__ import annotations

import orjson
from aiohttp import web

from gateway.json import within_body_timeout
from gateway.portal.attribute_form import CLEAN_UPS, KEEP, rows, shown_value, submitted
from gateway.portal.organization import OrganizationView
from gateway.portal.routes import portal_page, redirect, render
from runtime.errors import ServiceError

routes = web.RouteTableDef()


def _stored_fields(mapping) -> list[dict]:
    return orjson.loads(mapping.fields_json or "[]")


@routes.get("/portal/attributes")
@portal_page
async def attributes(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    fields = await view.custom_fields()
    mapping = await view.attribute_mapping(connection.connection_id)
    seen = await view.seen_attributes(connection.connection_id)
    return render("attributes.html", session=session, rows=rows(fields, _stored_fields(mapping), seen),
                  clean_ups=CLEAN_UPS, keep=KEEP, apply=mapping.apply, version=mapping.version)


@routes.post("/portal/attributes/preview")
@portal_page
async def preview(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    form = await within_body_timeout(request, request.post())
    fields = await view.custom_fields()
    current = _stored_fields(await view.attribute_mapping(connection.connection_id))
    wanted = submitted(form, fields, current)
    outcome = await view.map_attributes(connection.connection_id, wanted, apply=False)
    changes = [{"user_name": c.user_name, "fields": [
        (key, shown_value(before), shown_value(orjson.loads(c.current_json).get(key)))
        for key, before in orjson.loads(c.previous_json).items()]} for c in outcome.changes]
    return render("attributes_preview.html", session=session, changes=changes, changed=outcome.changed_count,
                  compared=outcome.member_count, fields_json=orjson.dumps(wanted).decode())


@routes.post("/portal/attributes/apply")
@portal_page
async def apply(request: web.Request, session, view: OrganizationView) -> web.StreamResponse:
    connection = await view.require_connection()
    form = await within_body_timeout(request, request.post())
    try:
        wanted = orjson.loads(str(form.get("fields", "")))
    except orjson.JSONDecodeError:
        wanted = None
    if not isinstance(wanted, list):
        raise ServiceError("INVALID_VALUE", "the mapping to save is missing; preview it again")
    await view.map_attributes(connection.connection_id, wanted, apply=True)
    return redirect("/portal/attributes")
