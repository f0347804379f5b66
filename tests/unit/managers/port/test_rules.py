"""Pure port rules: binding, initial status, DHCP options, address pairs, security."""

from __future__ import annotations

import pytest

from alcor import errors
from alcor.managers.port import rules


def test_binding_of_each_situation():
    """Unbound, unknown host, non-normal vnic and a known node map to §5.4's vif types."""
    assert rules.binding_of("", "normal", None)["binding:vif_type"] == "unbound"
    assert rules.binding_of("h", "normal", None)["binding:vif_type"] == "binding_failed"
    assert (
        rules.binding_of("h", "direct", {"node_name": "h"})["binding:vif_type"] == "binding_failed"
    )
    bound = rules.binding_of("h", "normal", {"node_name": "h"})
    assert bound == {
        "binding:vif_type": "ovs",
        "binding:vif_details": {
            "port_filter": True,
            "ovs_hybrid_plug": False,
            "bridge_name": "br-int",
        },
    }


def test_initial_status_by_owner():
    """Router ports start ACTIVE, floating IP ports N/A, everything else DOWN."""
    assert rules.initial_status("network:router_interface") == "ACTIVE"
    assert rules.initial_status("network:router_gateway") == "ACTIVE"
    assert rules.initial_status("network:floatingip") == "N/A"
    assert rules.initial_status("compute:nova") == "DOWN"


def test_dhcp_options_merge_on_update():
    """Options default to IPv4; on update null deletes and others replace by (name, version)."""
    current = rules.normalize_dhcp_opts(
        [{"opt_name": "a", "opt_value": "1"}, {"opt_name": "b", "opt_value": "2"}]
    )
    merged = rules.normalize_dhcp_opts(
        [{"opt_name": "a", "opt_value": None}, {"opt_name": "b", "opt_value": "3"}], current
    )
    assert merged == [{"opt_name": "b", "opt_value": "3", "ip_version": 4}]
    with pytest.raises(errors.HTTPBadRequest):
        rules.normalize_dhcp_opts([{"opt_name": "a", "opt_value": None}])


def test_pairs_and_security_rules():
    """Pairs get the port MAC, are capped and unique; groups need port security, not IPs."""
    port = {
        "mac_address": "fa:16:3e:00:00:01",
        "port_security_enabled": True,
        "allowed_address_pairs": [{"ip_address": "10.0.0.5"}],
        "fixed_ips": [],
        "security_groups": [],
    }
    rules.check_pairs(port, 10)
    assert port["allowed_address_pairs"][0]["mac_address"] == "fa:16:3e:00:00:01"
    with pytest.raises(errors.AllowedAddressPairExhausted):
        rules.check_pairs(port, 0)
    rules.check_security({**port, "security_groups": ["g"]}, groups_given=True)
    with pytest.raises(errors.PortSecurityAndIPRequiredForSecurityGroups):
        rules.check_security(
            {**port, "port_security_enabled": False, "security_groups": ["g"]}, groups_given=True
        )
    with pytest.raises(errors.PortSecurityPortHasSecurityGroup):
        rules.check_security(
            {**port, "port_security_enabled": False, "security_groups": ["g"]}, groups_given=False
        )
