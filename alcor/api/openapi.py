"""/openapi.json, generated from the route table and the same attribute tables that validate."""

from __future__ import annotations

import re
from typing import Any

from alcor.api.routing import Router
from alcor.config import Config
from alcor.resources.base import SETTABLE, Attr, Resource

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
SUCCESS = {"create": "201", "delete": "204", "create_bulk": "201"}


def _attr_schema(attr: Attr) -> dict[str, Any]:
    schema = dict(attr.type.schema())
    if attr.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    if attr.doc:
        schema["description"] = attr.doc
    if attr.read != "all" or attr.create in ("A", "S", "W") or attr.update in ("A", "S", "W"):
        schema["x-alcor-policy"] = {"create": attr.create, "update": attr.update, "read": attr.read}
    return schema


def resource_schemas(resource: Resource) -> dict[str, dict[str, Any]]:
    """Return the response, create and update schemas of a resource."""
    props = {a.name: _attr_schema(a) for a in resource.attrs}
    create = {a.name: _attr_schema(a) for a in resource.attrs if a.create in SETTABLE}
    update = {a.name: _attr_schema(a) for a in resource.attrs if a.update in SETTABLE}
    required = [a.name for a in resource.attrs if a.create == "R"]
    return {
        resource.name: {"type": "object", "properties": props},
        f"{resource.name}_create": {
            "type": "object",
            "properties": create,
            "required": required,
            "additionalProperties": False,
        },
        f"{resource.name}_update": {
            "type": "object",
            "properties": update,
            "additionalProperties": False,
        },
    }


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
            op.setdefault("parameters", []).append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
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


def _operation(route: Any, resource: Resource | None) -> dict[str, Any]:
    status = SUCCESS.get(route.action or "", "200")
    op: dict[str, Any] = {
        "operationId": f"{route.method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', route.template)}",
        "responses": {
            status: {"description": "success"},
            "default": {
                "description": "NeutronError",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/NeutronError"}}
                },
            },
        },
    }
    if route.public:
        op["security"] = []
    if route.alias_of:
        op["x-alcor-alias-of"] = route.alias_of
    if resource is not None and route.action in ("create", "update"):
        ref = f"#/components/schemas/{resource.name}_{route.action}"
        op["requestBody"] = {
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": {resource.name: {"$ref": ref}}}
                }
            }
        }
    if resource is not None and route.action in ("show", "create", "update") and status != "204":
        op["responses"][status]["content"] = {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        resource.name: {"$ref": f"#/components/schemas/{resource.name}"}
                    },
                }
            }
        }
    return op
