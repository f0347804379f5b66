"""/openapi.json, generated from the route table and the same attribute tables that validate."""

from __future__ import annotations

import re
from typing import Any

from alcor.api.routing import Router
from alcor.config import Config
from alcor.resources.base import SETTABLE, TAG, Attr, Resource
from alcor.resources.types import String

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "NeutronError": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "message": {"type": "string"},
                "detail": {"type": "string"},
            },
            "required": ["type", "message", "detail"],
        }
    },
    "required": ["NeutronError"],
}
# Path parameters validated as such (others are ids: anything, unknown ones are 404).
PATH_PARAMS = {"tag": TAG.schema(), "project_id": String(255).schema()}
# Subnets need a CIDR unless a subnet pool chooses one.
CREATE_ANY_OF = {
    "subnet": [
        {"required": ["cidr"]},
        {"required": ["subnetpool_id"]},
        {"required": ["use_default_subnetpool"]},
    ]
}


def _attr_schema(attr: Attr, served: bool = False) -> dict[str, Any]:
    shown = attr.served if served and attr.served is not None else attr.type
    schema = dict(shown.schema())
    if attr.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    if attr.doc:
        schema["description"] = attr.doc
    if attr.read != "all" or attr.create in ("A", "S", "W") or attr.update in ("A", "S", "W"):
        schema["x-alcor-policy"] = {"create": attr.create, "update": attr.update, "read": attr.read}
    return schema


def resource_schemas(resource: Resource) -> dict[str, dict[str, Any]]:
    """Return the response, create and update schemas of a resource."""
    props = {a.name: _attr_schema(a, served=True) for a in resource.attrs if a.read != "never"}
    create = {a.name: _attr_schema(a) for a in resource.attrs if a.create in SETTABLE}
    update = {a.name: _attr_schema(a) for a in resource.attrs if a.update in SETTABLE}
    required = [a.name for a in resource.attrs if a.create == "R"]
    schemas: dict[str, dict[str, Any]] = {
        resource.name: {"type": "object", "properties": props},
        f"{resource.name}_create": {
            "type": "object",
            "properties": create,
            "required": required,
            "additionalProperties": False,
        },
        # On /project/{p}/... the path names the project: a body project_id must equal it.
        f"{resource.name}_create_native": {
            "type": "object",
            "properties": {k: v for k, v in create.items() if k not in ("project_id", "tenant_id")},
            "required": required,
            "additionalProperties": False,
        },
        f"{resource.name}_update": {
            "type": "object",
            "properties": update,
            "additionalProperties": False,
        },
    }
    if resource.name in CREATE_ANY_OF:
        for key in (f"{resource.name}_create", f"{resource.name}_create_native"):
            schemas[key]["anyOf"] = CREATE_ANY_OF[resource.name]
    return schemas


def openapi_document(router: Router, config: Config) -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every served route."""
    from alcor.api.routes import RESOURCE_APIS

    resources = {api.resource.name: api.resource for api in RESOURCE_APIS}
    schemas: dict[str, Any] = {"NeutronError": ERROR_SCHEMA}
    for resource in resources.values():
        schemas.update(resource_schemas(resource))
    paths: dict[str, dict[str, Any]] = {}
    for route in router.routes:
        op = _operation(route, resources.get(route.resource or ""))
        paths.setdefault(route.template, {})[route.method.lower()] = op
        for name in re.findall(r"{(\w+)}", route.template):
            schema = PATH_PARAMS.get(name, {"type": "string"})
            op.setdefault("parameters", []).append(
                {"name": name, "in": "path", "required": True, "schema": schema}
            )
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "alcor network API", "version": "2.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    if config.auth.strategy in ("token", "keystone"):
        doc["components"]["securitySchemes"] = {
            "token": {"type": "apiKey", "in": "header", "name": "X-Auth-Token"},
            "bearer": {"type": "http", "scheme": "bearer"},
        }
        doc["security"] = [{"token": []}, {"bearer": []}]
    return doc


def _success(route: Any) -> str:
    """Return the status a route answers on success."""
    if route.action == "tag":  # GET answers 204 when present, PUT 201, DELETE 204
        return {"GET": "204", "PUT": "201"}.get(route.method, "204")
    if route.method == "DELETE":
        return "204"
    if route.action in ("create", "create_bulk") or route.template == "/nodes/bulk":
        return "201"
    if route.template.endswith("/southbound/resync"):
        return "202"
    if route.method == "POST" and route.template.endswith("/service_profiles"):
        return "201"  # binding a service profile to a flavor creates the binding
    return "200"


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def wrapped(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: schema},
        "required": [key],
        "additionalProperties": False,
    }


def bulk_update_body(resource: Resource) -> dict[str, Any]:
    """Return the body of a native bulk update: `{<collection>: [{"id", <changes>}, ...]}`."""
    item = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            **{a.name: _attr_schema(a) for a in resource.attrs if a.update in SETTABLE},
        },
        "required": ["id"],
        "additionalProperties": False,
    }
    return wrapped(resource.collection, {"type": "array", "items": item, "minItems": 1})


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _request_body(route: Any, resource: Resource) -> dict[str, Any] | None:
    """Return the request body of a create or update route, as the handlers accept it."""
    native = route.template.startswith("/project/")
    create = _ref(f"{resource.name}_create{'_native' if native else ''}")
    bulk = wrapped(resource.collection, {"type": "array", "items": create, "minItems": 1})
    if route.action == "create":
        return _json({"anyOf": [wrapped(resource.name, create), bulk]})
    if route.action == "create_bulk":
        return _json(bulk)
    if route.action == "update":
        return _json(wrapped(resource.name, _ref(f"{resource.name}_update")))
    if route.action == "tags" and route.method == "PUT":
        return _json(wrapped("tags", resource.by_name["tags"].type.schema()))
    return None


def _response_body(route: Any, resource: Resource) -> dict[str, Any] | None:
    """Return the JSON body a resource route answers with on success."""
    one = _ref(resource.name)
    single = wrapped(resource.name, one)
    plural = {  # lists may add "<collection>_links"
        "type": "object",
        "properties": {resource.collection: {"type": "array", "items": one}},
        "required": [resource.collection],
    }
    if route.action in ("show", "update"):
        return single
    if route.action == "create":
        return {"anyOf": [single, plural]}
    if route.action in ("list", "create_bulk"):
        return plural
    if route.action == "tags" and route.method != "DELETE":
        return wrapped("tags", resource.by_name["tags"].type.schema())
    return None


def _operation(route: Any, resource: Resource | None) -> dict[str, Any]:
    status = _success(route)
    op: dict[str, Any] = {
        "operationId": f"{route.method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', route.template)}",
        "responses": {
            status: {"description": "success"},
            "default": {"description": "NeutronError", **_json(_ref("NeutronError"))},
        },
    }
    if route.public:
        op["security"] = []
    if route.alias_of:
        op["x-alcor-alias-of"] = route.alias_of
    if route.body is not None:
        op["requestBody"] = {"required": True, **_json(route.body)}
    if resource is None:
        return op
    body = _request_body(route, resource)
    if body is not None:
        op["requestBody"] = {"required": True, **body}
    answer = _response_body(route, resource)
    if (answer is not None and status not in ("201", "204")) or (
        answer is not None and route.action in ("create", "create_bulk")
    ):
        op["responses"][status].update(_json(answer))
    return op
