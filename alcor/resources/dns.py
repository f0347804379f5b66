"""DNS names of ports and floating IPs (dns-integration, dns-domain-ports)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from alcor.resources.types import Invalid, Type

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# The same in JSON Schema terms (no lookarounds): a label, labels joined by dots, a final dot.
_LABEL_TEXT = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_NAME = rf"{_LABEL_TEXT}(\.{_LABEL_TEXT})*\.?"
_DOMAIN = rf"{_LABEL_TEXT}(\.{_LABEL_TEXT})+\.?"


def _labels(value: str) -> list[str]:
    return value[:-1].split(".") if value.endswith(".") else value.split(".")


class DnsName(Type):
    """A host name or FQDN of labels [A-Za-z0-9-] (1-63, no edge hyphen); "" for none."""

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Invalid(f"'{value}' is not a valid DNS name")
        if value == "":
            return value
        if len(value) > 255 or not all(_LABEL.match(label) for label in _labels(value)):
            raise Invalid(f"'{value}' is not a valid DNS name")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": 255, "pattern": f"^({_NAME})?$"}


class DnsDomain(DnsName):
    """A DNS domain ("example.org."): a DNS name of at least two labels, or ""."""

    def convert(self, value: Any) -> str:
        out = super().convert(value)
        if out and len(_labels(out)) < 2:
            raise Invalid(f"'{value}' is not a valid DNS domain: it needs two labels")
        return out

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": 255, "pattern": f"^({_DOMAIN})?$"}


def hostname_of(ip: str) -> str:
    """Return the host name Neutron gives an address without a DNS name: host-10-0-0-3."""
    return "host-" + ip.replace(".", "-").replace(":", "-")


def assignments(port: Mapping[str, Any], default_domain: str) -> list[dict[str, str]]:
    """Return a port's dns_assignment: one host name and FQDN per fixed IP."""
    fixed_ips = port.get("fixed_ips")
    if not fixed_ips:
        return []
    domain = port.get("dns_domain") or default_domain
    if not domain.endswith("."):
        domain += "."
    name = port.get("dns_name")
    out = []
    for fixed in fixed_ips:
        ip = fixed["ip_address"]
        hostname = name or hostname_of(ip)
        out.append({"hostname": hostname, "ip_address": ip, "fqdn": hostname + "." + domain})
    return out
