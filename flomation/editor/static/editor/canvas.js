/* The canvas: palette, Drawflow editor, property panel, autosave as revisions, undo/redo, zoom and fit,
 * validation shown on nodes; it opens the Run dialog (rundialog.js) once loaded. */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("canvas-boot").textContent);
  var readOnly = !boot.canEdit || boot.workflow.archived || !!boot.workflow.managed;
  var specs = {};
  var icons = {};  // category -> icon URL (manifest.icons)
  var nodeIcons = {};  // action -> icon URL, for a service's node filed under another category
  var editor, state;
  var loading = false;
  var revision = boot.revision;
  var edits = boot.edits || 0;
  // Autosave waits for the author to pause; the platform coalesces autosaves into one revision.
  var AUTOSAVE_IDLE_MS = 2500;
  var errors = [];
  var history = { undo: [], redo: [], current: null };
  var timers = { save: null, snapshot: null };
  var saving = null, saveAgain = false, dirty = false, savedHere = false, leaving = false;
  var selectedId = null;
  var statusEl = document.getElementById("save-status");
  var host = document.getElementById("drawflow");

  function escapeHtml(text) {
    return String(text === undefined || text === null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* Triggers with a public address; true where the author can also listen for a test event. The chat
   * triggers' address is pasted into Slack / Teams (Telegram's is set on deploy): no test listening. */
  var HTTP_TRIGGERS = { "trigger/webhook": true, "trigger/web": true, "trigger/slack": false, "trigger/telegram": false, "trigger/teams": false };
  var testEvents = {}; /* node id -> {url, state, event}: the author's "Listen for test event" */

  function nodeUrls(node) {
    var action = FloAdapter.actionOf(node);
    if (!(action in HTTP_TRIGGERS)) return "";
    var lines = ((boot.triggerUrls || {})[node.id] || []).map(function (u) {
      return '<div class="flo-url-production" title="' + escapeHtml(u.url) + '"><b>' + escapeHtml(u.environment) + "</b>" + escapeHtml(u.url) + "</div>";
    });
    if (!lines.length) lines.push('<div class="muted">Production URL: publish to get one</div>');
    var test = testEvents[node.id];
    if (HTTP_TRIGGERS[action]) lines.push(test && test.url ? '<div class="flo-url-test" title="' + escapeHtml(test.url) + '"><b>test</b>' + escapeHtml(test.url) + "</div>" : '<div class="muted">Test URL: Listen for test event</div>');
    return '<div class="flo-urls">' + lines.join("") + "</div>";
  }

  function renderNode(node, spec) {
    var cfg = (node.data && node.data.config) || {};
    var title = cfg.name || (spec && spec.name) || FloAdapter.actionOf(node);
    var icon = spec && (nodeIcons[spec.action] || icons[spec.category]);
    return '<div class="flo-title">' + (icon ? '<img class="palette-icon" src="' + escapeHtml(icon) + '" alt="">' : "") +
      escapeHtml(title) + "</div>" +
      '<div class="flo-action">' + escapeHtml(FloAdapter.actionOf(node)) + "</div>" + nodeUrls(node) +
      '<div class="flo-badge" hidden></div>';
  }

  function redrawNode(dfId) {
    var d = dfData()[dfId];
    if (!d) return;
    var content = document.querySelector("#node-" + dfId + " .drawflow_content_node");
    if (content) content.innerHTML = renderNode(d.data.flo, specs[FloAdapter.actionOf(d.data.flo)]);
    d.html = content ? content.innerHTML : d.html;
    applyErrors();
  }

  /* The outputs a node offers to the reference picker: a manual trigger's declared input fields (its canned
   * quote is for Flomation compatibility only), a captured test event's fields, else the manifest's. */
  function offeredOutputs(node, spec) {
    var action = FloAdapter.actionOf(node);
    if (action === "trigger/manual") {
      var fields = FloInspector.schemaFields(FloAdapter.inputValue(node, "input_schema")).filter(function (f) { return f.name; });
      return fields.map(function (f) { return { name: f.name }; }).concat([{ name: "start" }]);
    }
    var outputs = (spec.outputs || []).slice();
    var test = testEvents[node.id];
    if (test && test.event) {
      var have = {};
      outputs.forEach(function (o) { have[o.name] = true; });
      ["body", "method", "query", "headers"].forEach(function (k) { if (!have[k]) outputs.push({ name: k }); });
      var body = test.event.body;
      if (body && typeof body === "object" && !Array.isArray(body)) Object.keys(body).forEach(function (k) { outputs.push({ name: "body." + k }); });
    }
    return outputs;
  }

  /* The panel's "Listen for test event" for an HTTP trigger: saves, listens, shows the request captured. */
  function testEventPanel(container, node, dfId) {
    if (!HTTP_TRIGGERS[FloAdapter.actionOf(node)] || readOnly) return;
    var box = document.createElement("section");
    box.className = "test-event";
    box.setAttribute("aria-label", "Test event");
    function draw() {
      var test = testEvents[node.id] || {};
      box.innerHTML = "<h3>Test event</h3>";
      if (test.url) box.insertAdjacentHTML("beforeend", '<p class="small">Send one request to <code class="url" data-test-url>' + escapeHtml(test.url) + "</code></p>");
      var status = document.createElement("p");
      status.className = "small";
      status.setAttribute("data-test-state", test.state || "idle");
      status.textContent = { listening: "Waiting for a request (2 minutes)…", captured: "Received: shown below as this node's output (nothing was run).", expired: "Nobody sent a request in time.", failed: test.error || "Could not listen." }[test.state] || "Listen, then call the test URL: the request shows here and its fields in the reference picker.";
      box.appendChild(status);
      var button = document.createElement("button");
      button.type = "button"; button.className = "button small";
      button.textContent = test.state === "listening" ? "Listening…" : "Listen for test event";
      button.disabled = test.state === "listening";
      button.addEventListener("click", listen);
      box.appendChild(button);
      if (test.event) {
        var pre = document.createElement("pre");
        pre.setAttribute("data-test-output", "");
        pre.textContent = JSON.stringify(test.event, null, 2);
        box.appendChild(pre);
      }
    }
    function update(values) {
      testEvents[node.id] = Object.assign(testEvents[node.id] || {}, values);
      if (box.isConnected) draw();
      redrawNode(dfId);
    }
    function poll(id) {
      Flo.api(boot.urls.listened + encodeURIComponent(id)).then(function (body) {
        if (body.state === "listening") { setTimeout(function () { poll(id); }, 1000); return; }
        update({ state: body.state, event: body.event });
      }, function (error) { update({ state: "failed", error: error.message }); });
    }
    function listen() {
      update({ state: "listening", event: null });
      flush().then(function () {
        return Flo.api(boot.urls.listen + encodeURIComponent(node.id) + "/listen", { method: "POST" });
      }).then(function (body) {
        update({ url: body.test_url, state: "listening" });
        poll(body.id);
      }, function (error) { update({ state: "failed", error: error.message }); });
    }
    draw();
    container.appendChild(box);
  }

  function dfData() { return editor.drawflow.drawflow.Home.data; }

  function dfIdOf(floId) {
    var data = dfData();
    for (var id in data) if (data[id].data.flo.id === floId) return id;
    return null;
  }

  function setStatus(text, kind) {
    statusEl.textContent = text;
    statusEl.className = "save-status" + (kind ? " " + kind : "");
  }

  /* --- loading, ports and errors ------------------------------------------------------------ */

  function load(flow) {
    loading = true;
    var converted = FloAdapter.toDrawflow(flow, specs, renderNode);
    state = converted.state;
    editor.import(converted.document);
    decorateAll();
    loading = false;
  }

  function decorate(dfId) {
    var d = dfData()[dfId];
    var element = document.getElementById("node-" + dfId);
    if (!d || !element) return;
    element.setAttribute("data-node-id", d.data.flo.id);
    element.setAttribute("data-action", FloAdapter.actionOf(d.data.flo));
    element.querySelectorAll(".outputs .output").forEach(function (port, index) {
      var handle = d.data.handles[index] || "";
      port.setAttribute("data-handle", handle);
      port.setAttribute("title", handle ? "Output: " + handle : "Output");
    });
    element.querySelectorAll(".inputs .input").forEach(function (port) { port.setAttribute("title", "Input"); });
  }

  function decorateAll() {
    Object.keys(dfData()).forEach(decorate);
    applyErrors();
  }

  function applyErrors() {
    var byNode = {};
    errors.forEach(function (e) { if (e.node_id) (byNode[e.node_id] = byNode[e.node_id] || []).push(e); });
    Object.keys(dfData()).forEach(function (dfId) {
      var element = document.getElementById("node-" + dfId);
      if (!element) return;
      var mine = byNode[dfData()[dfId].data.flo.id] || [];
      element.classList.toggle("has-error", mine.length > 0);
      var badge = element.querySelector(".flo-badge");
      if (badge) {
        badge.hidden = mine.length === 0;
        badge.textContent = mine.length ? "⚠ " + mine[0].message + (mine.length > 1 ? " (+" + (mine.length - 1) + ")" : "") : "";
      }
    });
    var panel = document.getElementById("problems");
    var list = document.getElementById("problem-list");
    list.innerHTML = "";
    errors.forEach(function (e) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = (e.node_id ? e.node_id + (e.field ? " · " + e.field : "") + ": " : "") + e.message;
      button.addEventListener("click", function () { if (e.node_id) select(dfIdOf(e.node_id)); });
      item.appendChild(button);
      list.appendChild(item);
    });
    panel.hidden = errors.length === 0;
  }

  /* --- changes, undo/redo and autosave --------------------------------------------------- */

  function currentFlow() { return FloAdapter.fromDrawflow(editor.export(), state); }

  function changed() {
    if (loading || readOnly) return;
    dirty = true;
    clearTimeout(timers.snapshot);
    timers.snapshot = setTimeout(snapshot, 200);
    clearTimeout(timers.save);
    timers.save = setTimeout(save, AUTOSAVE_IDLE_MS);
    setStatus("Unsaved changes…");
    dropStaleErrors();
  }

  // The last save's problems that this change has plainly answered (the flow now has nodes; a node with a
  // problem is gone) leave the panel at once; the rest stay until the next save says again.
  function dropStaleErrors() {
    if (!errors.length) return;
    var present = {};
    Object.keys(dfData()).forEach(function (dfId) { present[dfData()[dfId].data.flo.id] = true; });
    var hasNodes = Object.keys(present).length > 0;
    var kept = errors.filter(function (e) {
      if (e.node_id) return present[e.node_id] === true;
      return !(e.field === "nodes" && hasNodes);
    });
    if (kept.length !== errors.length) {
      errors = kept;
      applyErrors();
    }
  }

  function snapshot() {
    var text = JSON.stringify(currentFlow());
    if (text === history.current) return;
    if (history.current !== null) history.undo.push(history.current);
    if (history.undo.length > 100) history.undo.shift();
    history.current = text;
    history.redo = [];
    updateUndoButtons();
  }

  function updateUndoButtons() {
    document.getElementById("undo").disabled = readOnly || history.undo.length === 0;
    document.getElementById("redo").disabled = readOnly || history.redo.length === 0;
  }

  function travel(from, to) {
    clearTimeout(timers.snapshot);
    snapshot();
    if (!from.length) return;
    to.push(history.current);
    history.current = from.pop();
    load(JSON.parse(history.current));
    reselect();
    updateUndoButtons();
    dirty = true;
    clearTimeout(timers.save);
    timers.save = setTimeout(save, AUTOSAVE_IDLE_MS);
  }

  /* Saves the canvas; with a message, as a named version (always a new revision). */
  function save(message) {
    message = typeof message === "string" ? message : "";
    if (readOnly || (!dirty && !message)) return Promise.resolve();
    if (saving) {
      if (message) return saving.then(function () { return save(message); });
      saveAgain = true;
      return saving;
    }
    clearTimeout(timers.save);
    dirty = false;
    setStatus("Saving…");
    var body = { flow: currentFlow(), base_revision: revision, base_edits: edits };
    if (message) body.message = message;
    saving = Flo.api(boot.urls.flow, { method: "PUT", body: body })
      .then(function (body) {
        revision = body.revision;
        edits = body.edits || 0;
        savedHere = true;
        if (body.secrets) {
          var data = dfData();
          FloInspector.applySecretMarkers(Object.keys(data).map(function (id) { return data[id].data.flo; }), body.secrets);
        }
        errors = body.errors || [];
        applyErrors();
        refreshInspector();
        var summary = (body.summary || []).slice(0, 2).join("; ");
        var what = body.named ? "Saved version: revision " : body.created ? "Saved revision " : "Saved (revision " + revision + " updated)";
        setStatus(what + (body.named || body.created ? revision : "") + (summary ? " · " + summary : ""), "ok");
        forgetDraft();
      }, function (error) {
        dirty = true;
        keepDraft();
        if (error.status === 422 && error.body && error.body.errors) {
          // The platform keeps only flows that validate; the work stays here (and in this browser) until fixed.
          errors = error.body.errors;
          applyErrors();
          refreshInspector();
          setStatus("Not saved yet: fix " + errors.length + " problem" + (errors.length === 1 ? "" : "s") + " shown on the nodes", "bad");
        } else {
          setStatus("Not saved: " + error.message, "bad");
          if (error.status !== 409) { clearTimeout(timers.save); timers.save = setTimeout(save, 5000); }
        }
      })
      .then(function () {
        saving = null;
        if (saveAgain) { saveAgain = false; return save(); }
      });
    return saving;
  }

  var draftKey = "flomation-draft-" + boot.workflow.id;

  function keepDraft() {
    var kept = FloInspector.withoutTypedSecrets(currentFlow(), specs);
    try { localStorage.setItem(draftKey, JSON.stringify({ base: revision, flow: kept })); } catch (e) { /* storage full or off */ }
  }

  function forgetDraft() {
    try { localStorage.removeItem(draftKey); } catch (e) { /* nothing kept */ }
  }

  function offerDraft() {
    var draft = null;
    try { draft = JSON.parse(localStorage.getItem(draftKey) || "null"); } catch (e) { draft = null; }
    if (!draft || draft.base !== revision || readOnly) return;
    var bar = document.createElement("div");
    bar.className = "draft-bar";
    bar.setAttribute("role", "status");
    bar.innerHTML = "<span>You have unsaved changes from your last visit (they did not validate yet).</span> ";
    var restore = document.createElement("button");
    restore.type = "button"; restore.className = "button small primary"; restore.textContent = "Restore them";
    var drop = document.createElement("button");
    drop.type = "button"; drop.className = "button small"; drop.textContent = "Discard";
    restore.addEventListener("click", function () { bar.remove(); load(draft.flow); reselect(); changed(); });
    drop.addEventListener("click", function () { bar.remove(); forgetDraft(); });
    bar.appendChild(restore); bar.appendChild(drop);
    host.parentElement.appendChild(bar);
  }

  /* --- selection and the property panel --------------------------------------------------- */

  function referenceChoices(dfId) {
    var choices = [];
    var flow = currentFlow();
    var me = dfData()[dfId] ? dfData()[dfId].data.flo.id : null;
    var parents = {};
    flow.edges.forEach(function (e) { (parents[e.target] = parents[e.target] || []).push(e.source); });
    var seen = {}, queue = (parents[me] || []).slice(), direct = {};
    (parents[me] || []).forEach(function (p) { direct[p] = true; });
    var byId = {};
    flow.nodes.forEach(function (n) { byId[n.id] = n; });
    while (queue.length) {
      var id = queue.shift();
      if (seen[id] || !byId[id]) continue;
      seen[id] = true;
      var spec = specs[FloAdapter.actionOf(byId[id])] || { outputs: [] };
      offeredOutputs(byId[id], spec).forEach(function (o) {
        choices.push({ text: "${" + id + "." + o.name + "}", group: "Upstream outputs", hint: (spec.name || id) + " → " + o.name });
        if (direct[id]) choices.push({ text: "${" + o.name + "}", group: "Parent outputs", hint: "from " + (spec.name || id) });
      });
      (parents[id] || []).forEach(function (p) { queue.push(p); });
    }
    flow.nodes.forEach(function (n) {
      if (FloAdapter.actionOf(n) === "common/set_variable") {
        var name = FloAdapter.inputValue(n, "name");
        if (name) choices.push({ text: "${var." + name + "}", group: "Flow variables", hint: "set by " + n.id });
      }
    });
    (boot.references.variables || []).forEach(function (name) { choices.push({ text: "${env." + name + "}", group: "Environment variables", hint: name }); });
    (boot.references.secrets || []).forEach(function (name) { choices.push({ text: "${secrets." + name + "}", group: "Secrets", hint: name }); });
    ["execution_id", "flow_id", "start_time", "trigger_type", "triggerer_email"].forEach(function (name) {
      choices.push({ text: "${flow." + name + "}", group: "Execution", hint: name });
    });
    return choices;
  }

  function pickReference(dfId, callback) {
    var dialog = document.getElementById("ref-dialog");
    var search = document.getElementById("ref-search");
    var list = document.getElementById("ref-list");
    var choices = referenceChoices(dfId);
    function draw() {
      var q = search.value.toLowerCase();
      list.innerHTML = "";
      var shown = choices.filter(function (c) { return !q || (c.text + " " + c.hint + " " + c.group).toLowerCase().indexOf(q) >= 0; });
      if (!shown.length) { var empty = document.createElement("li"); empty.className = "muted"; empty.textContent = "Nothing to reference yet: connect upstream nodes or add variables and secrets in Settings."; list.appendChild(empty); }
      shown.forEach(function (c) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button"; b.className = "ref-choice";
        b.innerHTML = "<code>" + escapeHtml(c.text) + "</code> <span class='muted small'>" + escapeHtml(c.group + " · " + c.hint) + "</span>";
        b.addEventListener("click", function () { dialog.close(); callback(c.text); });
        li.appendChild(b); list.appendChild(li);
      });
    }
    search.value = "";
    search.oninput = draw;
    draw();
    dialog.showModal();
    search.focus();
  }

  function select(dfId) {
    selectedId = dfId;
    document.querySelectorAll(".drawflow-node.flo-picked").forEach(function (n) { n.classList.remove("flo-picked"); });
    var element = dfId && document.getElementById("node-" + dfId);
    if (element) element.classList.add("flo-picked");
    refreshInspector();
  }

  function reselect() {
    if (selectedId && !dfData()[selectedId]) selectedId = null;
    select(selectedId);
  }

  function refreshInspector() {
    var body = document.getElementById("inspector-body");
    var d = selectedId && dfData()[selectedId];
    if (!d) { body.innerHTML = '<p class="muted">Select a node to edit its properties.</p>'; return; }
    if (body.contains(document.activeElement) && body.getAttribute("data-for") === selectedId) {
      // Keep the inputs the author is typing in; only the problems shown change.
      FloInspector.showErrors(body, errors.filter(function (e) { return e.node_id === d.data.flo.id; }));
      return;
    }
    body.setAttribute("data-for", selectedId);
    var node = d.data.flo;
    var dfId = selectedId;
    FloInspector.render(body, node, {
      spec: specs[FloAdapter.actionOf(node)],
      references: boot.references,
      errors: errors.filter(function (e) { return e.node_id === node.id; }),
      readOnly: readOnly,
      urls: boot.urls,
      extras: function (container) { testEventPanel(container, node, dfId); },
      pickReference: function (cb) { pickReference(dfId, cb); },
      onDelete: function () { editor.removeNodeId("node-" + dfId); },
      onChange: function () { nodeEdited(dfId); }
    });
  }

  function nodeEdited(dfId) {
    var d = dfData()[dfId];
    var spec = specs[FloAdapter.actionOf(d.data.flo)];
    var handles = FloAdapter.handlesFor(d.data.flo, spec);
    var old = d.data.handles;
    var grew = handles.some(function (h) { return old.indexOf(h) < 0; });
    if (grew || handles.length !== old.length) {
      // Switch cases or await options changed: rebuild so the ports match (connections on kept handles stay).
      var flow = currentFlow();
      history.current = history.current || JSON.stringify(flow);
      load(flow);
      reselect();
    } else {
      var content = document.querySelector("#node-" + dfId + " .drawflow_content_node");
      if (content) content.innerHTML = renderNode(d.data.flo, spec);
      d.html = content ? content.innerHTML : d.html;
      applyErrors();
    }
    changed();
  }

  /* --- palette ---------------------------------------------------------------------------- */

  function buildPalette(manifest) {
    var list = document.getElementById("palette-list");
    var search = document.getElementById("palette-search");
    var modeLine = document.getElementById("palette-search-mode");
    list.innerHTML = "";
    if (manifest.unavailable || !manifest.nodes.length) {
      list.innerHTML = '<p class="error-message">The node catalogue could not be loaded; existing nodes keep their settings.</p>';
      return;
    }
    function paletteItem(action, category) {
      var spec = specs[action];
      var li = document.createElement("li");
      var item = document.createElement("button");
      item.type = "button";
      item.className = "palette-item cls-" + spec.type;
      item.draggable = !readOnly;
      item.disabled = readOnly;
      item.setAttribute("data-action", action);
      item.setAttribute("data-search", (spec.name + " " + action + " " + (spec.description || "") + " " + category).toLowerCase());
      item.title = spec.description || action;
      var icon = (manifest.node_icons || {})[action] || (manifest.icons || {})[category];
      item.innerHTML = "<span>" + (icon ? '<img class="palette-icon" src="' + escapeHtml(icon) + '" alt="">' : "") +
        escapeHtml(spec.name) + "</span><small>" + escapeHtml(action) + "</small>";
      item.addEventListener("dragstart", function (ev) { ev.dataTransfer.setData("text/x-flo-action", action); ev.dataTransfer.effectAllowed = "copy"; });
      item.addEventListener("click", function () { addNode(action); });
      li.appendChild(item);
      return li;
    }
    Object.keys(manifest.categories).sort().forEach(function (category) {
      var group = document.createElement("details");
      group.open = true;
      group.className = "palette-group";
      var summary = document.createElement("summary");
      var icon = (manifest.icons || {})[category];
      summary.textContent = category;
      if (icon) summary.insertAdjacentHTML("afterbegin", '<img class="palette-icon" src="' + escapeHtml(icon) + '" alt="">');
      group.appendChild(summary);
      var ul = document.createElement("ul");
      manifest.categories[category].forEach(function (action) { ul.appendChild(paletteItem(action, category)); });
      group.appendChild(ul);
      list.appendChild(group);
    });
    var ranked = document.createElement("div");
    ranked.id = "palette-ranked";
    ranked.className = "palette-group";
    ranked.hidden = true;
    list.insertBefore(ranked, list.firstChild);
    var categoryOf = {};
    Object.keys(manifest.categories).forEach(function (c) { manifest.categories[c].forEach(function (a) { categoryOf[a] = c; }); });

    function showGroups(q) {
      // Immediate feedback while the server ranks: a plain match on names, ids and descriptions.
      ranked.hidden = true;
      ranked.innerHTML = "";
      list.querySelectorAll("details.palette-group").forEach(function (group) {
        var any = false;
        group.querySelectorAll(".palette-item").forEach(function (item) {
          var hit = !q || item.getAttribute("data-search").indexOf(q) >= 0;
          item.parentElement.hidden = !hit;
          any = any || hit;
        });
        group.hidden = !any;
        if (q) group.open = true;
      });
    }
    function showRanked(answer) {
      ranked.innerHTML = "";
      var ul = document.createElement("ul");
      (answer.results || []).forEach(function (hit) {
        if (specs[hit.action]) ul.appendChild(paletteItem(hit.action, categoryOf[hit.action] || ""));
      });
      // Added above the plain matches, never instead of them: a node the author is about to click stays put.
      var title = document.createElement("p");
      title.className = "palette-ranked-title";
      title.textContent = ul.children.length ? "Best matches" : "No node matches";
      ranked.appendChild(title);
      if (ul.children.length) ranked.appendChild(ul);
      ranked.hidden = false;
      modeLine.textContent = answer.label || "";
      modeLine.setAttribute("data-mode", answer.mode || "");
      modeLine.hidden = !answer.label;
    }
    var timer = null;
    var asked = 0;
    search.addEventListener("input", function () {
      var q = search.value.trim();
      clearTimeout(timer);
      showGroups(q.toLowerCase());
      if (!q) { modeLine.hidden = true; return; }
      timer = setTimeout(function () {
        var mine = ++asked;
        fetch(boot.urls.paletteSearch + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
          .then(function (answer) { if (mine === asked && search.value.trim() === q) showRanked(answer); })
          .catch(function () {
            if (mine !== asked) return;
            modeLine.textContent = "Matched by name (the ranked search is unavailable)";
            modeLine.setAttribute("data-mode", "name");
            modeLine.hidden = false;
          });
      }, 200);
    });
  }

  function toCanvas(clientX, clientY) {
    var rect = editor.precanvas.getBoundingClientRect();
    return { x: (clientX - rect.x) / editor.zoom, y: (clientY - rect.y) / editor.zoom };
  }

  var NODE_W = 220, NODE_H = 90, GAP = 50;

  function overlaps(x, y) {
    var data = dfData();
    return Object.keys(data).some(function (id) {
      var element = document.getElementById("node-" + id);
      var w = element ? element.offsetWidth : NODE_W, h = element ? element.offsetHeight : NODE_H;
      var d = data[id];
      return x < d.pos_x + w + GAP / 2 && x + NODE_W + GAP / 2 > d.pos_x && y < d.pos_y + h + GAP / 2 && y + NODE_H + GAP / 2 > d.pos_y;
    });
  }

  /* Where a clicked palette item goes: right of the selected node, else the centre of the visible canvas;
   * moved down (then right) until it covers no other node. */
  function freeSpot() {
    var data = dfData(), x, y;
    var selected = selectedId && data[selectedId];
    if (selected) {
      var element = document.getElementById("node-" + selectedId);
      x = selected.pos_x + (element ? element.offsetWidth : NODE_W) + 80;
      y = selected.pos_y;
    } else {
      var box = host.getBoundingClientRect();
      var centre = toCanvas(box.x + box.width / 2, box.y + box.height / 2);
      x = centre.x - NODE_W / 2;
      y = centre.y - NODE_H / 2;
    }
    for (var tries = 0; tries < 40 && overlaps(x, y); tries++) {
      y += NODE_H + GAP;
      if (tries % 6 === 5) { x += NODE_W + GAP; y -= 6 * (NODE_H + GAP); }
    }
    return { x: x, y: y };
  }

  function addNode(action, clientX, clientY) {
    if (readOnly) return;
    var spec = specs[action];
    var taken = {};
    Object.keys(dfData()).forEach(function (k) { taken[dfData()[k].data.flo.id] = true; });
    var id = FloAdapter.newId(action, taken);
    var pos;
    if (clientX === undefined) {
      pos = freeSpot();
    } else {
      pos = toCanvas(clientX, clientY);
    }
    var node = FloAdapter.newNode(spec, id, { x: Math.round(pos.x), y: Math.round(pos.y) });
    var handles = FloAdapter.handlesFor(node, spec);
    var cls = Number(spec.type || 2);
    var dfId = editor.addNode(action, cls === 1 ? 0 : 1, handles.length, pos.x, pos.y, "flo-node cls-" + cls, { flo: node, handles: handles }, renderNode(node, spec));
    state.order.push(String(dfId));
    decorate(dfId);
    select(String(dfId));
    changed();
  }

  /* --- zoom and fit ----------------------------------------------------------------------- */

  function fit() { FloAdapter.fitView(editor, host); }

  /* --- start ------------------------------------------------------------------------------ */

  /* Leaving the page: what is unsaved goes with a request that outlives the page, and the revision is
     sealed so the next visit starts a new one. */
  function saveOnLeave() {
    if (leaving || readOnly || (!dirty && !savedHere)) return;
    leaving = true;
    clearTimeout(timers.save);
    if (dirty) keepDraft();
    Flo.api(boot.urls.flow, {
      method: "PUT", keepalive: true,
      body: { flow: currentFlow(), base_revision: revision, base_edits: edits, seal: true }
    }).then(function () { dirty = false; forgetDraft(); }, function () { keepDraft(); });
  }

  function setupVersionForm() {
    var open = document.getElementById("version-open");
    var form = document.getElementById("version-form");
    var input = document.getElementById("version-message");
    if (!open || !form) return;
    open.addEventListener("click", function () { form.hidden = false; open.hidden = true; input.focus(); });
    document.getElementById("version-cancel").addEventListener("click", function () { form.hidden = true; open.hidden = false; });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var message = input.value.trim();
      if (!message) { input.focus(); return; }
      clearTimeout(timers.snapshot);
      snapshot();
      save(message).then(function () {
        if (!dirty) { input.value = ""; form.hidden = true; open.hidden = false; }
      });
    });
  }

  /* Saves what is not saved yet, after any save in flight; resolves to true when nothing is left unsaved. */
  function flush() {
    clearTimeout(timers.save);
    return Promise.resolve(saving).then(function () { return dirty ? save() : null; }).then(function () { return !dirty; });
  }

  function start(manifest) {
    manifest.nodes.forEach(function (n) { specs[n.action] = n; });
    icons = manifest.icons || {};
    nodeIcons = manifest.node_icons || {};
    editor = new Drawflow(host);
    editor.reroute = false;
    editor.curvature = 0.4;
    editor.zoom_min = 0.3;
    editor.editor_mode = readOnly ? "view" : "edit";
    editor.start();
    load(boot.flow);
    history.current = JSON.stringify(currentFlow());
    buildPalette(manifest);
    ["nodeCreated", "nodeRemoved", "nodeMoved", "connectionCreated", "connectionRemoved"].forEach(function (name) {
      editor.on(name, changed);
    });
    editor.on("connectionCreated", function (c) {
      if (c.output_id === c.input_id) editor.removeSingleConnection(c.output_id, c.input_id, c.output_class, c.input_class);
    });
    editor.on("nodeRemoved", function (id) {
      state.order = state.order.filter(function (x) { return x !== String(id); });
      if (String(id) === selectedId) select(null);
    });
    editor.on("nodeSelected", function (id) { select(String(id)); });
    editor.on("nodeUnselected", function () { /* keep the panel: clicking the canvas should not lose work */ });
    host.addEventListener("dragover", function (ev) { ev.preventDefault(); ev.dataTransfer.dropEffect = "copy"; });
    host.addEventListener("drop", function (ev) {
      ev.preventDefault();
      var action = ev.dataTransfer.getData("text/x-flo-action");
      if (action && specs[action]) addNode(action, ev.clientX, ev.clientY);
    });
    document.getElementById("undo").addEventListener("click", function () { travel(history.undo, history.redo); });
    document.getElementById("redo").addEventListener("click", function () { travel(history.redo, history.undo); });
    document.getElementById("zoom-in").addEventListener("click", function () { editor.zoom_in(); });
    document.getElementById("zoom-out").addEventListener("click", function () { editor.zoom_out(); });
    document.getElementById("zoom-fit").addEventListener("click", fit);
    document.addEventListener("keydown", function (ev) {
      if (!(ev.ctrlKey || ev.metaKey) || ev.key.toLowerCase() !== "z") return;
      if (document.activeElement && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) return;
      ev.preventDefault();
      if (ev.shiftKey) travel(history.redo, history.undo); else travel(history.undo, history.redo);
    });
    // Leaving saves (and seals the revision) instead of asking; work that cannot be saved stays as a draft.
    window.addEventListener("beforeunload", saveOnLeave);
    window.addEventListener("pagehide", saveOnLeave);
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden" && dirty) flush(); });
    setupVersionForm();
    updateUndoButtons();
    if (readOnly) setStatus(boot.workflow.archived ? "Archived: read only" : boot.workflow.managed ? "Managed in files: read only" : "Read only");
    Flo.api(boot.urls.flow).then(function (body) { errors = body.errors || []; applyErrors(); }, function () {});
    // After the nodes are drawn and the layout has settled, so their sizes are known.
    requestAnimationFrame(function () { requestAnimationFrame(fit); });
    offerDraft();
    window.floCanvas = { editor: editor, currentFlow: currentFlow, save: save, flush: flush, addNode: addNode, isDirty: function () { return dirty || !!saving; }, revision: function () { return revision; } };
    if (window.FloRunDialog) FloRunDialog.setup(window.floCanvas, boot);
  }

  Flo.api(boot.urls.manifest).then(start, function (error) {
    document.getElementById("palette-list").innerHTML = "";
    start({ nodes: [], categories: {}, unavailable: true });
    setStatus("Node catalogue unavailable: " + error.message, "bad");
  });
})();
