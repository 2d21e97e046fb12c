// The refinery page: sends a task to POST /v1/refinements/stream, draws the events as they
// come (tokens, each iteration's score, critique and word diff, a score chart, the answer),
// puts a run that pauses for review to the person (approve, edit, feedback, reject: POST
// /v1/threads/{id}/resume/stream), and sends feedback. Self-contained: it loads nothing but this server's own files.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { controller: null, threadId: null, runId: null, drafts: [], scores: [],
                threshold: 0.95, configs: {}, finished: false, rated: false, lastBody: null,
                review: null };

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("apikey").value.trim();
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function setStatus(text) { $("status").textContent = text; }

function showError(body) {
  const e = (body && body.error) || { message: String(body), fix: "" };
  $("form-error").textContent = e.message + (e.fix ? " — " + e.fix : "");
  $("form-error").hidden = false;
}

async function loadConfigs() {
  try {
    const response = await fetch("/v1/configs");
    for (const c of await response.json()) {
      state.configs[c.name] = c;
      const option = el("option", { value: c.name }, c.name);
      option.title = c.description;
      if (c.name === "refine_default") option.selected = true;
      $("config").append(option);
    }
  } catch (err) {
    $("config").append(el("option", { value: "refine_default" }, "refine_default"));
  }
}

function requestBody() {
  const body = { task: $("task").value, config: $("config").value, priority: $("priority").value };
  if ($("review").value) body.review = { when: $("review").value };
  const words = $("words").value.split(",").map((w) => w.trim()).filter(Boolean);
  if (words.length) body.constraints = { required_words: words };
  const docs = $("documents").value.split(/^---$/m).map((d) => d.trim()).filter(Boolean);
  if (docs.length) body.documents = docs.map((text, i) => ({ id: "doc" + (i + 1), text }));
  return body;
}

// --- a word-level diff (longest common subsequence) --------------------------------------
function wordDiff(before, after) {
  const a = before.split(/\s+/).filter(Boolean), b = after.split(/\s+/).filter(Boolean);
  if (a.length * b.length > 400000) return [["ins", after]];
  const dp = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out = [];
  const push = (kind, word) => {
    const last = out[out.length - 1];
    if (last && last[0] === kind) last[1] += " " + word; else out.push([kind, word]);
  };
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { push("same", a[i]); i++; j++; }
    else if (dp[i + 1][j] >= dp[i][j + 1]) push("del", a[i++]);
    else push("ins", b[j++]);
  }
  while (i < a.length) push("del", a[i++]);
  while (j < b.length) push("ins", b[j++]);
  return out;
}

function diffNode(before, after) {
  const p = el("p", { class: "diff" });
  for (const [kind, text] of wordDiff(before, after)) {
    p.append(kind === "same" ? document.createTextNode(text) : el(kind, {}, text));
    p.append(document.createTextNode(" "));
  }
  return p;
}

// --- the score chart (inline SVG) ---------------------------------------------------------
function drawChart() {
  const svg = $("chart"), W = 420, H = 140, L = 34, R = 24, T = 20, B = 24;
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  const n = Math.max(state.scores.length, 2);
  const x = (i) => L + (i * (W - L - R)) / (n - 1);
  const y = (s) => T + (1 - s) * (H - T - B);
  add("line", { class: "axis", x1: L, y1: y(0), x2: W - R, y2: y(0) });
  add("line", { class: "axis", x1: L, y1: y(0), x2: L, y2: y(1) });
  for (const s of [0, 0.5, 1]) add("text", { x: 4, y: y(s) + 3 }, s.toFixed(1));
  add("line", { class: "threshold", x1: L, y1: y(state.threshold), x2: W - R, y2: y(state.threshold) });
  add("text", { x: L + 4, y: y(state.threshold) - 4 }, "threshold " + state.threshold);
  const points = state.scores.map((s, i) => `${x(i)},${y(s)}`).join(" ");
  if (state.scores.length > 1) add("polyline", { class: "line", points });
  state.scores.forEach((s, i) => {
    add("circle", { class: "dot", cx: x(i), cy: y(s), r: 4 });
    add("text", { x: x(i) - 10, y: y(s) - 8 }, s.toFixed(2));
    add("text", { x: x(i) - 3, y: H - 6 }, String(i));
  });
}

