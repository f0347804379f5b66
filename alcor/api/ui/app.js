// alcor's live page: lists once, then follows GET /v2.0/watch; no build step, no framework.
"use strict";

const RESOURCES = {
  network: "/v2.0/networks",
  subnet: "/v2.0/subnets",
  port: "/v2.0/ports",
  router: "/v2.0/routers",
  host_info: "/nodes",
  gateway: "/v2.0/gateways", // Zeta gateways (empty unless [zeta] is enabled)
};
const KEY = { host_info: "node_id" };
const state = {
  objects: Object.fromEntries(Object.keys(RESOURCES).map((r) => [r, new Map()])),
  deleted: new Map(), // "resource/id" -> revision of its delete (a late list must not revive it)
  delivery: new Map(), // node_id -> the "southbound" object of GET /nodes/{id}
  hostsHidden: false, // /nodes is admin-only
  events: [],
  cursor: null,
};
const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const short = (id) => (id ? esc(id.slice(0, 8)) : "");
const badge = (text, cls = text) => `<span class="badge ${esc(cls)}">${esc(text)}</span>`;

// ---- talking to alcor ------------------------------------------------------------------
function headers() {
  const token = sessionStorage.getItem("alcor-token");
  return token ? { "X-Auth-Token": token } : {};
}

async function api(path, method = "GET") {
  const resp = await fetch(path, { method, headers: headers() });
  if (resp.status === 401) {
    $("login").hidden = false;
    throw new Error("unauthorized");
  }
  if (!resp.ok) throw Object.assign(new Error(`${path}: ${resp.status}`), { status: resp.status });
  return resp.json();
}

function apply(resource, obj, type, revision) {
  const map = state.objects[resource];
  if (!map) return;
  const id = obj[KEY[resource] || "id"];
  const key = `${resource}/${id}`;
  if (type === "DELETED") {
    state.deleted.set(key, revision);
    map.delete(id);
    return;
  }
  if ((state.deleted.get(key) ?? -1) >= revision) return;
  const current = map.get(id);
  if (!current || (current.revision_number ?? 0) <= revision) map.set(id, obj);
}

async function loadAll() {
  await Promise.all(
    Object.entries(RESOURCES).map(async ([resource, path]) => {
      try {
        const body = await api(path);
        const items = Object.values(body).find(Array.isArray) || [];
        for (const obj of items) listed(resource, obj);
      } catch (err) {
        if (resource === "host_info" && err.status === 403) state.hostsHidden = true;
        else throw err;
      }
    })
  );
  await refreshDelivery();
  render();
}

// The stream opens before the lists, so an event may land first. A status change keeps the
// revision: a listed object at the revision an event already brought may be older than it
// (or newer). Ask for the object as it is now instead of keeping either.
function listed(resource, obj) {
  const id = obj[KEY[resource] || "id"];
  const revision = obj.revision_number ?? 0;
  const current = state.objects[resource]?.get(id);
  apply(resource, obj, "LISTED", revision);
  if (current && (current.revision_number ?? 0) === revision) {
    refetch(resource, id).catch(() => {});
  }
}

async function refreshDelivery() {
  if (state.hostsHidden) return;
  await Promise.all(
    [...state.objects.host_info.keys()].map(async (id) => {
      try {
        const body = await api(`/nodes/${encodeURIComponent(id)}`);
        state.delivery.set(id, body.host_info.southbound);
      } catch (err) {
        state.delivery.delete(id);
      }
    })
  );
}

// The stream opens first and lists follow: apply() keeps the newest revision either way.
async function watch() {
  for (;;) {
    try {
      const query = new URLSearchParams({ resources: Object.keys(RESOURCES).join(",") });
      if (state.cursor) query.set("since", state.cursor);
      const resp = await fetch(`/v2.0/watch?${query}`, { headers: headers() });
      if (resp.status === 410) {
        state.cursor = null; // fell behind retention: list again
        state.loaded = false;
      }
      if (!resp.ok) throw new Error(`watch: ${resp.status}`);
      setLive(true);
      if (!state.loaded) {
        state.loaded = true;
        loadAll().catch(showError);
      }
      await readLines(resp.body.getReader(), onEvent);
    } catch (err) {
      console.warn(err);
    }
    setLive(false);
    await new Promise((r) => setTimeout(r, 1500));
  }
}

