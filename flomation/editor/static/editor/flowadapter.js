/* Flomation flow JSON (React Flow shape) <-> Drawflow's document, both ways, losing nothing.
 *
 * Node ids, types, data (label, config with its inputs) and any extra fields are kept: each Drawflow
 * node carries the original Flomation node in data.flo. Edge handles map to Drawflow output ports
 * (output_1 = first handle, ...); the handle names per node live in data.handles. Edges keep their
 * ids, targetHandle and extra fields through a side table keyed by source, handle and target.
 */
(function (global) {
  "use strict";

  var SAFE_ID = /^[A-Za-z0-9_-]+$/;
  var CLASS = { trigger: 1, action: 2, output: 3, conditional: 4, loop: 5, switch: 6, await: 7 };

  function clone(value) { return value === undefined ? undefined : JSON.parse(JSON.stringify(value)); }

  function actionOf(node) { return node.type || (node.data && node.data.label) || ""; }

  function config(node) {
    node.data = node.data || {};
    node.data.config = node.data.config || {};
    return node.data.config;
  }

  function inputValue(node, name) {
    var inputs = (node.data && node.data.config && node.data.config.inputs) || [];
    for (var i = 0; i < inputs.length; i++) if (inputs[i].name === name) return inputs[i].value;
    return undefined;
  }

  function classOf(node, spec) {
    var c = node.data && node.data.config && node.data.config.type;
    return Number(c || (spec && spec.type) || (actionOf(node).indexOf("trigger/") === 0 ? 1 : 2));
  }

  function listOf(value) {
    if (Array.isArray(value)) return value;
    if (typeof value === "string" && value.trim()) {
      try { var parsed = JSON.parse(value); return Array.isArray(parsed) ? parsed : []; } catch (e) { return []; }
    }
    return [];
  }

  /* The output handles a node offers, in port order; "" is the plain (unnamed) output. */
  function handlesFor(node, spec) {
    var cls = classOf(node, spec);
    if (cls === CLASS.switch) {
      var cases = listOf(inputValue(node, "cases"));
      var names = cases.map(function (_, i) { return "case_" + i; });
      return names.concat(["default"]);
    }
    if (cls === CLASS.await) {
      var options = listOf(inputValue(node, "options"));
      var opts = options.map(function (o) { return "option_" + (o && o.value !== undefined ? o.value : o); });
      return opts.concat(["timeout", "delivery"]);
    }
    if (spec && spec.handles && spec.handles.length) return spec.handles.slice();
    if (cls === CLASS.conditional) return ["true-branch", "false-branch"];
    if (cls === CLASS.loop) return ["loop", "output"];
    return [""];
  }

  function hasInput(node, spec) { return classOf(node, spec) !== CLASS.trigger; }

  function edgeKey(source, handle, target) { return source + "\u0000" + (handle || "") + "\u0000" + target; }

  function safeId(id, taken) {
    if (SAFE_ID.test(id) && !taken[id]) return id;
    var base = "n" + String(id).replace(/[^A-Za-z0-9_-]/g, "_");
    var candidate = base, n = 1;
    while (taken[candidate]) candidate = base + "_" + (n++);
    return candidate;
  }

  /* Flomation flow -> {document (for editor.import), state}. `specs` maps action id -> manifest entry;
   * `render(floNode, spec, handles)` returns the node's inner HTML. */
  function toDrawflow(flow, specs, render) {
    flow = flow || {};
    var nodes = Array.isArray(flow.nodes) ? flow.nodes : [];
    var edges = Array.isArray(flow.edges) ? flow.edges : [];
    var state = { toDf: {}, toFlo: {}, order: [], edgeMeta: {}, edgeOrder: {}, extra: {} };
    Object.keys(flow).forEach(function (k) { if (k !== "nodes" && k !== "edges") state.extra[k] = clone(flow[k]); });
    var taken = {};
    nodes.forEach(function (node) {
      var dfId = safeId(String(node.id), taken);
      taken[dfId] = true;
      state.toDf[node.id] = dfId;
      state.toFlo[dfId] = node.id;
      state.order.push(dfId);
    });
    var handles = {};
    nodes.forEach(function (node) { handles[node.id] = handlesFor(node, specs[actionOf(node)]); });
    edges.forEach(function (edge, index) {
      var h = edge.sourceHandle || "";
      if (handles[edge.source] && handles[edge.source].indexOf(h) < 0) handles[edge.source].push(h);
      state.edgeMeta[edgeKey(edge.source, h, edge.target)] = clone(edge);
      state.edgeOrder[edgeKey(edge.source, h, edge.target)] = index;
    });
    var data = {};
    nodes.forEach(function (node, index) {
      var spec = specs[actionOf(node)];
      var dfId = state.toDf[node.id];
      var outputs = {};
      handles[node.id].forEach(function (_, k) { outputs["output_" + (k + 1)] = { connections: [] }; });
      var needsInput = hasInput(node, spec) || edges.some(function (e) { return e.target === node.id; });
      var pos = node.position || {};
      data[dfId] = {
        id: dfId,
        name: actionOf(node),
        data: { flo: clone(node), handles: handles[node.id] },
        class: "flo-node cls-" + classOf(node, spec),
        html: render ? render(node, spec, handles[node.id]) : actionOf(node),
        typenode: false,
        inputs: needsInput ? { input_1: { connections: [] } } : {},
        outputs: outputs,
        pos_x: typeof pos.x === "number" ? pos.x : 80 + (index % 4) * 260,
        pos_y: typeof pos.y === "number" ? pos.y : 80 + Math.floor(index / 4) * 160
      };
    });
    edges.forEach(function (edge) {
      var s = state.toDf[edge.source], t = state.toDf[edge.target];
      if (!s || !t || !data[t].inputs.input_1) return;
      var port = "output_" + (handles[edge.source].indexOf(edge.sourceHandle || "") + 1);
      data[s].outputs[port].connections.push({ node: t, output: "input_1" });
      data[t].inputs.input_1.connections.push({ node: s, input: port });
    });
    return { document: { drawflow: { Home: { data: data } } }, state: state };
  }

  /* Drawflow's export -> Flomation flow, in the original node and edge order (new ones last). */
  function fromDrawflow(exported, state) {
    var data = (exported && exported.drawflow && exported.drawflow.Home && exported.drawflow.Home.data) || {};
    var ids = Object.keys(data);
    var rank = {};
    state.order.forEach(function (id, i) { rank[id] = i; });
    ids.sort(function (a, b) {
      var ra = a in rank ? rank[a] : 1e9, rb = b in rank ? rank[b] : 1e9;
      return ra - rb;
    });
    var nodes = ids.map(function (dfId) {
      var d = data[dfId];
      var node = clone(d.data.flo);
      node.position = { x: Math.round(d.pos_x), y: Math.round(d.pos_y) };
      return node;
    });
    var floId = function (dfId) { return data[dfId] && data[dfId].data.flo.id; };
    var edges = [];
    ids.forEach(function (dfId) {
      var d = data[dfId];
      Object.keys(d.outputs).forEach(function (port) {
        var handle = d.data.handles[Number(port.split("_")[1]) - 1] || "";
        d.outputs[port].connections.forEach(function (c) {
          var source = floId(dfId), target = floId(c.node);
          var key = edgeKey(source, handle, target);
          var edge = state.edgeMeta[key] ? clone(state.edgeMeta[key]) : null;
          if (!edge) {
            edge = { id: "e-" + source + "-" + target + (handle ? "-" + handle : ""), source: source, target: target };
            if (handle) edge.sourceHandle = handle;
          }
          edges.push({ edge: edge, order: key in state.edgeOrder ? state.edgeOrder[key] : 1e9 + edges.length });
        });
      });
    });
    edges.sort(function (a, b) { return a.order - b.order; });
    var flow = clone(state.extra) || {};
    flow.nodes = nodes;
    flow.edges = edges.map(function (e) { return e.edge; });
    return flow;
  }

  /* A new Flomation node for a manifest entry, inputs filled with their defaults. */
  function newNode(spec, id, position) {
    var inputs = (spec.inputs || []).map(function (i) {
      var value = i.default === undefined || i.default === null ? "" : clone(i.default);
      return { name: i.name, type: i.type || "string", value: value };
    });
    return {
      id: id,
      type: spec.action,
      position: position || { x: 0, y: 0 },
      data: {
        id: id,
        label: spec.action,
        config: { id: id, name: null, type: Number(spec.type || 2), plugin: spec.action, inputs: inputs, outputs: [] }
      }
    };
  }

  function newId(action, taken) {
    var base = (action.split("/").pop() || "node").replace(/[^A-Za-z0-9]/g, "_").toLowerCase();
    for (;;) {
      var id = base + "_" + Math.random().toString(36).slice(2, 8);
      if (!taken[id]) return id;
    }
  }

  /* Fits the whole graph in the canvas host and centres it. The zoom never goes below `minZoom` (default
   * 0.6), where ports stay large enough to hit (12 px): a graph too big for that is centred at the minimum zoom
   * and the author scrolls. Node sizes come from the drawn elements, positions from Drawflow's data. */
  function fitView(editor, host, options) {
    options = options || {};
    var data = editor.drawflow.drawflow[editor.module].data;
    var ids = Object.keys(data);
    if (!ids.length || !host.clientWidth) return null;
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    ids.forEach(function (id) {
      var element = document.getElementById("node-" + id);
      var w = element ? element.offsetWidth : 200, h = element ? element.offsetHeight : 80;
      minX = Math.min(minX, data[id].pos_x); minY = Math.min(minY, data[id].pos_y);
      maxX = Math.max(maxX, data[id].pos_x + w); maxY = Math.max(maxY, data[id].pos_y + h);
    });
    var pad = options.padding === undefined ? 48 : options.padding;
    var width = host.clientWidth, height = host.clientHeight;
    var zoom = Math.min((width - pad * 2) / (maxX - minX), (height - pad * 2) / (maxY - minY), options.maxZoom || 1);
    zoom = Math.max(options.minZoom || 0.6, Math.min(editor.zoom_max, zoom));
    // Drawflow scales its precanvas about the precanvas's centre: screen = c + (p - c) * zoom + translate.
    var cx = editor.precanvas.clientWidth / 2, cy = editor.precanvas.clientHeight / 2;
    var midX = (minX + maxX) / 2, midY = (minY + maxY) / 2;
    var tx = width / 2 - cx - (midX - cx) * zoom;
    var ty = height / 2 - cy - (midY - cy) * zoom;
    editor.zoom = zoom; editor.zoom_last_value = zoom;
    editor.canvas_x = tx; editor.canvas_y = ty;
    editor.precanvas.style.transform = "translate(" + tx + "px, " + ty + "px) scale(" + zoom + ")";
    return zoom;
  }

  global.FloAdapter = {
    fitView: fitView,
    CLASS: CLASS,
    actionOf: actionOf,
    classOf: classOf,
    config: config,
    inputValue: inputValue,
    handlesFor: handlesFor,
    toDrawflow: toDrawflow,
    fromDrawflow: fromDrawflow,
    newNode: newNode,
    newId: newId,
    clone: clone
  };
})(window);
