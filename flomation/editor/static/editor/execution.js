/* The execution view: the flow coloured by step status as events arrive (server-sent events), a step
 * inspector, logs, and replay mode (previous, next, play at 0.5x-2x, "Step 3/8"). */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("run-boot").textContent);
  var host = document.getElementById("drawflow");
  var specs = {};
  var icons = {};  // category -> icon URL (manifest.icons)
  var editor, state;
  var steps = [];
  var shown = 0; // how many steps are applied to the canvas (all of them in live mode)
  var execution = boot.execution;
  var STATUSES = ["running", "success", "failed", "cancelled", "suspended"];
  var inspected = null; // the node whose record the side panel shows (kept current while a run is live)

  /* A node writing a reply (streaming) or an agent between its model calls (model_call) is still running. */
  function paintedStatus(status) { return status === "streaming" || status === "model_call" ? "running" : status; }

  function statusText(status) {
    return status === "streaming" ? "writing…" : status === "model_call" ? "running · model call" : status;
  }

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function labelOf(node, spec) {
    var cfg = (node.data && node.data.config) || {};
    return cfg.name || (spec && spec.name) || FloAdapter.actionOf(node);
  }

  function nodeLabel(floId) {
    var node = (boot.flow.nodes || []).filter(function (n) { return n.id === floId; })[0];
    return node ? labelOf(node, specs[FloAdapter.actionOf(node)]) : floId;
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return "";
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms < 10000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)) + " s";
    var minutes = Math.floor(ms / 60000), seconds = Math.round((ms % 60000) / 1000);
    return minutes + " min" + (seconds ? " " + seconds + " s" : "");
  }

  function renderNode(node, spec) {
    var icon = spec && icons[spec.category];
    return '<div class="flo-title">' + (icon ? '<img class="palette-icon" src="' + escapeHtml(icon) + '" alt="">' : "") +
      escapeHtml(labelOf(node, spec)) + "</div>" +
      '<div class="flo-action">' + escapeHtml(FloAdapter.actionOf(node)) + '</div><div class="flo-badge" style="visibility: hidden">&nbsp;</div>';
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
      if (step) element.classList.add("st-" + paintedStatus(step.status));
      var badge = element.querySelector(".flo-badge");
      if (badge) {
        // Visibility, not display: a node keeps its size as its badge appears, so the fitted view stays put.
        badge.style.visibility = step ? "visible" : "hidden";
        badge.textContent = step ? statusText(step.status) + (step.duration_ms ? " · " + duration(step.duration_ms) : "") : "\u00a0";
      }
    });
    renderStepRows(latest);
    renderLog();
  }

  function stepLine(step) {
    var time = step.created_at ? new Date(step.created_at).toLocaleTimeString() : "";
    return time + "  " + nodeLabel(step.node_id) + " [" + step.node_id + "]  " + step.status +
      (step.duration_ms ? "  " + duration(step.duration_ms) : "") +
      (step.attempt > 1 ? "  attempt " + step.attempt : "") +
      (step.retry ? "  (retry: runs again after its runner was lost)" : "") +
      (step.iteration !== null && step.iteration !== undefined ? "  iteration " + step.iteration : "") +
      (step.error ? "\n    error: " + step.error : "");
  }

  function renderLog() {
    // A reply being written is shown in the side panel, not as a log line per piece.
    var lines = steps.slice(0, shown).filter(function (s) { return s.status !== "streaming"; }).map(stepLine);
    if (execution.finished && shown === steps.length) {
      lines.push("Execution " + execution.state + (execution.error ? ": " + execution.error : ""));
    }
    document.getElementById("log").textContent = lines.join("\n") || "Waiting for the first step…";
  }

  /* One row per node, in the order the nodes first ran: its label, latest status, duration and attempt. */
  function renderStepRows(latest) {
    var list = document.getElementById("step-list");
    var order = [];
    steps.slice(0, shown).forEach(function (s) { if (order.indexOf(s.node_id) < 0) order.push(s.node_id); });
    var current = boot.mode === "replay" && shown ? steps[shown - 1].node_id : null;
    // Rebuilt only when a row would change, so a row being clicked (or focused) is not replaced under it.
    var signature = JSON.stringify([current, order.map(function (id) { var s = latest[id]; return [id, s.status, s.duration_ms, s.attempt]; })]);
    if (signature === list.getAttribute("data-signature")) return;
    list.setAttribute("data-signature", signature);
    list.innerHTML = "";
    order.forEach(function (nodeId) {
      var step = latest[nodeId];
      var li = document.createElement("li");
      li.className = "step st-" + paintedStatus(step.status) + (nodeId === current ? " current" : "");
      li.setAttribute("data-node-id", nodeId);
      var b = document.createElement("button");
      b.type = "button";
      b.innerHTML = '<span class="dot st-' + escapeHtml(paintedStatus(step.status)) + '"></span><strong>' + escapeHtml(nodeLabel(nodeId)) + "</strong>" +
        ' <span class="muted small">' + escapeHtml(statusText(step.status)) + (step.duration_ms !== null && step.duration_ms !== undefined ? " · " + escapeHtml(duration(step.duration_ms)) : "") +
        (step.attempt > 1 ? " · attempt " + escapeHtml(step.attempt) : "") + (step.retry ? " · retry" : "") + "</span>";
      b.addEventListener("click", function () { inspect(nodeId); });
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  var LARGE = 2000; // characters: a longer string is shown as its size with a download link

  function sizeOf(chars) {
    return chars < 1024 ? chars + " B" : chars < 1048576 ? (chars / 1024).toFixed(1) + " KB" : (chars / 1048576).toFixed(1) + " MB";
  }

  function downloadLink(text, name) {
    var a = document.createElement("a");
    a.className = "download";
    a.textContent = "Download (" + sizeOf(text.length) + ")";
    a.download = name;
    a.href = URL.createObjectURL(new Blob([text], { type: "application/octet-stream" }));
    return a;
  }

  /* A value as a person reads it: scalars as text (long ones as a size and a download link), objects and
   * arrays as a key/value table whose nested values fold open. */
  function valueNode(value, name, depth) {
    if (value === null || value === undefined) { var none = document.createElement("span"); none.className = "muted"; none.textContent = value === null ? "null" : "—"; return none; }
    if (typeof value === "string" && value.length > LARGE) {
      var big = document.createElement("span");
      big.className = "large-value";
      // Step events keep the first 4 KB of a long string and say how long it was.
      var cut = /… \[truncated, (\d+) bytes total\]$/.exec(value);
      var kept = cut ? value.slice(0, cut.index) : value;
      big.appendChild(document.createTextNode("text of " + sizeOf(cut ? Number(cut[1]) : value.length) + " "));
      var link = big.appendChild(downloadLink(kept, name + ".txt"));
      if (cut) link.textContent = "Download the first " + sizeOf(kept.length) + " (all a step keeps)";
      return big;
    }
    if (typeof value !== "object") {
      var text = document.createElement("span");
      text.className = "scalar " + typeof value;
      text.textContent = typeof value === "string" ? value : JSON.stringify(value);
      return text;
    }
    var keys = Object.keys(value);
    var json = JSON.stringify(value, null, 2);
    if (json.length > LARGE * 25) {
      var huge = document.createElement("span");
      huge.className = "large-value";
      huge.appendChild(document.createTextNode((Array.isArray(value) ? "list of " + keys.length + " items, " : "object, ") + sizeOf(json.length) + " "));
      huge.appendChild(downloadLink(json, name + ".json"));
      return huge;
    }
    var details = document.createElement("details");
    details.open = (depth || 0) < 2 && keys.length <= 20; // small values near the top read without a click
    var summary = document.createElement("summary");
    summary.textContent = Array.isArray(value) ? "list of " + keys.length : "{" + keys.length + " key" + (keys.length === 1 ? "" : "s") + "}";
    details.appendChild(summary);
    details.appendChild(valueTable(value, name, (depth || 0) + 1));
    return details;
  }

  function valueTable(value, name, depth) {
    var table = document.createElement("table");
    table.className = "kv";
    Object.keys(value).forEach(function (key) {
      var row = table.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = key;
      row.appendChild(th);
      row.insertCell().appendChild(valueNode(value[key], name + "-" + key, depth || 0));
    });
    if (!Object.keys(value).length) table.insertRow().insertCell().textContent = Array.isArray(value) ? "empty list" : "empty";
    return table;
  }

  function valueSection(title, value, name) {
    var details = document.createElement("details");
    details.open = true;
    details.className = "value-section";
    var summary = document.createElement("summary");
    summary.textContent = title;
    details.appendChild(summary);
    if (value !== null && value !== undefined) {
      var copy = document.createElement("button");
      copy.type = "button";
      copy.className = "button small copy-json";
      copy.textContent = "Copy JSON";
      copy.addEventListener("click", function () {
        var text = JSON.stringify(value, null, 2);
        var done = function () { copy.textContent = "Copied"; setTimeout(function () { copy.textContent = "Copy JSON"; }, 1500); };
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () {});
        else { var area = document.createElement("textarea"); area.value = text; document.body.appendChild(area); area.select(); document.execCommand("copy"); area.remove(); done(); }
      });
      summary.appendChild(copy);
    }
    details.appendChild(value && typeof value === "object" ? valueTable(value, name) : valueNode(value, name));
    return details;
  }

  function inspect(nodeId, highlight) {
    inspected = nodeId;
    var detail = document.getElementById("step-detail");
    var mine = [];
    steps.slice(0, shown).forEach(function (s, i) { if (s.node_id === nodeId) mine.push({ step: s, index: i }); });
    detail.innerHTML = "";
    var title = document.createElement("h3");
    title.textContent = nodeLabel(nodeId);
    detail.appendChild(title);
    var sub = document.createElement("p");
    sub.className = "muted small";
    sub.innerHTML = "<code>" + escapeHtml(nodeId) + "</code>";
    detail.appendChild(sub);
    if (!mine.length) {
      var none = document.createElement("p");
      none.className = "muted";
      none.textContent = "This node has not run" + (boot.mode === "replay" ? " by this step." : " yet.");
      detail.appendChild(none);
      return;
    }
    // A node's record: its finished events (a running event is followed by one), newest last; an agent's
    // model calls are part of it (its reasoning trail), a reply's pieces are not.
    var finished = mine.filter(function (m) { return m.step.status !== "running" && m.step.status !== "streaming"; });
    var last = mine[mine.length - 1].step;
    if (last.status === "streaming") {
      var writing = document.createElement("section");
      writing.className = "live-reply";
      writing.innerHTML = "<h4>Writing the reply…</h4>";
      var text = document.createElement("pre");
      text.setAttribute("data-live-reply", nodeId);
      text.textContent = (last.outputs && last.outputs.response) || "";
      writing.appendChild(text);
      detail.appendChild(writing);
    }
    (finished.length ? finished : last.status === "streaming" ? [] : mine.slice(-1)).forEach(function (m) {
      var s = m.step;
      var article = document.createElement("article");
      article.className = "step-record" + (m.index === highlight ? " current" : "");
      article.innerHTML = "<p><span class='badge state-" + escapeHtml(s.status) + "'>" + escapeHtml(s.status) + "</span> " +
        "attempt " + escapeHtml(s.attempt) + (s.retry ? " · <span class='badge'>retry</span> it runs again: its runner was lost while it ran" : "") + (s.iteration !== null && s.iteration !== undefined ? " · iteration " + escapeHtml(s.iteration) : "") +
        (s.duration_ms !== null && s.duration_ms !== undefined ? " · " + escapeHtml(duration(s.duration_ms)) : "") + "</p>";
      if (s.error) {
        var error = document.createElement("pre");
        error.className = "error-message traceback";
        error.textContent = s.error;
        article.appendChild(error);
      }
      if (s.status !== "running") {
        article.appendChild(valueSection("Inputs", s.inputs, nodeId + "-inputs"));
        article.appendChild(valueSection("Outputs", s.outputs, nodeId + "-outputs"));
      }
      detail.appendChild(article);
    });
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
    if (boot.mode === "live") shown = steps.length;
    updateReplay();
    paint();
    if (boot.mode === "live" && inspected === step.node_id) inspect(inspected);
  }

  /* --- live --------------------------------------------------------------------------------- */

  function live() {
    if (execution.finished || !window.EventSource) return;
    var after = steps.length ? String(steps[steps.length - 1].id) : "";
    var source = new EventSource(boot.urls.events + (after ? "?after=" + encodeURIComponent(after) : ""));
    source.addEventListener("step", function (ev) { addStep(JSON.parse(ev.data)); });
    source.addEventListener("state", function (ev) { setExecution(JSON.parse(ev.data)); paint(); });
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
    icons = manifest.icons || {};
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
    // Nodes may have been moved anywhere since: show the whole graph, centred.
    // The page settles as steps and logs fill in, so the view fits again whenever the canvas changes size,
    // until the reader pans or zooms it themselves.
    var autoFit = true;
    var refit = function () { if (autoFit) FloAdapter.fitView(editor, host, { minZoom: editor.zoom_min }); };
    ["mousedown", "wheel", "touchstart"].forEach(function (name) { host.addEventListener(name, function () { autoFit = false; }, { passive: true }); });
    if (window.ResizeObserver) new ResizeObserver(refit).observe(host); else window.addEventListener("resize", refit);
    requestAnimationFrame(function () { requestAnimationFrame(refit); });
    setExecution(execution);
    boot.steps.forEach(function (s) { steps.push(s); });
    if (boot.mode === "replay") replay(); else { shown = steps.length; paint(); live(); }
    window.floRun = { steps: steps, editor: editor, go: go };
  }

  Flo.api(boot.urls.manifest).then(start, function () { start({ nodes: [] }); });
})();
