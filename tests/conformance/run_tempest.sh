#!/usr/bin/env bash
# Run Tempest's network API tests against alcor (default) or real Neutron 29, with a real
# Keystone 30, all on 127.0.0.1. See tests/conformance/README.md and
# /work/shared/conformance/tempest.md for the reference setup this reproduces.
#
#   tests/conformance/run_tempest.sh [--target alcor|neutron] [--plugin|--plugin-only]
#       [--regex RE] [--keystone-port N] [--server-port N] [--neutron-db sqlite|mariadb] [--hold]
#
# Work dir: $ALCOR_CONFORMANCE_DIR, default <repo>/.conformance. Venvs there are reused.
# Everything this script starts is stopped when it exits, also on Ctrl-C.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=${ALCOR_CONFORMANCE_DIR:-$REPO/.conformance}
PYTHON=${PYTHON:-python3}
ALCOR_BIN=${ALCOR_BIN:-}

KEYSTONE_SPEC="keystone==30.0.0 gunicorn==27.0.1"
TEMPEST_SPEC="tempest==47.0.0 neutron-tempest-plugin==3.3.0"
CLIENTS_SPEC="python-openstackclient==10.5.0"
NEUTRON_SPEC="neutron==29.0.0 gunicorn==27.0.1 PyMySQL"
NETWORK_REGEX='^tempest\.api\.network\.'
PLUGIN_REGEX='^neutron_tempest_plugin\.api'

TARGET=alcor
SUITES=(network)
CUSTOM_REGEX=
KS_PORT=${KEYSTONE_PORT:-}
SERVER_PORT=${SERVER_PORT:-}
HOLD=0
NEUTRON_DB=sqlite

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
    case $1 in
        --target) TARGET=$2; shift ;;
        --plugin) SUITES=(network plugin) ;;
        --plugin-only) SUITES=(plugin) ;;
        --regex) CUSTOM_REGEX=$2; SUITES=(custom); shift ;;
        --keystone-port) KS_PORT=$2; shift ;;
        --server-port) SERVER_PORT=$2; shift ;;
        --hold) HOLD=1 ;;
        --neutron-db) NEUTRON_DB=$2; shift ;;
        -h|--help) usage 0 ;;
        *) echo "unknown argument: $1" >&2; usage 2 >&2 ;;
    esac
    shift