// --- events -------------------------------------------------------------------------------
let live = {};
function onToken(data) {
  if (!live[data.message_id]) {
    live[data.message_id] = el("span");
    if (Object.keys(live).length > 1) $("live-text").append(document.createTextNode("\n"));
    $("live-text").append(live[data.message_id]);
  }
  live[data.message_id].textContent += data.text;
  $("live-node").textContent = data.node === "draft" ? "the first draft" : "a refinement";
  $("live").hidden = false;
}

function onNode(data) {
  setStatus(data.node + "…");
  if (data.draft !== undefined) {
    live = {};
    $("live-text").textContent = data.draft;
  }
}

function onScore(data) {
  $("progress").hidden = false;
  const previous = state.drafts[state.drafts.length - 1];
  state.drafts.push(data.draft);
  state.scores.push(data.score);
  const li = el("li", { "data-iteration": String(data.iteration) });
  const head = el("div", { class: "it-head" });
  head.append(el("strong", {}, "Iteration " + data.iteration));
  const pass = data.score >= state.threshold;
  head.append(el("span", { class: "score" + (pass ? " pass" : "") }, "score " + data.score.toFixed(3)));
  li.append(head);
  li.append(previous === undefined ? el("p", { class: "diff" }, data.draft) : diffNode(previous, data.draft));
  const findings = el("ul", { class: "findings" });
  for (const f of data.findings || []) findings.append(el("li", { class: "sev-" + f.severity }, `${f.source}: ${f.message}`));
  if (!(data.findings || []).length) findings.append(el("li", {}, "no findings"));
  li.append(findings);
  $("iterations").append(li);
  drawChart();
}

function onReview(data) {
  state.review = data;
  $("live").hidden = true;
  $("review-card").hidden = false;
  $("review-why").textContent = "· " + data.why;
  const confidence = data.confidence == null ? "–" : (data.confidence * 100).toFixed(0) + "%";
  $("review-meta").textContent = `round ${data.round} · score ${data.score.toFixed(3)} · confidence ${confidence} · stopped: ${data.stop_reason}`;
  $("review-text").value = data.draft;
  $("review-note").value = "";
  const findings = $("review-findings");
  findings.replaceChildren();
  for (const f of data.findings || []) findings.append(el("li", { class: "sev-" + f.severity }, `${f.source}: ${f.message}`));
  $("review-status").textContent = "";
  setStatus("waiting for your review");
}

function reviewDecision(action) {
  if (action === "edit") return { action, text: $("review-text").value };
  if (action === "feedback") {
    const lines = $("review-note").value.split("\n").map((l) => l.trim()).filter(Boolean);
    return lines.length > 1 ? { action, changes: lines } : { action, text: lines[0] || "" };
  }
  return { action };
}

async function decide(action) {
  if (!state.review || !state.threadId) return;
  const body = { review: reviewDecision(action), review_id: state.review.review_id };
  $("review-status").textContent = "sending…";
  const sent = await stream(`/v1/threads/${state.threadId}/resume/stream`, body, (response) => {
    $("review-card").hidden = true;
    state.review = null;
  });
  if (!sent) $("review-status").textContent = $("form-error").textContent;
}

function onResult(data) {
  state.finished = true;
  $("review-card").hidden = true;
  state.runId = data.run_id;
  $("live").hidden = true;
  $("final").hidden = false;
  $("final").dataset.thread = data.thread_id;
  $("answer").textContent = data.answer || "";
  const confidence = data.confidence || 0;
  $("confidence").textContent = (confidence * 100).toFixed(0) + "%";
  $("confidence-bar").style.width = (confidence * 100).toFixed(0) + "%";
  $("final-meta").textContent = `score ${(data.score ?? 0).toFixed(3)} · ${data.iterations} iteration(s) · ${data.stop_reason} · ${data.wall_s.toFixed(1)} s`;
  setStatus("done");
}