async function readLines(reader, onLine) {
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
}

function onEvent(event) {
  if (event.cursor) state.cursor = event.cursor;
  if (event.type === "HEARTBEAT" || event.type === "ERROR") return;
  const current = state.objects[event.resource]?.get(event.object?.[KEY[event.resource] || "id"]);
  apply(event.resource, event.object, event.type, event.revision_number);
  // A status change keeps the revision: an event at the revision we already hold may be
  // older than what the list showed (or newer). Ask for the object as it is now.
  if (event.type === "UPDATED" && current && current.revision_number === event.revision_number) {
    refetch(event.resource, event.id).catch(() => {});
  }
  state.events.unshift({ ...event, at: new Date() });
  state.events.length = Math.min(state.events.length, 60);
  scheduleRender();
}

async function refetch(resource, id) {
  const body = await api(`${RESOURCES[resource]}/${encodeURIComponent(id)}`);
  const obj = Object.values(body)[0];
  if (obj) apply(resource, obj, "UPDATED", obj.revision_number ?? 0);
  scheduleRender();
}

// ---- rendering ---------------------------------------------------------------------------
let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  // A timer, not requestAnimationFrame: Chromium may hold animation frames back (a hidden or
  // throttled tab), and a frame that never comes would leave `pending` set for good.
  setTimeout(() => {
    pending = false;
    render();
  }, 16);
}

function setLive(on) {
  const el = $("live");
  el.className = `live ${on ? "on" : "off"}`;
  el.textContent = on ? "live" : "reconnecting…";
}

function showError(err) {
  $("attention").hidden = false;
  $("problems").innerHTML = `<li>${esc(err.message)}</li>`;
}

const values = (resource) => [...state.objects[resource].values()];
const matches = (obj) => {
  const q = $("filter").value.trim().toLowerCase();
  return !q || JSON.stringify(obj).toLowerCase().includes(q);
};

function render() {
  const [networks, subnets, ports, routers, hosts, gateways] = Object.keys(RESOURCES).map(values);
  $("counts").textContent =
    `${networks.length} networks · ${subnets.length} subnets · ${ports.length} ports · ` +
    `${routers.length} routers · ${state.hostsHidden ? "hosts: admin only" : `${hosts.length} hosts`}`;
  $("cursor").textContent = state.cursor ? `cursor ${state.cursor}` : "";
  renderProblems(ports, hosts, gateways);
  renderHosts(hosts, ports);
  renderNetworks(networks, subnets, ports, gateways);
  renderRouters(routers, ports, subnets);
  renderPorts(ports);
  renderEvents();
}

function deliveryTotals(southbound) {
  const totals = { acked: 0, pending: 0, error: 0 };
  for (const counts of Object.values(southbound?.resources || {})) {
    totals.acked += counts.acked || 0;
    totals.pending += counts.unacked || 0;
    totals.error += counts.error || 0;
  }
  totals.pending += southbound?.pending_states || 0;
  return totals;
}

function renderProblems(ports, hosts, gateways) {
  const problems = [];
  for (const g of gateways) {
    if (g.status !== "ERROR") continue;
    const net = state.objects.network.get(g.network_id);
    problems.push(`gateway of network ${net?.name || g.network_id} is ERROR: ${g.last_error || "?"}`);
  }
  for (const p of ports) {
    if (p.status === "ERROR") problems.push(`port ${p.name || p.id} is ERROR`);
    if (p["binding:vif_type"] === "binding_failed") {
      const why = p["binding:vif_details"]?.reason || "binding failed";
      problems.push(`port ${p.name || p.id} on ${p["binding:host_id"]}: ${why}`);
    }
  }
  for (const h of hosts) {
    const sb = state.delivery.get(h.node_id);
    if (sb && sb.connected === false) problems.push(`host ${h.node_name} is not connected`);
    if (sb?.last_error) problems.push(`host ${h.node_name}: ${sb.last_error}`);
    if (deliveryTotals(sb).error) problems.push(`host ${h.node_name} refused some states`);
    const audit = sb?.last_audit;
    if (audit && !audit.clean) problems.push(`host ${h.node_name}: ${auditText(audit)}`);
  }
  $("attention").hidden = problems.length === 0;
  $("problems").innerHTML = problems.map((p) => `<li>${esc(p)}</li>`).join("");
}

