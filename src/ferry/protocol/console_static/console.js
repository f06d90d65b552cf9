// Ferry console: read-only, refreshed every few seconds from /-/console/api/overview.
"use strict";

const REFRESH_MS = 2000;
const BAR_COLOR = "rgb(37, 99, 235)";
const MAX_COLOR = "rgb(17, 24, 39)";
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  return `${(value / 60).toFixed(1)} min`;
}

function when(epoch) {
  if (epoch === null || epoch === undefined) return "–";
  return new Date(epoch * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function rtcCell(rtc) {
  if (rtc.state !== "enabled") return el("td", {}, "disabled");
  if (rtc.met === null) return el("td", {}, "enabled (no writes this hour)");
  const share = (rtc.ratio * 100).toFixed(2);
  const cls = rtc.met ? "rtc-met" : "rtc-missed";
  const verdict = rtc.met ? "met" : "missed";
  return el("td", { class: cls }, `enabled, ${verdict}: ${share}% within ${seconds(rtc.threshold_seconds)}`);
}

function backfillCell(backfill) {
  if (!backfill.enabled) return el("td", {}, "off");
  const percent = `${Math.floor(backfill.fraction * 100)}%`;
  const bar = el("progress", { max: "1", value: String(backfill.fraction), class: "backfill" });
  return el("td", {}, bar, " ", percent, ` (${backfill.done}/${backfill.total})`);
}

function verifiedCell(verification) {
  if (!verification) return el("td", {}, "never");
  if (verification.consistent_up_to === null) return el("td", { class: "error" }, `${verification.differences} differences`);
  return el("td", {}, when(verification.consistent_up_to));
}

function ruleRow(rule) {
  return el(
    "tr",
    { "data-rule": rule.id },
    el("td", {}, rule.id),
    el("td", {}, rule.destination),
    el("td", { class: "status" }, rule.status),
    rtcCell(rule.rtc),
    el("td", { class: "num pending" }, rule.pending),
    el("td", { class: rule.failed ? "num failed-count" : "num" }, rule.failed),
    el("td", { class: "num" }, seconds(rule.lag.p50)),
    el("td", { class: "num" }, seconds(rule.lag.p99)),
    el("td", {}, when(rule.new_object_time)),
    backfillCell(rule.backfill),
    verifiedCell(rule.verification),
  );
}

function drawChart(canvas, rule, now, step) {
  const ratio = window.devicePixelRatio || 1;
  const width = 720, height = 160, left = 56, bottom = 20, top = 8;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, width, height);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#6b7280";
  const plotW = width - left - 8, plotH = height - top - bottom;
  const start = now - 3600;
  ctx.fillText("-60 min", left, height - 5);
  ctx.fillText("now", width - 30, height - 5);
  const points = rule.series;
  canvas.dataset.points = String(points.length);
  if (!points.length) {
    ctx.fillText("no changes replicated in the last hour", left + plotW / 2 - 100, top + plotH / 2);
    return;
  }
  const top99 = Math.max(...points.map((p) => p.max), 0.001) * 1.1;
  ctx.fillText(seconds(top99), 4, top + 10);
  ctx.fillText("0", 4, top + plotH);
  ctx.strokeStyle = "#e5e7eb";
  ctx.beginPath();
  ctx.moveTo(left, top + plotH + 0.5);
  ctx.lineTo(left + plotW, top + plotH + 0.5);
  ctx.stroke();
  const barW = Math.max(4, (step / 3600) * plotW - 1);
  for (const p of points) {
    const x = left + ((p.start - start) / 3600) * plotW;
    const h = Math.max(3, (p.p99 / top99) * plotH);
    ctx.fillStyle = BAR_COLOR;
    ctx.fillRect(x, top + plotH - h, barW, h);
    ctx.fillStyle = MAX_COLOR;
    ctx.fillRect(x, top + plotH - Math.max(3, (p.max / top99) * plotH), barW, 2);
  }
}

function render(doc) {
  $("region").textContent = doc.region;
  $("refreshed").textContent = `updated ${when(doc.now)}`;
  const out = $("overview");
  const sections = [];
  for (const bucket of doc.buckets) {
    const section = el("section", { class: "bucket", "data-bucket": bucket.name });
    section.append(el("h2", {}, bucket.name, " ", el("span", { class: "muted" }, `versioning ${bucket.versioning}`)));
    if (!bucket.rules.length) {
      section.append(el("p", { class: "muted" }, "No replication rules."));
      sections.push(section);
      continue;
    }
    const head = el("tr", {}, ...["rule", "destination", "status", "RTC", "pending", "failed", "lag p50",
      "lag p99", "NewObject", "historical", "verified up to"].map((t) => el("th", {}, t)));
    section.append(el("table", { class: "rules" }, el("thead", {}, head), el("tbody", {}, ...bucket.rules.map(ruleRow))));
    for (const rule of bucket.rules) {
      const canvas = el("canvas", { class: "lag-chart", "data-bucket": bucket.name, "data-rule": rule.id });
      section.append(el("div", { class: "chart" }, el("h3", {}, `Lag of ${rule.id}, last hour (p99 per ${doc.chart_step_seconds} s)`), canvas));
      drawChart(canvas, rule, doc.now, doc.chart_step_seconds);
    }
    sections.push(section);
  }
  if (!sections.length) sections.push(el("p", { class: "muted" }, "No buckets in this region."));
  out.replaceChildren(...sections);
  out.dataset.refreshes = String(Number(out.dataset.refreshes || 0) + 1);
}

function showLogin(message) {
  $("overview").hidden = true;
  $("sign-out").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

async function refresh() {
  let response;
  try {
    response = await fetch("/-/console/api/overview", { credentials: "same-origin", cache: "no-store" });
  } catch (error) {
    $("refreshed").textContent = `cannot reach the region: ${error}`;
    return;
  }
  if (response.status === 401) {
    if ($("login").hidden) showLogin("");
    return;
  }
  if (!response.ok) {
    $("refreshed").textContent = `the region answered ${response.status}`;
    return;
  }
  $("login").hidden = true;
  $("overview").hidden = false;
  $("sign-out").hidden = false;
  render(await response.json());
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = JSON.stringify({ access_key_id: $("key-id").value, access_key_secret: $("key-secret").value });
  const response = await fetch("/-/console/api/session", {
    method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body,
  });
  if (!response.ok) {
    const answer = await response.json().catch(() => ({}));
    showLogin(answer.error || `sign-in failed (${response.status})`);
    return;
  }
  $("key-secret").value = "";
  await refresh();
});

$("sign-out").addEventListener("click", async () => {
  await fetch("/-/console/api/session", { method: "DELETE", credentials: "same-origin" });
  showLogin("Signed out.");
});

refresh();
setInterval(refresh, REFRESH_MS);