function dispatch(name, data) {
  if (name === "run") { state.threadId = data.thread_id; state.runId = data.run_id; setStatus("running…"); }
  else if (name === "queued") setStatus("waiting for a free slot…");
  else if (name === "token") onToken(data);
  else if (name === "node") onNode(data);
  else if (name === "score") onScore(data);
  else if (name === "review") onReview(data);
  else if (name === "result") onResult(data);
  else if (name === "error") { showError({ error: data }); setStatus("failed"); }
}

async function readEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) dispatch(name, JSON.parse(data));
    }
  }
}

function reset() {
  Object.assign(state, { threadId: null, runId: null, drafts: [], scores: [], finished: false, rated: false });
  live = {};
  $("iterations").replaceChildren();
  $("live-text").textContent = "";
  $("form-error").hidden = true;
  $("final").hidden = true;
  $("review-card").hidden = true;
  state.review = null;
  $("progress").hidden = true;
  $("feedback-status").textContent = "";
  for (const b of ["up", "down"]) $(b).classList.remove("chosen");
  const chosen = state.configs[$("config").value];
  state.threshold = chosen ? chosen.score_threshold : 0.95;
  drawChart();
}

async function run(body) {
  reset();
  state.lastBody = body;
  await stream("/v1/refinements/stream", body);
}

// POST `body` to a stream endpoint and draw its events; false when the server refused it.
async function stream(url, body, onAccepted) {
  state.controller = new AbortController();
  $("run").disabled = true;
  $("stop").disabled = false;
  $("form-error").hidden = true;
  setStatus("sending…");
  try {
    const response = await fetch(url, {
      method: "POST", headers: headers(), body: JSON.stringify(body), signal: state.controller.signal });
    if (!response.ok) {
      showError(await response.json().catch(() => response.statusText));
      setStatus("refused (" + response.status + ")");
      return false;
    }
    state.threadId = response.headers.get("X-Thread-Id");
    if (onAccepted) onAccepted(response);
    await readEvents(response);
    return true;
  } catch (err) {
    if (err.name === "AbortError") setStatus("stopped; thread " + state.threadId + " can be resumed");
    else { showError(String(err)); setStatus("failed"); }
  } finally {
    $("run").disabled = false;
    $("stop").disabled = true;
    state.controller = null;
  }
}

async function feedback(payload) {
  if (!state.threadId) return;
  const body = { thread_id: state.threadId, ...payload };
  if (state.runId) body.run_id = state.runId;
  const response = await fetch("/v1/feedback", {
    method: "POST", headers: headers(), body: JSON.stringify(body), keepalive: true });
  return response.ok;
}

async function rate(value) {
  const ok = await feedback({ kind: "rating", rating: value, comment: $("comment").value || undefined });
  state.rated = ok;
  $("up").classList.toggle("chosen", ok && value === 1);
  $("down").classList.toggle("chosen", ok && value === -1);
  $("feedback-status").textContent = ok ? "thanks — feedback sent" : "feedback failed";
}

$("form").addEventListener("submit", (event) => { event.preventDefault(); run(requestBody()); });
$("stop").addEventListener("click", () => {
  if (state.controller) { feedback({ kind: "abandoned" }); state.controller.abort(); }
});
for (const action of ["approve", "edit", "feedback", "reject"])
  $("review-" + action).addEventListener("click", () => decide(action));
$("up").addEventListener("click", () => rate(1));
$("down").addEventListener("click", () => rate(-1));
$("copy").addEventListener("click", async () => {
  try { await navigator.clipboard.writeText($("answer").textContent); } catch (err) { /* no clipboard */ }
  if (await feedback({ kind: "copied" })) $("feedback-status").textContent = "copied";
});
$("again").addEventListener("click", async () => {
  await feedback({ kind: "regenerated" });
  run(state.lastBody || requestBody());
});
window.addEventListener("pagehide", () => {
  if (state.controller || (state.finished && !state.rated)) feedback({ kind: "abandoned" });
});

loadConfigs().then(drawChart);