done
[[ $TARGET == alcor || $TARGET == neutron ]] || { echo "--target must be alcor or neutron" >&2; exit 2; }
[[ $NEUTRON_DB == sqlite || $NEUTRON_DB == mariadb ]] || { echo "--neutron-db: sqlite or mariadb" >&2; exit 2; }

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- cleanup: stop every process we started, whatever happens ---------------------------
PIDS=()
TEMPEST_PGID=
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    # tempest runs in its own process group (its test runner is a child process)
    if [[ -n $TEMPEST_PGID ]]; then kill -TERM -- "-$TEMPEST_PGID" 2>/dev/null || true; fi
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    ((${#PIDS[@]})) && log "stopped ${#PIDS[@]} process(es) we started"
    exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_http URL PID LOGFILE SECONDS: until URL answers 2xx-4xx, or PID dies, or time is up.
wait_http() {
    local url=$1 pid=$2 logfile=$3 deadline=$((SECONDS + $4)) code
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$logfile" >&2; die "process $pid exited; log: $logfile"; }
        code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
        [[ $code =~ ^[234] ]] && return 0
        sleep 0.3
    done
    tail -n 30 "$logfile" >&2
    die "$url did not answer within $4 s; log: $logfile"
}

# ensure_venv NAME "SPEC": create $WORK/venv-NAME and install SPEC unless already done.
ensure_venv() {
    local venv=$WORK/venv-$1 spec=$2
    if [[ -f $venv/.alcor-installed && $(<"$venv/.alcor-installed") == "$spec" ]]; then
        return 0
    fi
    log "installing $spec into $venv"
    [[ -x $venv/bin/python ]] || "$PYTHON" -m venv "$venv"
    # shellcheck disable=SC2086  # the spec is a list of requirements
    { "$venv/bin/pip" install -U pip setuptools wheel && "$venv/bin/pip" install $spec; } \
        > "$venv/install.log" 2>&1 || { tail -n 30 "$venv/install.log" >&2; die "pip failed"; }
    printf '%s' "$spec" > "$venv/.alcor-installed"
}

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
ensure_venv keystone "$KEYSTONE_SPEC"
ensure_venv tempest "$TEMPEST_SPEC"
ensure_venv clients "$CLIENTS_SPEC"
[[ $TARGET == neutron ]] && ensure_venv neutron "$NEUTRON_SPEC"

KS_PORT=${KS_PORT:-$(free_port)}
SERVER_PORT=${SERVER_PORT:-$(free_port)}
KS_URL=http://127.0.0.1:$KS_PORT/v3
SERVER_URL=http://127.0.0.1:$SERVER_PORT

# ---- Keystone: SQLite, fernet, bootstrap, gunicorn with 1 worker (fresh every run) ------
start_keystone() {
    local d=$WORK/keystone
    rm -rf "$d" && mkdir -p "$d"/{fernet,cred,receipts} && chmod 700 "$d"/{fernet,cred,receipts}
    cat > "$d/keystone.conf" <<EOF
[DEFAULT]
use_stderr = true
[database]
connection = sqlite:///$d/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = $d/fernet
[credential]
key_repository = $d/cred
[fernet_receipts]
# must be set too, or fernet_setup writes to /etc/keystone/fernet-keys
key_repository = $d/receipts
EOF
    cat > "$d/wsgi_ks.py" <<EOF
import os, sys
os.environ.setdefault("OS_KEYSTONE_CONFIG_DIR", "$d")
os.environ.setdefault("OS_KEYSTONE_CONFIG_FILES", "keystone.conf")
sys.argv = ["keystone-wsgi-public"]  # oslo.config parses sys.argv: hide gunicorn's
from keystone.wsgi.api import application  # noqa
EOF
    local km=("$WORK/venv-keystone/bin/keystone-manage" --config-file "$d/keystone.conf")
    log "keystone: db_sync, fernet, bootstrap"
    {
        "${km[@]}" db_sync
        "${km[@]}" fernet_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
        "${km[@]}" credential_setup --keystone-user "$(id -un)" --keystone-group "$(id -gn)"
        "${km[@]}" bootstrap --bootstrap-password pass --bootstrap-region-id RegionOne \
            --bootstrap-admin-url "$KS_URL" --bootstrap-public-url "$KS_URL"
    } > "$d/manage.log" 2>&1 || { tail -n 30 "$d/manage.log" >&2; die "keystone-manage failed"; }
    "$WORK/venv-keystone/bin/gunicorn" --chdir "$d" -b "127.0.0.1:$KS_PORT" -w 1 --graceful-timeout 5 \
        --pid "$d/ks.pid" wsgi_ks:application > "$d/ks.log" 2>&1 &
    PIDS+=($!)
    wait_http "$KS_URL" "$!" "$d/ks.log" 60
    log "keystone: $KS_URL"
}

# ---- MariaDB for Neutron (--neutron-db mariadb): a private server on a unix socket -------
# Neutron on SQLite can wedge in the long plugin suite ("database is locked" for every write
# after a router update), which is why the reference plugin numbers come from MariaDB.
start_mariadb() {
    local d=$WORK/mariadb me
    me=$(id -un)
    command -v mariadbd > /dev/null || die "mariadbd not found: apt-get install -y mariadb-server"
    rm -rf "$d" && mkdir -p "$d"
    mariadb-install-db --no-defaults --datadir="$d/data" --user="$me" \
        --auth-root-authentication-method=socket --auth-root-socket-user="$me" \
        > "$d/install.log" 2>&1 || { tail -n 30 "$d/install.log" >&2; die "mariadb-install-db failed"; }
    mariadbd --no-defaults --datadir="$d/data" --socket="$d/mysqld.sock" --skip-networking \
        --pid-file="$d/mysqld.pid" --user="$me" --log-error="$d/error.log" &
    PIDS+=($!)
    local pid=$! deadline=$((SECONDS + 60))
    until mariadb --no-defaults -S "$d/mysqld.sock" -u "$me" -e 'SELECT 1' > /dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$d/error.log" >&2; die "mariadbd exited"; }
        ((SECONDS < deadline)) || die "mariadbd did not start within 60 s; log: $d/error.log"
        sleep 0.3
    done
    mariadb --no-defaults -S "$d/mysqld.sock" -u "$me" -e "CREATE DATABASE neutron CHARACTER SET utf8;
        CREATE USER neutron@localhost IDENTIFIED BY 'pass';
        GRANT ALL PRIVILEGES ON neutron.* TO neutron@localhost;"
    NEUTRON_DB_URL="mysql+pymysql://neutron:pass@localhost/neutron?unix_socket=$d/mysqld.sock&charset=utf8"
    log "mariadb: $d/mysqld.sock"
}

# ---- Neutron 29: ML2, no agents, SQLite or MariaDB, Keystone auth -------------------------
start_neutron() {
    local d=$WORK/neutron venv=$WORK/venv-neutron
    rm -rf "$d" && mkdir -p "$d"/etc/plugins/ml2 "$d"/state "$d"/lock
    NEUTRON_DB_URL=sqlite:///$d/neutron.db
    [[ $NEUTRON_DB == mariadb ]] && start_mariadb
    cp "$venv/etc/neutron/api-paste.ini" "$d/etc/"
    cat > "$d/etc/neutron.conf" <<EOF
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
api_paste_config = $d/etc/api-paste.ini
bind_host = 127.0.0.1
bind_port = $SERVER_PORT
transport_url = fake:/
state_path = $d/state
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
debug = false
use_stderr = true
allow_overlapping_ips = true
[database]
connection = $NEUTRON_DB_URL
[oslo_concurrency]
lock_path = $d/lock
[oslo_messaging_notifications]
driver = noop
[keystone_authtoken]
www_authenticate_uri = $KS_URL
auth_url = $KS_URL
auth_type = password
username = neutron
password = pass
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
# keystonemiddleware looks for an internal identity endpoint by default; bootstrap makes none
interface = public
EOF
    cat > "$d/etc/plugins/ml2/ml2_conf.ini" <<EOF
[ml2]
type_drivers = local,flat,vxlan
tenant_network_types = local
mechanism_drivers =
extension_drivers = port_security
[ml2_type_vxlan]
vni_ranges = 1:1000
[securitygroup]
enable_security_group = true
firewall_driver = noop
EOF
    # neutron-db-manage upgrade fails on SQLite (ALTER of constraints): build from the models
    cat > "$d/create_schema.py" <<'EOF'
import sys
import sqlalchemy as sa
from neutron.db.migration.models import head
md = head.get_metadata()
md.create_all(sa.create_engine(sys.argv[1]))
print(f"created {len(md.tables)} tables")
EOF
    cat > "$d/wsgi_app.py" <<EOF
# oslo.config parses sys.argv, so hide gunicorn's and name the config files in the environment
import os, sys
os.environ.setdefault("OS_NEUTRON_CONFIG_DIR", "$d/etc")
os.environ.setdefault("OS_NEUTRON_CONFIG_FILES", "neutron.conf;plugins/ml2/ml2_conf.ini")
sys.argv = ["neutron-api"]
from neutron.wsgi.api import application  # noqa
EOF
    local manage=("$venv/bin/neutron-db-manage" --config-file "$d/etc/neutron.conf"
                  --config-file "$d/etc/plugins/ml2/ml2_conf.ini")
    log "neutron: schema ($NEUTRON_DB)"
    if [[ $NEUTRON_DB == mariadb ]]; then
        "${manage[@]}" upgrade heads > "$d/schema.log" 2>&1
    else
        # NOTE: the model-built schema lacks data that migrations insert (e.g. the default
        # security group rule templates), which one plugin test notices.
        { "$venv/bin/python" "$d/create_schema.py" "$NEUTRON_DB_URL" && "${manage[@]}" stamp heads; } \
            > "$d/schema.log" 2>&1
    fi || { tail -n 30 "$d/schema.log" >&2; die "neutron schema failed"; }
    "$venv/bin/gunicorn" --chdir "$d" -b "127.0.0.1:$SERVER_PORT" -w 1 --threads 1 \
        --timeout 120 --graceful-timeout 5 --pid "$d/api.pid" --log-level warning wsgi_app:application > "$d/api.log" 2>&1 &
    PIDS+=($!)
    wait_http "$SERVER_URL/" "$!" "$d/api.log" 120
    log "neutron: $SERVER_URL"
}

# ---- alcor: `alcor serve` with the keystone strategy ------------------------------------
start_alcor() {
    local d=$WORK/alcor bin=$ALCOR_BIN
    if [[ -z $bin ]]; then
        if [[ -x $REPO/.venv/bin/alcor ]]; then bin=$REPO/.venv/bin/alcor
        else bin=$(command -v alcor) || die "no alcor executable (set ALCOR_BIN)"; fi
    fi
    rm -rf "$d" && mkdir -p "$d"
    cat > "$d/alcor.toml" <<EOF
[server]
host = "127.0.0.1"
port = $SERVER_PORT
[store]
path = "$d/alcor.db"
[auth]
strategy = "keystone"
[auth.keystone]
auth_url = "$KS_URL"
username = "neutron"
password = "pass"
project_name = "service"
user_domain_name = "Default"
project_domain_name = "Default"
[southbound.grpc_server]
port = 0  # any free port: another alcor on this machine may hold the default 9016
EOF
    log "alcor: $bin serve --config $d/alcor.toml"
    "$bin" serve --config "$d/alcor.toml" > "$d/alcor.log" 2>&1 &
    PIDS+=($!)
    wait_http "$SERVER_URL/" "$!" "$d/alcor.log" 60
    log "alcor: $SERVER_URL"
}

# ---- tempest workspace and tempest.conf ---------------------------------------------------
write_tempest_conf() {
    local t=$WORK/tempest
    rm -rf "$t" && mkdir -p "$t"
    "$WORK/venv-tempest/bin/tempest" init --workspace-path "$t/tempest-workspaces.yaml" "$t/ws" \
        > "$t/init.log" 2>&1 || { cat "$t/init.log" >&2; die "tempest init failed"; }
    cat > "$t/ws/etc/tempest.conf" <<EOF
[DEFAULT]
log_file = tempest.log
log_dir = $t/ws/logs
# Logs every request and response body in tempest.log (only logging; results are unchanged).
debug = true
[oslo_concurrency]
lock_path = $t/ws/tempest_lock
[auth]
use_dynamic_credentials = true
admin_username = admin
admin_password = pass
admin_project_name = admin
admin_domain_name = Default
[identity]
uri_v3 = $KS_URL
auth_version = v3
region = RegionOne
[identity-feature-enabled]
api_v2 = false
[service_available]
neutron = true
nova = false
glance = false
cinder = false
swift = false
[network]
public_network_id = $PUBLIC_NETWORK_ID
floating_network_name = public
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
project_networks_reachable = false
shared_physical_network = false
[network-feature-enabled]
api_extensions = $API_EXTENSIONS
ipv6 = true
ipv6_subnet_attributes = true
EOF
}

# run_suite NAME REGEX: run tempest, keep its output, subunit and a summary; return its rc.
run_suite() {
    local name=$1 regex=$2 out rc=0 start end
    out=$RESULTS/$name
    mkdir -p "$out"
    log "tempest: $name ($regex) -> $out"
    start=$(date +%s.%N)
    # Own session and process group, so that cleanup can stop tempest and its test runner
    # together; `wait` (unlike a foreground command) lets the INT/TERM trap run at once.
    (cd "$WORK/tempest/ws" &&
        exec setsid "$WORK/venv-tempest/bin/tempest" run --concurrency 1 --regex "$regex") \
        > "$out/output.log" 2>&1 &
    TEMPEST_PGID=$!
    wait "$TEMPEST_PGID" || rc=$?
    TEMPEST_PGID=
    end=$(date +%s.%N)
    (cd "$WORK/tempest/ws" &&
        "$WORK/venv-tempest/bin/stestr" last --subunit > "$out/results.subunit" 2>/dev/null
        "$WORK/venv-tempest/bin/stestr" failing --list > "$out/failing.txt" 2>/dev/null) || true
    cp "$WORK/tempest/ws/logs/tempest.log" "$out/" 2>/dev/null || true
    grep -E ' \.\.\. SKIPPED: ' "$out/output.log" > "$out/skipped.txt" || true
    local ran passed skipped failed
    ran=$(sed -nE 's/^Ran: ([0-9]+) tests.*/\1/p' "$out/output.log" | tail -n 1)
    passed=$(sed -nE 's/^ - Passed: ([0-9]+)/\1/p' "$out/output.log" | tail -n 1)
    skipped=$(sed -nE 's/^ - Skipped: ([0-9]+)/\1/p' "$out/output.log" | tail -n 1)
    failed=$(sed -nE 's/^ - Failed: ([0-9]+)/\1/p' "$out/output.log" | tail -n 1)
    {
        echo "target:   $TARGET ($SERVER_URL)$([[ $TARGET == neutron ]] && echo " on $NEUTRON_DB"), keystone $KS_URL"
        echo "suite:    $name  regex: $regex"
        echo "date:     $(date -u +%Y-%m-%dT%H:%M:%SZ)  host: $(hostname)  cpus: $(nproc)"
        echo "result:   Ran ${ran:-?}  Passed ${passed:-?}  Skipped ${skipped:-?}  Failed ${failed:-?}"
        printf 'wall:     %s s  (tempest rc %d)\n' \
            "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')" "$rc"
        echo "command:  cd $WORK/tempest/ws && tempest run --concurrency 1 --regex '$regex'"
    } | tee "$out/summary.txt" >&2
    if [[ -s $out/failing.txt ]]; then
        log "failing tests ($out/failing.txt):"
        sed 's/^/    /' "$out/failing.txt" >&2
    fi
    [[ $rc -eq 0 && ${failed:-1} -eq 0 ]]
}

export OS_AUTH_URL=$KS_URL OS_IDENTITY_API_VERSION=3 OS_USERNAME=admin OS_PASSWORD=pass \
       OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
       OS_REGION_NAME=RegionOne OS_INTERFACE=public
CLOUD=("$WORK/venv-clients/bin/python" "$HERE/cloud.py")

start_keystone
"${CLOUD[@]}" identity --server-url "$SERVER_URL"
"start_$TARGET"
"${CLOUD[@]}" network --env-file "$WORK/network.env"
# shellcheck source=/dev/null
source "$WORK/network.env"
write_tempest_conf

if ((HOLD)); then
    log "set up; OS_* for the admin: source <(env | grep ^OS_ | sed 's/^/export /')"
    env | grep '^OS_' | sed 's/^/    export /' >&2
    log "server under test: $SERVER_URL; tempest workspace: $WORK/tempest/ws. Ctrl-C to stop."
    while kill -0 "${PIDS[@]}" 2>/dev/null; do sleep 1; done
    die "a process we started exited"
fi

RESULTS=$WORK/results/$TARGET-$(date +%Y%m%d-%H%M%S)
mkdir -p "$RESULTS" && ln -sfn "$RESULTS" "$WORK/results/latest"
status=0
for suite in "${SUITES[@]}"; do
    case $suite in
        network) run_suite tempest.api.network "$NETWORK_REGEX" || status=1 ;;
        plugin) run_suite neutron_tempest_plugin.api "$PLUGIN_REGEX" || status=1 ;;
        custom) run_suite custom "$CUSTOM_REGEX" || status=1 ;;
    esac
done
log "results in $RESULTS"
exit "$status"