function renderHosts(hosts, ports) {
  if (state.hostsHidden) {
    $("hosts").innerHTML = `<div class="empty">The node registry is admin-only.</div>`;
    return;
  }
  const rows = hosts.filter(matches).sort((a, b) => a.node_name.localeCompare(b.node_name));
  $("hosts").innerHTML =
    rows
      .map((h) => {
        const sb = state.delivery.get(h.node_id);
        const t = deliveryTotals(sb);
        const onHost = ports.filter((p) => p["binding:host_id"] === h.node_name);
        const cls = !sb || sb.connected === false || t.error ? "down" : t.pending ? "busy" : "";
        return `<div class="card ${cls}" data-host="${esc(h.node_name)}">
          <h3><span>${esc(h.node_name)}</span>${badge(h.transport, "tag")}</h3>
          <div class="meta mono">${esc(h.local_ip)} · ${onHost.length} ports ·
            ${sb ? (sb.connected ? "connected" : "not connected") : "no delivery state"}</div>
          <div class="bars">
            <span class="acked"><b>${t.acked}</b>acked</span>
            <span class="pending"><b>${t.pending}</b>pending</span>
            <span class="error"><b>${t.error}</b>errors</span>
          </div>
          ${sb?.last_error ? `<div class="error-text">${esc(sb.last_error)}</div>` : ""}
          ${sb ? auditLine(h.node_id, sb.last_audit) : ""}
        </div>`;
      })
      .join("") || `<div class="empty">No hosts registered.</div>`;
}

// ---- drift audit: what the agent holds against what alcor says it should ------------------
function auditText(audit) {
  if (audit.error) return `audit failed: ${audit.error}`;
  if (audit.clean) return "in sync";
  return `drift: ${audit.missing} missing, ${audit.stale} stale, ${audit.extra} extra`;
}

function auditLine(nodeId, audit) {
  const id = esc(nodeId);
  const when = audit ? ` · ${new Date(audit.checked_at * 1000).toLocaleTimeString()}` : "";
  const cls = !audit ? "" : audit.clean ? "clean" : "drift";
  const repair = audit && !audit.clean ? `<button data-repair="${id}">Repair</button>` : "";
  return `<div class="audit ${cls}"><span>${audit ? esc(auditText(audit)) : "not audited"}${esc(when)}</span>
    <button data-audit="${id}">Audit</button>${repair}</div>`;
}

async function runAudit(nodeId, repair) {
  const base = `/nodes/${encodeURIComponent(nodeId)}/southbound/`;
  try {
    let body = await api(base + (repair ? "repair" : "audit"), repair ? "POST" : "GET");
    // A repair answers with the drift it found; its pushes land shortly: audit again.
    for (let i = 0; repair && i < 10 && !body.audit.clean; i++) {
      await new Promise((r) => setTimeout(r, 500));
      body = await api(base + "audit");
    }
    const sb = state.delivery.get(nodeId);
    if (sb) sb.last_audit = { ...body.audit, ...summaryOf(body.audit) };
  } catch (err) {
    showError(err);
  }
  scheduleRender();
}

function summaryOf(audit) {
  const kinds = Object.values(audit.kinds || {});
  const count = (what) => kinds.reduce((n, k) => n + (k[what]?.length || 0), 0);
  return { missing: count("missing"), stale: count("stale"), extra: count("extra") };
}

function gatewayCell(gateway) {
  if (!gateway) return "—";
  const pending = gateway.pending_operations ? `${gateway.pending_operations} pending` : "";
  const detail = gateway.last_error ? esc(gateway.last_error) : esc(pending);
  return `${badge(gateway.status)}<span class="sub">${detail}</span>`;
}

function renderNetworks(networks, subnets, ports, gateways) {
  const rows = networks.filter(matches).sort((a, b) => (a.name || "").localeCompare(b.name || ""));
  $("networks").tBodies[0].innerHTML =
    rows
      .map((n) => {
        const own = subnets.filter((s) => s.network_id === n.id);
        const flags = [n.shared && badge("shared", "tag"), n["router:external"] && badge("external", "tag")];
        return `<tr data-network="${esc(n.id)}">
          <td>${esc(n.name || "(no name)")} ${flags.filter(Boolean).join(" ")}<span class="sub mono">${short(n.id)}</span></td>
          <td>${own.map((s) => `<code>${esc(s.cidr)}</code> ${esc(s.name)}<span class="sub">gw ${esc(s.gateway_ip || "none")}</span>`).join("") || "—"}</td>
          <td>${ports.filter((p) => p.network_id === n.id).length}</td>
          <td class="gateway">${gatewayCell(gateways.find((g) => g.network_id === n.id))}</td>
          <td>${badge(n.status)}</td></tr>`;
      })
      .join("") || `<tr><td colspan="5" class="empty">No networks.</td></tr>`;
}

