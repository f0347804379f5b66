"""schemathesis hooks: a stricter reading of "a request valid by the schema is accepted".

schemathesis.toml lets a schema-valid request be refused with 400, because Neutron has rules
that JSON Schema cannot state (see there). This check keeps that allowance from hiding
schema gaps: a 400 `HTTPBadRequest` (the type of syntax errors: wrong type, format, pattern,
length, unknown or missing attribute) on a schema-valid request fails, unless its reason is
one of the few that no schema can state. Semantic refusals carry their own NeutronError
types (InvalidInput, BadRequest, SecurityGroupRule..., InvalidRoutes, ...) and pass.
"""

from __future__ import annotations

import json

import schemathesis

# HTTPBadRequest reasons that depend on something a JSON Schema cannot express.
NOT_IN_ANY_SCHEMA = (
    "isn't a recognized IP subnet cidr",  # host bits set in a CIDR
    "'project_id' and 'tenant_id' do not match",  # two attributes that must agree
    "project_id does not match the path project",  # a body attribute against the path
    "needs agent_type",  # a node's transport against its agent type
    "other than the authenticated project",  # who the caller is
    "must be greater than or equal to already used",  # a quota against current usage
    "Duplicate items in the list",  # different texts of one value (CIDRs, after normalizing)
    "Must specify both segmentation_id and segmentation_type",  # a subport's two attributes
    "is not unique",  # subports: one (type, id) per list (pairs across items)
    "Non unique UUID for subport",  # subports: one port per list (across items)
)


@schemathesis.check
def schema_valid_request_is_not_malformed(ctx, response, case):
    """A schema-valid request is never refused as malformed (HTTPBadRequest)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 400:
        return None
    try:
        error = json.loads(response.content)["NeutronError"]
    except (ValueError, KeyError, TypeError):
        raise AssertionError(f"400 without NeutronError: {response.content[:200]!r}") from None
    if error["type"] != "HTTPBadRequest":
        return None
    if any(reason in error["message"] for reason in NOT_IN_ANY_SCHEMA):
        return None
    raise AssertionError(f"schema-valid request refused as malformed: {error['message']}")
