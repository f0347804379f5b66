"""Prepare a Keystone + network endpoint for a Tempest run (used by run_tempest.sh).

Runs in the clients venv (openstacksdk) as the bootstrap admin, whose credentials come
from the OS_* environment variables. One process instead of a dozen `openstack` calls,
each of which costs about a second of start-up.

    python cloud.py identity --server-url http://127.0.0.1:9696
        service project, `neutron` user (admin on it), `network` service and its
        public/internal/admin endpoints pointing at the server under test
    python cloud.py network --env-file vars.sh
        the external network `public` + 172.24.4.0/24 (as admin, through the catalog);
        writes PUBLIC_NETWORK_ID and API_EXTENSIONS (from GET /v2.0/extensions)
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from typing import Any

import openstack

SERVICE_PROJECT = "service"
SERVICE_USER = "neutron"
SERVICE_PASSWORD = "pass"
REGION = "RegionOne"
PUBLIC_NETWORK = "public"
PUBLIC_SUBNET = "public-subnet"
PUBLIC_CIDR = "172.24.4.0/24"


def connect() -> Any:
    """Connect as the admin named by the OS_* environment variables."""
    env = os.environ
    return openstack.connect(
        auth_url=env["OS_AUTH_URL"],
        username=env["OS_USERNAME"],
        password=env["OS_PASSWORD"],
        project_name=env["OS_PROJECT_NAME"],
        user_domain_name=env.get("OS_USER_DOMAIN_NAME", "Default"),
        project_domain_name=env.get("OS_PROJECT_DOMAIN_NAME", "Default"),
        region_name=env.get("OS_REGION_NAME", REGION),
        interface="public",
    )


def setup_identity(conn: Any, server_url: str) -> None:
    """Create the service account and the `network` catalog entry (idempotent)."""
    idn = conn.identity
    domain = idn.find_domain("default", ignore_missing=False)
    project = idn.find_project(SERVICE_PROJECT, domain_id=domain.id) or idn.create_project(
        name=SERVICE_PROJECT, domain_id=domain.id, description="service accounts"
    )
    user = idn.find_user(SERVICE_USER, domain_id=domain.id) or idn.create_user(
        name=SERVICE_USER, domain_id=domain.id, password=SERVICE_PASSWORD
    )
    admin = idn.find_role("admin", ignore_missing=False)
    idn.assign_project_role_to_user(project, user, admin)
    service = next(iter(idn.services(type="network")), None) or idn.create_service(
        name="neutron", type="network", description="server under test"
    )
    for endpoint in list(idn.endpoints(service_id=service.id)):
        idn.delete_endpoint(endpoint)
    for interface in ("public", "internal", "admin"):
        idn.create_endpoint(
            service_id=service.id, interface=interface, url=server_url, region_id=REGION
        )
    print(f"identity: project {project.id}, user {user.id}, network -> {server_url}")


def setup_network(conn: Any, env_file: str) -> None:
    """Create the external network and write its id and the extension aliases."""
    net = conn.network
    public = net.find_network(PUBLIC_NETWORK) or net.create_network(
        name=PUBLIC_NETWORK, is_router_external=True
    )
    if not net.find_subnet(PUBLIC_SUBNET, network_id=public.id):
        net.create_subnet(name=PUBLIC_SUBNET, network_id=public.id, cidr=PUBLIC_CIDR, ip_version=4)
    aliases = sorted(ext.alias for ext in net.extensions())
    with open(env_file, "w", encoding="utf-8") as out:
        out.write(f"PUBLIC_NETWORK_ID={shlex.quote(public.id)}\n")
        out.write(f"API_EXTENSIONS={shlex.quote(','.join(aliases))}\n")
    print(f"network: public {public.id}, {len(aliases)} extensions")


def main(argv: list[str]) -> int:
    """Run one sub-command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    identity = sub.add_parser("identity")
    identity.add_argument("--server-url", required=True)
    network = sub.add_parser("network")
    network.add_argument("--env-file", required=True)
    args = parser.parse_args(argv)
    conn = connect()
    if args.command == "identity":
        setup_identity(conn, args.server_url)
    else:
        setup_network(conn, args.env_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
