/* The property panel: a form generated from a node's input schema (manifest), writing into
 * data.config.inputs, with pickers that insert ${...} references. */
(function (global) {
  "use strict";

  var uid = 0;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else if (attrs[k] !== false && attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function findInput(node, name) {
    var cfg = FloAdapter.config(node);
    cfg.inputs = cfg.inputs || [];
    for (var i = 0; i < cfg.inputs.length; i++) if (cfg.inputs[i].name === name) return cfg.inputs[i];
    return null;
  }

  function setInput(node, name, type, value) {
    var entry = findInput(node, name);
    if (!entry) { entry = { name: name, type: type, value: value }; FloAdapter.config(node).inputs.push(entry); }
    entry.value = value;
    if (!entry.type) entry.type = type;
  }

  function kvRows(value) {
    if (typeof value === "string" && value.trim()) { try { value = JSON.parse(value); } catch (e) { value = []; } }
    if (Array.isArray(value)) return value.map(function (r) { return { key: r.key !== undefined ? r.key : r.name, value: r.value }; });
    if (value && typeof value === "object") return Object.keys(value).map(function (k) { return { key: k, value: value[k] }; });
    return [];
  }

  function asText(value) {
    if (value === null || value === undefined) return "";
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  function insertAtCursor(field, text) {
    var start = field.selectionStart !== undefined && field.selectionStart !== null ? field.selectionStart : field.value.length;
    var end = field.selectionEnd !== undefined && field.selectionEnd !== null ? field.selectionEnd : start;
    field.value = field.value.slice(0, start) + text + field.value.slice(end);
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
    field.focus();
  }

  function refButton(field, options) {
    var button = el("button", { type: "button", className: "button tiny ref-button", title: "Insert a reference to a secret, variable or upstream output", text: "${…}" });
    button.setAttribute("aria-label", "Insert a reference into " + (field.getAttribute("aria-label") || field.id));
    button.addEventListener("click", function () { options.pickReference(function (text) { insertAtCursor(field, text); }); });
    return button;
  }

  function fieldFor(spec, current, options, onValue) {
    var type = (spec.type || "string").toLowerCase();
    var id = "prop-" + (++uid);
    var hasOptions = spec.options && spec.options.length;
    var control, extra = null;
    if (type === "boolean") {
      control = el("input", { type: "checkbox", id: id });
      control.checked = current === true || current === "true" || current === "1" || current === "yes";
      control.addEventListener("change", function () { onValue(control.checked); });
    } else if (hasOptions) {
      var multiple = type === "multi_select";
      control = el("select", { id: id, multiple: multiple });
      if (!multiple) control.appendChild(el("option", { value: "", text: "—" }));
      var chosen = multiple ? (Array.isArray(current) ? current.map(String) : []) : [String(current === undefined || current === null ? "" : current)];
      spec.options.forEach(function (o) {
        var option = el("option", { value: String(o.value), text: o.name || String(o.value) });
        if (chosen.indexOf(String(o.value)) >= 0) option.selected = true;
        control.appendChild(option);
      });
      control.addEventListener("change", function () {
        if (multiple) onValue(Array.prototype.filter.call(control.options, function (o) { return o.selected; }).map(function (o) { return o.value; }));
        else onValue(control.value);
      });
    } else if (type === "secret" || type === "credential") {
      control = el("select", { id: id });
      control.appendChild(el("option", { value: "", text: "Choose a secret" }));
      (options.references.secrets || []).forEach(function (name) {
        var ref = "${secrets." + name + "}";
        var option = el("option", { value: ref, text: name });
        if (current === ref) option.selected = true;
        control.appendChild(option);
      });
      if (current && !(options.references.secrets || []).some(function (n) { return "${secrets." + n + "}" === current; })) {
        control.appendChild(el("option", { value: current, text: current, selected: true }));
      }
      control.addEventListener("change", function () { onValue(control.value); });
    } else if (type === "key_value_array") {
      return kvEditor(spec, current, options, onValue, id);
    } else if (type === "text" || type === "code" || type === "object" || type === "rows" || type === "field_source_map") {
      control = el("textarea", { id: id, rows: type === "code" ? 8 : 3, spellcheck: type === "code" ? "false" : "true", className: type === "code" ? "code" : "" });
      control.value = asText(current);
      control.addEventListener("input", function () {
        var v = control.value;
        if (type === "object" || type === "rows") { try { v = JSON.parse(v); } catch (e) { /* keep text: it may hold ${...} */ } }
        onValue(v);
      });
      extra = refButton(control, options);
    } else {
      var numeric = type === "integer" || type === "number" || type === "money";
      control = el("input", { id: id, type: "text", inputmode: numeric ? "decimal" : null, autocomplete: "off" });
      control.value = asText(current);
      control.addEventListener("input", function () {
        var v = control.value;
        if (numeric && v.trim() !== "" && !isNaN(Number(v))) v = Number(v);
        onValue(v);
      });
      extra = refButton(control, options);
    }
    control.setAttribute("data-input", spec.name);
    control.setAttribute("aria-label", spec.name);
    if (options.readOnly) control.disabled = true;
    var label = el("label", { for: id }, [spec.label || spec.name, spec.required ? el("span", { className: "req", text: " *", title: "required" }) : null]);
    var row = el("div", { className: "prop type-" + type }, [label, el("div", { className: "prop-control" }, [control, options.readOnly ? null : extra])]);
    if (spec.description) row.appendChild(el("p", { className: "hint", text: spec.description }));
    return row;
  }

  function kvEditor(spec, current, options, onValue, id) {
    var rows = kvRows(current);
    var list = el("div", { className: "kv-list", id: id, role: "group", "aria-label": spec.name, "data-input": spec.name });
    function emit() { onValue(rows.map(function (r) { return { key: r.key, value: r.value }; })); }
    function draw() {
      list.innerHTML = "";
      rows.forEach(function (r, i) {
        var k = el("input", { type: "text", placeholder: "key", "aria-label": spec.name + " key " + (i + 1) });
        var v = el("input", { type: "text", placeholder: "value", "aria-label": spec.name + " value " + (i + 1) });
        k.value = asText(r.key); v.value = asText(r.value);
        k.addEventListener("input", function () { r.key = k.value; emit(); });
        v.addEventListener("input", function () { r.value = v.value; emit(); });
        var remove = el("button", { type: "button", className: "button tiny", text: "✕", "aria-label": "Remove row " + (i + 1) });
        remove.addEventListener("click", function () { rows.splice(i, 1); draw(); emit(); });
        list.appendChild(el("div", { className: "kv-row" }, [k, v, options.readOnly ? null : refButton(v, options), options.readOnly ? null : remove]));
      });
      if (!options.readOnly) {
        var add = el("button", { type: "button", className: "button tiny", text: "Add row" });
        add.addEventListener("click", function () { rows.push({ key: "", value: "" }); draw(); });
        list.appendChild(add);
      }
    }
    draw();
    var label = el("span", { className: "label", text: spec.name });
    var row = el("div", { className: "prop type-key_value_array" }, [label, list]);
    if (spec.description) row.appendChild(el("p", { className: "hint", text: spec.description }));
    return row;
  }

  /* Renders the panel for `node`. options: spec, references {secrets, variables}, errors [..],
   * readOnly, onChange(), onDelete(), pickReference(callback). */
  function render(container, node, options) {
    container.innerHTML = "";
    var spec = options.spec || { name: FloAdapter.actionOf(node), inputs: [] };
    var cfg = FloAdapter.config(node);
    container.appendChild(el("h2", { text: spec.name || FloAdapter.actionOf(node) }));
    container.appendChild(el("p", { className: "muted small" }, [el("code", { text: FloAdapter.actionOf(node) }), " · id ", el("code", { text: node.id })]));
    if (spec.description) container.appendChild(el("p", { className: "hint", text: spec.description }));
    if (!options.spec) container.appendChild(el("p", { className: "error-message", text: "This node type is not in the catalogue; its settings are kept as they are." }));
    (options.errors || []).forEach(function (e) {
      container.appendChild(el("p", { className: "error-message", role: "alert", text: (e.field ? e.field + ": " : "") + e.message }));
    });
    var form = el("form", { className: "props", "aria-label": "Properties of " + node.id });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var nameId = "prop-name-" + (++uid);
    var nameInput = el("input", { id: nameId, type: "text", placeholder: spec.name || "", "data-input": "__name" });
    nameInput.value = cfg.name || "";
    nameInput.disabled = !!options.readOnly;
    nameInput.addEventListener("input", function () { cfg.name = nameInput.value || null; options.onChange(); });
    form.appendChild(el("div", { className: "prop" }, [el("label", { for: nameId, text: "Label" }), nameInput]));
    var declared = {};
    (spec.inputs || []).forEach(function (input) {
      declared[input.name] = true;
      var entry = findInput(node, input.name);
      form.appendChild(fieldFor(input, entry ? entry.value : input.default, options, function (value) {
        setInput(node, input.name, input.type || "string", value);
        options.onChange();
      }));
    });
    (cfg.inputs || []).forEach(function (entry) {
      if (declared[entry.name]) return;
      form.appendChild(fieldFor({ name: entry.name, type: entry.type || "string", description: "Not in this node's schema; kept from the flow file." }, entry.value, options, function (value) {
        entry.value = value;
        options.onChange();
      }));
    });
    container.appendChild(form);
    if (!options.readOnly && options.onDelete) {
      var del = el("button", { type: "button", className: "button small danger", text: "Delete node" });
      del.addEventListener("click", options.onDelete);
      container.appendChild(del);
    }
  }

  global.FloInspector = { render: render };
})(window);
