// The pprocd dashboard: polls /api/status every second and redraws.
"use strict";

const num = (v) => Number(v || 0);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function duration(ms) {
  const s = ms / 1000;
  if (s < 1) return `${Math.round(ms)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function bytes(kib) {
  if (kib < 1024) return `${kib} KiB`;
  if (kib < 1024 * 1024) return `${(kib / 1024).toFixed(1)} MiB`;
  return `${(kib / 1024 / 1024).toFixed(2)} GiB`;
}

function bar(fraction) {
  const inner = el("div");
  inner.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return el("div", { class: "bar" }, inner);
}

function fill(id, rows, columns, empty) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren();
  if (rows.length === 0) {
    body.append(el("tr", {}, el("td", { class: "empty", colspan: columns }, empty)));
    return;
  }
  for (const row of rows) body.append(row);
}

function card(label, value) {
  return el("div", { class: "card" }, el("div", { class: "value" }, value),
            el("div", { class: "label" }, label));
}

function render(data) {
  const s = data.status;
  document.getElementById("summary").replaceChildren(
    card("workers busy", `${num(s.workers_busy)} / ${num(s.workers_configured)}`),
    card("items running", num(s.items_running)),
    card("items queued", num(s.items_queued)),
    card("items completed", num(s.items_completed)),
    card("items failed", num(s.items_failed) + num(s.items_crashed)),
    card("calls open", num(s.calls_active)),
    card("respawns", num(s.workers_respawned)),
    card("uptime", duration(num(s.uptime_ms))));

  const workers = [...(s.workers || [])].sort((a, b) => a.pid - b.pid);
  fill("workers", workers.map((w) => el("tr", { class: "worker" },
    el("td", { class: "num pid" }, w.pid),
    el("td", { class: `state-${w.state}` }, w.state + (w.fresh ? " (fresh)" : "")),
    el("td", { class: "callable" }, w.callable || ""),
    el("td", { class: "num" }, w.state === "busy" ? num(w.item_index) : ""),
    el("td", { class: "num" }, w.state === "busy" ? duration(num(w.item_age_ms)) : ""),
    el("td", { class: "num" }, bytes(num(w.rss_kib))),
    el("td", { class: "num" }, num(w.items_run)))), 7, "no workers");

  fill("calls", (s.calls || []).map((c) => {
    const done = num(c.items_done);
    const received = num(c.items_received);
    const seconds = num(c.age_ms) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    return el("tr", { class: "call" },
      el("td", { class: "num" }, c.id),
      el("td", { class: "callable" }, c.callable),
      el("td", { class: "num" }, `${done} / ${received}${c.inputs_ended ? "" : "+"}`),
      el("td", {}, bar(received > 0 ? done / received : 0)),
      el("td", { class: "num" }, num(c.items_failed)),
      el("td", { class: "num" }, num(c.items_running)),
      el("td", { class: "num" }, num(c.items_queued)),
      el("td", { class: "num" }, `${rate.toFixed(1)}/s`),
      el("td", { class: "num" }, duration(num(c.age_ms))));
  }), 9, "no open calls");

  fill("jobs", (data.jobs || []).map((j) => {
    const done = num(j.items_done);
    const total = num(j.items_total);
    const state = String(j.state || "").replace(/^JOB_STATE_/, "");
    return el("tr", { class: "job" },
      el("td", {}, j.name || j.id),
      el("td", { class: "callable" }, j.callable),
      el("td", { class: `state-${state}` }, state),
      el("td", {}, bar(total > 0 ? done / total : 0), `${done} / ${total}`),
      el("td", { class: "num" }, num(j.owner_uid) < 0 ? "tcp" : `uid ${j.owner_uid}`),
      el("td", {}, j.create_time ? new Date(j.create_time).toLocaleString() : ""));
  }), 6, "no jobs");

  fill("failures", (s.recent_failures || []).map((f) => {
    const detail = el("td", {}, f.message);
    if (f.stderr_tail) detail.append(el("pre", {}, f.stderr_tail));
    return el("tr", { class: "failure" },
      el("td", {}, new Date(num(f.time_unix_ms)).toLocaleTimeString()),
      el("td", { class: "callable" }, f.callable),
      el("td", { class: "num" }, `${f.call_id}#${num(f.index)}`),
      el("td", { class: "kind" }, String(f.kind).replace(/^ERROR_KIND_/, "").toLowerCase()),
      el("td", { class: "num" }, f.worker_pid || ""),
      detail);
  }), 6, "no failures");
}

async function poll() {
  const badge = document.getElementById("connection");
  try {
    const response = await fetch("api/status", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
    badge.textContent = `live · ${new Date().toLocaleTimeString()}`;
    badge.className = "badge live";
  } catch (error) {
    badge.textContent = `no answer (${error.message})`;
    badge.className = "badge down";
  }
  setTimeout(poll, 1000);
}

poll();