function renderRouters(routers, ports, subnets) {
  const cidr = (id) => subnets.find((s) => s.id === id)?.cidr || short(id);
  const netName = (id) => state.objects.network.get(id)?.name || short(id);
  $("routers").tBodies[0].innerHTML =
    routers
      .filter(matches)
      .map((r) => {
        const ifaces = ports.filter((p) => p.device_id === r.id && p.device_owner === "network:router_interface");
        const gw = r.external_gateway_info;
        return `<tr data-router="${esc(r.id)}">
          <td>${esc(r.name || "(no name)")}<span class="sub mono">${short(r.id)}</span></td>
          <td>${gw ? esc(netName(gw.network_id)) + (gw.external_fixed_ips || []).map((f) => `<span class="sub mono">${esc(f.ip_address)}</span>`).join("") : "—"}</td>
          <td>${ifaces.map((p) => p.fixed_ips.map((f) => `<code>${esc(cidr(f.subnet_id))}</code>`).join(" ")).join("<br>") || "—"}</td>
          <td>${(r.routes || []).length}</td>
          <td>${badge(r.status)}</td></tr>`;
      })
      .join("") || `<tr><td colspan="5" class="empty">No routers.</td></tr>`;
}

function renderPorts(ports) {
  const groups = new Map();
  for (const p of ports.filter(matches)) {
    const host = p["binding:host_id"] || "";
    if (!groups.has(host)) groups.set(host, []);
    groups.get(host).push(p);
  }
  const hosts = [...groups.keys()].sort((a, b) => (a === "") - (b === "") || a.localeCompare(b));
  $("ports").innerHTML =
    hosts
      .map((host) => {
        const rows = groups.get(host).sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id));
        return `<div class="hostgroup" data-port-host="${esc(host)}"><h3>${esc(host || "not bound")} <small>(${rows.length})</small></h3>
        <table><thead><tr><th>port</th><th>addresses</th><th>network</th><th>owner</th><th>status</th></tr></thead><tbody>
        ${rows
          .map((p) => `<tr data-port="${esc(p.id)}">
            <td>${esc(p.name || "(no name)")}<span class="sub mono">${short(p.id)}</span></td>
            <td class="mono">${p.fixed_ips.map((f) => esc(f.ip_address)).join("<br>")}<span class="sub">${esc(p.mac_address)}</span></td>
            <td>${esc(state.objects.network.get(p.network_id)?.name || short(p.network_id))}</td>
            <td class="sub">${esc(p.device_owner)}</td>
            <td>${badge(p.status)}${p["binding:vif_type"] === "binding_failed" ? " " + badge("binding_failed") : ""}</td></tr>`)
          .join("")}</tbody></table></div>`;
      })
      .join("") || `<div class="empty">No ports.</div>`;
}

function renderEvents() {
  $("events").innerHTML =
    state.events
      .map((e, i) => `<li class="${i === 0 ? "fresh" : ""}"><span class="ev-${esc(e.type)}">${esc(e.type.toLowerCase())}</span>
        ${esc(e.resource)} <b>${esc(e.object.name || e.object.node_name || short(e.id))}</b>
        <span class="sub">rev ${esc(e.revision_number)} · ${e.at.toLocaleTimeString()}</span></li>`)
      .join("") || `<li class="empty">Waiting for changes…</li>`;
}

// ---- start ---------------------------------------------------------------------------------
$("filter").addEventListener("input", scheduleRender);
$("hosts").addEventListener("click", (ev) => {
  const button = ev.target.closest("button[data-audit], button[data-repair]");
  if (!button) return;
  button.disabled = true;
  const repair = button.dataset.repair !== undefined;
  runAudit(repair ? button.dataset.repair : button.dataset.audit, repair);
});
$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("alcor-token", $("token").value);
  location.reload();
});
setInterval(() => refreshDelivery().then(scheduleRender), 3000);
render();
watch();
