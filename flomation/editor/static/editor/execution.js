/* The execution view: the flow coloured by step status as events arrive (server-sent events), a step
 * inspector, logs, and replay mode (previous, next, play at 0.5x-2x, "Step 3/8"). */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("run-boot").textContent);
  var host = document.getElementById("drawflow");
  var specs = {};
  var editor, state;
  var steps = [];
  var shown = 0; // how many steps are applied to the canvas (all of them in live mode)
  var execution = boot.execution;
  var STATUSES = ["running", "success", "failed", "cancelled", "suspended"];

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function renderNode(node, spec) {
    var cfg = (node.data && node.data.config) || {};
    return '<div class="flo-title">' + escapeHtml(cfg.name || (spec && spec.name) || FloAdapter.actionOf(node)) + "</div>" +
      '<div class="flo-action">' + escapeHtml(FloAdapter.actionOf(node)) + '</div><div class="flo-badge" hidden></div>';
  }

  function nodeElement(floId) {
    var dfId = state && state.toDf[floId];
    return dfId ? document.getElementById("node-" + dfId) : null;
  }

  function paint() {
    var latest = {};
    steps.slice(0, shown).forEach(function (s) { latest[s.node_id] = s; });
    Object.keys(state.toDf).forEach(function (floId) {
      var element = nodeElement(floId);
      if (!element) return;
      STATUSES.forEach(function (s) { element.classList.remove("st-" + s); });
      var step = latest[floId];
      element.setAttribute("data-status", step ? step.status : "");
      if (step) element.classList.add("st-" + step.status);
      var badge = element.querySelector(".flo-badge");
      if (badge) {
        badge.hidden = !step;
        badge.textContent = step ? step.status + (step.duration_ms ? " · " + step.duration_ms + " ms" : "") : "";
      }
    });
    document.querySelectorAll("#step-list li").forEach(function (li, index) {
      li.hidden = index >= shown;
      li.classList.toggle("current", index === shown - 1 && boot.mode === "replay");
    });
    renderLog();
  }

  function stepLine(step) {
    var time = step.at ? new Date(step.at).toLocaleTimeString() : "";
    return time + "  " + step.node_id + " (" + (step.action || "") + ")  " + step.status +
      (step.duration_ms ? "  " + step.duration_ms + " ms" : "") +
      (step.attempt > 1 ? "  attempt " + step.attempt : "") +
      (step.iteration !== null && step.iteration !== undefined ? "  iteration " + step.iteration : "") +
      (step.error ? "\n    error: " + step.error : "");
  }

  function renderLog() {
    var lines = steps.slice(0, shown).map(stepLine);
    if (execution.finished && shown === steps.length) {
      lines.push("Execution " + execution.state + (execution.error ? ": " + execution.error : ""));
    }
    document.getElementById("log").textContent = lines.join("\n") || "Waiting for the first step…";
  }

  function addStepRow(step, index) {
    var li = document.createElement("li");
    li.className = "step st-" + step.status;
    var b = document.createElement("button");
    b.type = "button";
    b.innerHTML = '<span class="dot st-' + escapeHtml(step.status) + '"></span><strong>' + escapeHtml(step.node_id) +
      "</strong> <span class='muted small'>" + escapeHtml(step.status) + (step.duration_ms ? " · " + step.duration_ms + " ms" : "") + "</span>";
    b.addEventListener("click", function () { inspect(step.node_id, index); });
    li.appendChild(b);
    document.getElementById("step-list").appendChild(li);
  }

  function pretty(value) {
    if (value === null || value === undefined) return "—";
    return JSON.stringify(value, null, 2);
  }

  function inspect(nodeId, highlight) {
    var detail = document.getElementById("step-detail");
    var mine = [];
    steps.slice(0, shown).forEach(function (s, i) { if (s.node_id === nodeId) mine.push({ step: s, index: i }); });
    if (!mine.length) { detail.innerHTML = "<p class='muted'>" + escapeHtml(nodeId) + " has not run" + (boot.mode === "replay" ? " by this step." : " yet.") + "</p>"; return; }
    var html = "<h3>" + escapeHtml(nodeId) + "</h3>";
    mine.forEach(function (m) {
      var s = m.step;
      html += '<article class="step-record' + (m.index === highlight ? " current" : "") + '">' +
        "<p><span class='badge state-" + escapeHtml(s.status) + "'>" + escapeHtml(s.status) + "</span> " +
        "attempt " + escapeHtml(s.attempt) + (s.iteration !== null && s.iteration !== undefined ? " · iteration " + escapeHtml(s.iteration) : "") +
        (s.duration_ms !== null && s.duration_ms !== undefined ? " · " + escapeHtml(s.duration_ms) + " ms" : "") + "</p>" +
        (s.error ? "<p class='error-message'>" + escapeHtml(s.error) + "</p>" : "") +
        (s.status === "running" ? "" : "<details open><summary>Inputs</summary><pre>" + escapeHtml(pretty(s.inputs)) + "</pre></details>" +
        "<details open><summary>Outputs</summary><pre>" + escapeHtml(pretty(s.outputs)) + "</pre></details>") +
        "</article>";
    });
    detail.innerHTML = html;
  }

  function setExecution(value) {
    execution = value;
    var badge = document.getElementById("exec-state");
    badge.textContent = value.state + (value.cancel_requested && !value.finished ? " (cancelling)" : "");
    badge.className = "badge state-" + value.state;
    var cancel = document.getElementById("cancel");
    if (cancel) cancel.disabled = value.finished || value.cancel_requested;
    document.body.setAttribute("data-execution-state", value.state);
  }

  function addStep(step) {
    steps.push(step);
    addStepRow(step, steps.length - 1);
    if (boot.mode === "live") shown = steps.length;
    updateReplay();
    paint();
  }

  /* --- live --------------------------------------------------------------------------------- */

  function live() {
    if (execution.finished || !window.EventSource) return;
    var after = steps.length ? String(steps[steps.length - 1].id) : "";
    var source = new EventSource(boot.urls.events + (after ? "?after=" + encodeURIComponent(after) : ""));
    source.addEventListener("step", function (ev) { addStep(JSON.parse(ev.data)); });
    source.addEventListener("execution", function (ev) { setExecution(JSON.parse(ev.data)); paint(); });
    source.addEventListener("end", function (ev) { setExecution(JSON.parse(ev.data)); paint(); source.close(); });
    source.onerror = function () {
      if (execution.finished) source.close();
    };
  }

  /* --- replay ------------------------------------------------------------------------------- */

  var timer = null;

  function updateReplay() {
    var progress = document.getElementById("replay-progress");
    if (!progress) return;
    progress.textContent = "Step " + shown + "/" + steps.length;
    var scrub = document.getElementById("replay-scrub");
    scrub.max = String(steps.length);
    scrub.value = String(shown);
    document.getElementById("replay-prev").disabled = shown === 0;
    document.getElementById("replay-next").disabled = shown >= steps.length;
  }

  function go(n) {
    shown = Math.max(0, Math.min(steps.length, n));
    paint();
    updateReplay();
    if (shown) inspect(steps[shown - 1].node_id, shown - 1);
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    document.getElementById("replay-play").textContent = "Play";
  }

  function replay() {
    shown = 0;
    var speed = document.getElementById("replay-speed");
    document.getElementById("replay-prev").addEventListener("click", function () { stop(); go(shown - 1); });
    document.getElementById("replay-next").addEventListener("click", function () { stop(); go(shown + 1); });
    document.getElementById("replay-scrub").addEventListener("input", function (ev) { stop(); go(Number(ev.target.value)); });
    document.getElementById("replay-play").addEventListener("click", function () {
      if (timer) return stop();
      if (shown >= steps.length) go(0);
      document.getElementById("replay-play").textContent = "Pause";
      var tick = function () { if (shown >= steps.length) stop(); else go(shown + 1); };
      timer = setInterval(tick, 1000 / Number(speed.value));
    });
    speed.addEventListener("change", function () { if (timer) { stop(); document.getElementById("replay-play").click(); } });
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowLeft") { stop(); go(shown - 1); }
      if (ev.key === "ArrowRight") { stop(); go(shown + 1); }
    });
    go(0);
  }

  /* --- start -------------------------------------------------------------------------------- */

  function start(manifest) {
    (manifest.nodes || []).forEach(function (n) { specs[n.action] = n; });
    editor = new Drawflow(host);
    editor.editor_mode = "view";
    editor.zoom_min = 0.3;
    editor.start();
    var converted = FloAdapter.toDrawflow(boot.flow, specs, renderNode);
    state = converted.state;
    editor.import(converted.document);
    Object.keys(state.toDf).forEach(function (floId) {
      var element = nodeElement(floId);
      if (!element) return;
      element.setAttribute("data-node-id", floId);
      element.addEventListener("click", function () { inspect(floId); });
    });
    setExecution(execution);
    boot.steps.forEach(function (s) { steps.push(s); addStepRow(s, steps.length - 1); });
    if (boot.mode === "replay") replay(); else { shown = steps.length; paint(); live(); }
    window.floRun = { steps: steps, editor: editor, go: go };
  }

  Flo.api(boot.urls.manifest).then(start, function () { start({ nodes: [] }); });
})();
