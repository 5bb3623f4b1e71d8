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
    delete entry.set; /* "set" is what the platform said when it sent the flow; a change replaces it */
    if (!entry.type) entry.type = type;
  }

  /* A trigger's secret is stored encrypted apart from the flow: the flow holds {secret_ref: id} (or a
   * ${secrets.NAME} reference), and the platform never sends a value back, only whether one is set. */
  function isSecretSet(value, entry) {
    if (value && typeof value === "object") return !!value.secret_ref;
    if (typeof value === "string") return value !== "";
    return !!(entry && entry.set);
  }

  function envSecretPicker(id, current, options, onValue) {
    var control = el("select", { id: id });
    control.appendChild(el("option", { value: "", text: "Choose an environment secret" }));
    (options.references.secrets || []).forEach(function (name) {
      var ref = "${secrets." + name + "}";
      var option = el("option", { value: ref, text: name });
      if (current === ref) option.selected = true;
      control.appendChild(option);
    });
    if (typeof current === "string" && current.indexOf("${secret") === 0 && !(options.references.secrets || []).some(function (n) { return "${secrets." + n + "}" === current; })) {
      control.appendChild(el("option", { value: current, text: current, selected: true }));
    }
    control.addEventListener("change", function () { onValue(control.value); });
    return control;
  }

  /* The write-only field of a trigger secret: "Set" / "Not set", Replace (a password field, or an
   * environment secret) and Clear. The value typed is sent once and replaced by the stored reference. */
  function storedSecretField(spec, current, entry, options, onValue, id) {
    var box = el("div", { className: "secret-field", id: id, role: "group", "aria-label": spec.name, "data-input": spec.name });
    var envRef = typeof current === "string" && /^\$\{secrets?\./.test(current);
    var typed = typeof current === "string" && current !== "" && !envRef;
    function draw(editing) {
      box.innerHTML = "";
      var set = isSecretSet(current, entry);
      var status = envRef ? "Set: environment secret " + current : typed ? "Set: saved encrypted when this flow is saved" : set ? "Set" : "Not set";
      box.appendChild(el("span", { className: "secret-status " + (set ? "is-set" : "not-set"), "data-secret-status": set ? "set" : "not-set", text: status }));
      if (options.readOnly) return;
      if (!editing) {
        var replace = el("button", { type: "button", className: "button tiny", text: set ? "Replace" : "Set a value" });
        replace.addEventListener("click", function () { draw(true); });
        box.appendChild(replace);
        if (set) {
          var clear = el("button", { type: "button", className: "button tiny", text: "Clear" });
          clear.addEventListener("click", function () { current = null; envRef = typed = false; if (entry) delete entry.set; onValue(null); draw(false); });
          box.appendChild(clear);
        }
        return;
      }
      var field = el("input", { type: "password", autocomplete: "new-password", "aria-label": spec.name + " new value", placeholder: "New value" });
      var apply = el("button", { type: "button", className: "button tiny", text: "Use this value" });
      apply.addEventListener("click", function () {
        if (!field.value) return;
        current = field.value; typed = true; envRef = false;
        onValue(field.value);
        field.value = "";
        draw(false);
      });
      var picker = envSecretPicker(id + "-env", envRef ? current : "", options, function (ref) {
        if (!ref) return;
        current = ref; envRef = true; typed = false;
        onValue(ref);
        draw(false);
      });
      picker.setAttribute("aria-label", spec.name + " environment secret");
      var cancel = el("button", { type: "button", className: "button tiny", text: "Cancel" });
      cancel.addEventListener("click", function () { draw(false); });
      box.appendChild(el("div", { className: "secret-replace" }, [field, apply, el("span", { className: "muted small", text: "or" }), picker, cancel]));
      field.focus();
    }
    draw(false);
    return box;
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

  /* The problem with a value as typed, checked here before any save ("" when it is fine). */
  function problemWith(spec, value) {
    var type = (spec.type || "string").toLowerCase();
    if (value === null || value === undefined || value === "") return spec.required && spec.default === null ? "is required" : "";
    if (typeof value === "string" && value.indexOf("${") >= 0) return "";
    if ((type === "integer" || type === "number") && (typeof value !== "number" || (type === "integer" && Math.floor(value) !== value))) {
      return type === "integer" ? "must be a whole number" : "must be a number";
    }
    if (type === "cron" && String(value).trim().split(/\s+/).length !== 5) return "needs five fields: minute hour day-of-month month day-of-week";
    if (type === "timezone" && global.Intl && Intl.supportedValuesOf && Intl.supportedValuesOf("timeZone").concat(["UTC"]).indexOf(String(value)) < 0) {
      return "is not an IANA time zone such as Europe/London";
    }
    if (spec.options && spec.options.length) {
      var allowed = spec.options.map(function (o) { return String(o.value); }).concat((spec.accepts || []).map(String));
      var items = Array.isArray(value) ? value : [value];
      for (var i = 0; i < items.length; i++) if (allowed.indexOf(String(items[i])) < 0) return "must be one of: " + spec.options.map(function (o) { return o.value; }).join(", ");
    }
    return "";
  }

  function fieldFor(spec, current, options, onValue) {
    var type = (spec.type || "string").toLowerCase();
    var problem = el("p", { className: "error-message field-problem", role: "alert", hidden: true });
    var reported = onValue;
    onValue = function (value) {
      var text = problemWith(spec, value);
      problem.textContent = text ? (spec.label || spec.name) + " " + text : "";
      problem.hidden = !text;
      reported(value);
    };
    var id = "prop-" + (++uid);
    var hasOptions = spec.options && spec.options.length;
    var control, extra = null;
    if (type === "boolean") {
      control = el("input", { type: "checkbox", id: id });
      control.checked = current === true || current === "true" || current === "1" || current === "yes";
      control.addEventListener("change", function () { onValue(control.checked); });
    } else if (type === "connection" && global.FloConnections) {
      control = FloConnections.picker(spec, current, options, onValue, id); /* connections.js */
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
    } else if ((type === "secret" || type === "credential") && options.storedSecrets) {
      control = storedSecretField(spec, current, options.entryFor ? options.entryFor(spec.name) : null, options, onValue, id);
    } else if (type === "secret" || type === "credential") {
      control = el("select", { id: id });
      control.appendChild(el("option", { value: "", text: "Choose a secret" }));
      (options.references.secrets || []).forEach(function (name) {
        var ref = "${secrets." + name + "}";
        var option = el("option", { value: ref, text: name });
        if (current === ref) option.selected = true;
        control.appendChild(option);
      });
      if (typeof current === "string" && current && !(options.references.secrets || []).some(function (n) { return "${secrets." + n + "}" === current; })) {
        control.appendChild(el("option", { value: current, text: current, selected: true }));
      }
      control.addEventListener("change", function () { onValue(control.value); });
    } else if (type === "timezone") {
      control = el("input", { id: id, type: "text", list: "flo-timezones", autocomplete: "off" });
      control.value = asText(current);
      control.addEventListener("input", function () { onValue(control.value.trim()); });
      if (!document.getElementById("flo-timezones") && global.Intl && Intl.supportedValuesOf) {
        var zones = el("datalist", { id: "flo-timezones" });
        ["UTC"].concat(Intl.supportedValuesOf("timeZone")).forEach(function (z) { zones.appendChild(el("option", { value: z })); });
        document.body.appendChild(zones);
      }
    } else if (spec.name === "input_schema" && options.action === "trigger/manual") {
      return schemaBuilder(spec, current, options, onValue, id);
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
    if (!control.getAttribute("aria-label")) control.setAttribute("aria-label", spec.name);
    if (options.readOnly && control.tagName !== "DIV") control.disabled = true;
    var shownType = type === "connection" && spec.connection ? spec.connection + " connection" : type;
    var label = el("label", { for: id }, [spec.label || spec.name, spec.required ? el("span", { className: "req", text: " *", title: "required" }) : null, el("span", { className: "input-type", text: shownType, title: "input type" })]);
    var row = el("div", { className: "prop type-" + type }, [label, el("div", { className: "prop-control" }, [control, options.readOnly ? null : extra])]);
    if (spec.description) row.appendChild(el("p", { className: "hint", text: spec.description }));
    row.appendChild(problem);
    if (current !== undefined && current !== null && current !== "") {
      var initial = problemWith(spec, current);
      problem.textContent = initial ? (spec.label || spec.name) + " " + initial : "";
      problem.hidden = !initial;
    }
    return row;
  }

  /* A manual trigger's input schema as fields [{name, type, required, default, enum}], whatever shape it was
   * written in (a list, an object of name: field, or JSON text). */
  function schemaFields(value) {
    if (typeof value === "string" && value.trim()) { try { value = JSON.parse(value); } catch (e) { return []; } }
    if (value && !Array.isArray(value) && typeof value === "object") {
      value = Object.keys(value).map(function (k) { return Object.assign({ name: k }, typeof value[k] === "object" ? value[k] : { type: value[k] }); });
    }
    return (Array.isArray(value) ? value : []).filter(function (f) { return f && typeof f === "object"; }).map(function (f) {
      return { name: f.name || "", type: f.type || "string", required: !!f.required, default: f.default, enum: f.enum || f.options };
    });
  }

  var SCHEMA_TYPES = ["string", "integer", "number", "boolean", "object", "array"];

  function typedDefault(type, text) {
    if (text === "") return undefined;
    if (type === "integer" || type === "number") return isNaN(Number(text)) ? text : Number(text);
    if (type === "boolean") return text === "true" ? true : text === "false" ? false : text;
    if (type === "object" || type === "array") { try { return JSON.parse(text); } catch (e) { return text; } }
    return text;
  }

  /* The input schema's form builder: one row per field (name, type, required, default, options). */
  function schemaBuilder(spec, current, options, onValue, id) {
    var fields = schemaFields(current);
    var box = el("div", { className: "schema-builder", id: id, role: "group", "aria-label": "Input fields", "data-input": spec.name });
    function emit() {
      onValue(fields.filter(function (f) { return f.name; }).map(function (f) {
        var out = { name: f.name, type: f.type, required: !!f.required };
        if (f.default !== undefined && f.default !== "") out.default = f.default;
        if (f.enum && f.enum.length) out.enum = f.enum;
        return out;
      }));
    }
    function draw() {
      box.innerHTML = "";
      fields.forEach(function (f, i) {
        var n = i + 1;
        var name = el("input", { type: "text", placeholder: "name", "aria-label": "Field " + n + " name", "data-schema": "name" });
        name.value = f.name;
        name.addEventListener("input", function () { f.name = name.value.trim(); emit(); });
        var type = el("select", { "aria-label": "Field " + n + " type", "data-schema": "type" });
        SCHEMA_TYPES.forEach(function (t) { var o = el("option", { value: t, text: t }); if (t === f.type) o.selected = true; type.appendChild(o); });
        type.addEventListener("change", function () { f.type = type.value; f.default = typedDefault(f.type, def.value); emit(); });
        var required = el("input", { type: "checkbox", "aria-label": "Field " + n + " required", "data-schema": "required" });
        required.checked = !!f.required;
        required.addEventListener("change", function () { f.required = required.checked; emit(); });
        var def = el("input", { type: "text", placeholder: "default", "aria-label": "Field " + n + " default", "data-schema": "default" });
        def.value = f.default === undefined || f.default === null ? "" : typeof f.default === "string" ? f.default : JSON.stringify(f.default);
        def.addEventListener("input", function () { f.default = typedDefault(f.type, def.value); emit(); });
        var choices = el("input", { type: "text", placeholder: "options: a, b, c", "aria-label": "Field " + n + " options", "data-schema": "options" });
        choices.value = (f.enum || []).join(", ");
        choices.addEventListener("input", function () {
          f.enum = choices.value.split(",").map(function (x) { return x.trim(); }).filter(Boolean).map(function (x) { return typedDefault(f.type, x); });
          emit();
        });
        var remove = el("button", { type: "button", className: "button tiny", text: "✕", "aria-label": "Remove field " + n });
        remove.addEventListener("click", function () { fields.splice(i, 1); draw(); emit(); });
        var controls = [name, type, el("label", { className: "small schema-required" }, [required, " required"]), options.readOnly ? el("span") : remove, def, choices];
        if (options.readOnly) controls.forEach(function (c) { if (c && c.tagName !== "LABEL") c.disabled = true; });
        box.appendChild(el("div", { className: "schema-row" }, controls));
      });
      if (!options.readOnly) {
        var add = el("button", { type: "button", className: "button tiny", text: "Add field" });
        add.addEventListener("click", function () { fields.push({ name: "", type: "string", required: false }); draw(); var last = box.querySelectorAll("[data-schema=name]"); if (last.length) last[last.length - 1].focus(); });
        box.appendChild(add);
      }
    }
    draw();
    var row = el("div", { className: "prop type-schema" }, [el("span", { className: "label", text: "Input fields" }), box]);
    row.appendChild(el("p", { className: "hint", text: "What a run asks for: the run dialog and the API check these; downstream nodes reference them as ${name}." }));
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

  /* Replaces the panel's problem list: called after every save, even while the author is typing in it. */
  function showErrors(container, errors) {
    var box = container.querySelector(".panel-errors");
    if (!box) return;
    box.innerHTML = "";
    (errors || []).forEach(function (e) {
      box.appendChild(el("p", { className: "error-message", role: "alert", text: (e.field ? e.field + ": " : "") + e.message }));
    });
  }

  /* A schedule's next five fire times in its time zone, asked of the platform as the author types. */
  function schedulePreview(node, url) {
    var box = el("div", { className: "cron-preview", "aria-live": "polite", "data-cron-preview": "" });
    var timer = null, asked = 0;
    function refresh() {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var query = new URLSearchParams();
        (FloAdapter.config(node).inputs || []).forEach(function (entry) {
          var v = entry.value;
          if (v === null || v === undefined || v === "") return;
          query.set(entry.name, Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v));
        });
        var mine = ++asked;
        fetch(url + "?" + query.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (body) {
            if (mine !== asked) return;
            box.innerHTML = "";
            if (body.error) { box.appendChild(el("p", { className: "error-message", role: "alert", text: body.error })); return; }
            box.appendChild(el("p", { className: "small" }, ["Next runs of ", el("code", { text: body.cron }), " in " + body.timezone + ":"]));
            var list = el("ol", { className: "fire-times" });
            body.next_fire_times.forEach(function (t) { list.appendChild(el("li", { text: t.local })); });
            box.appendChild(list);
          });
      }, 250);
    }
    refresh();
    return { box: box, refresh: refresh };
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
    container.appendChild(el("div", { className: "panel-errors" }));
    showErrors(container, options.errors);
    var form = el("form", { className: "props", "aria-label": "Properties of " + node.id });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var nameId = "prop-name-" + (++uid);
    var nameInput = el("input", { id: nameId, type: "text", placeholder: spec.name || "", "data-input": "__name" });
    nameInput.value = cfg.name || "";
    nameInput.disabled = !!options.readOnly;
    nameInput.addEventListener("input", function () { cfg.name = nameInput.value || null; options.onChange(); });
    form.appendChild(el("div", { className: "prop" }, [el("label", { for: nameId, text: "Label" }), nameInput]));
    var declared = {};
    var isTrigger = FloAdapter.actionOf(node).indexOf("trigger/") === 0;
    options = Object.assign({}, options, {
      storedSecrets: isTrigger,
      action: FloAdapter.actionOf(node),
      entryFor: function (name) { return findInput(node, name); }
    });
    var conditional = [];
    /* A field declared with shown_when (e.g. the generic HMAC settings of a webhook preset) is shown only
     * while the input it names has one of the listed values. */
    function refreshShown() {
      conditional.forEach(function (c) {
        c.element.hidden = !Object.keys(c.when).every(function (name) {
          var entry = findInput(node, name);
          var declaredInput = (spec.inputs || []).filter(function (i) { return i.name === name; })[0];
          var value = entry ? entry.value : declaredInput && declaredInput.default;
          return c.when[name].map(String).indexOf(String(value)) >= 0;
        });
      });
    }
    (spec.inputs || []).forEach(function (input) {
      declared[input.name] = true;
      var entry = findInput(node, input.name);
      var field = form.appendChild(fieldFor(input, entry ? entry.value : input.default, options, function (value) {
        setInput(node, input.name, input.type || "string", value);
        options.onChange();
        if (conditional.length) refreshShown();
      }));
      if (input.shown_when) conditional.push({ element: field, when: input.shown_when });
    });
    refreshShown();
    (cfg.inputs || []).forEach(function (entry) {
      if (declared[entry.name]) return;
      var kind = isTrigger && "set" in entry ? "secret" : entry.type || "string";
      form.appendChild(fieldFor({ name: entry.name, type: kind, description: "Not in this node's schema; kept from the flow file." }, entry.value, options, function (value) {
        entry.value = value;
        delete entry.set;
        options.onChange();
      }));
    });
    container.appendChild(form);
    if (FloAdapter.actionOf(node) === "trigger/schedule" && options.urls && options.urls.cronPreview) {
      var preview = schedulePreview(node, options.urls.cronPreview);
      container.appendChild(preview.box);
      var changedBefore = options.onChange;
      options.onChange = function () { changedBefore(); preview.refresh(); };
    }
    if (options.extras) options.extras(container, node);
    if (!options.readOnly && options.onDelete) {
      var del = el("button", { type: "button", className: "button small danger", text: "Delete node" });
      del.addEventListener("click", options.onDelete);
      container.appendChild(del);
    }
  }

  /* After a save: each trigger secret typed in is replaced by the reference it was stored as, so the
   * value does not stay in the page or go out again. `markers` is node id -> input -> stored value. */
  function applySecretMarkers(nodes, markers) {
    (nodes || []).forEach(function (node) {
      var stored = (markers || {})[node.id];
      if (!stored) return;
      (FloAdapter.config(node).inputs || []).forEach(function (entry) {
        if (!(entry.name in stored)) return;
        var value = stored[entry.name];
        if (typeof entry.value === "string" && entry.value !== "" && value && typeof value === "object") { entry.value = value; delete entry.set; }
      });
    });
  }

  /* A copy of a flow fit to keep in this browser: trigger secrets typed in and not saved yet are dropped. */
  function withoutTypedSecrets(flow, specs) {
    var copy = JSON.parse(JSON.stringify(flow));
    (copy.nodes || []).forEach(function (node) {
      var action = FloAdapter.actionOf(node);
      if (action.indexOf("trigger/") !== 0) return;
      var spec = (specs || {})[action] || { inputs: [] };
      var secretNames = {};
      (spec.inputs || []).forEach(function (i) { if (i.type === "secret" || i.type === "credential") secretNames[i.name] = true; });
      (FloAdapter.config(node).inputs || []).forEach(function (entry) {
        var secret = secretNames[entry.name] || entry.type === "secret" || entry.type === "credential" || "set" in entry;
        if (secret && typeof entry.value === "string" && !/^\s*\$\{secrets?\./.test(entry.value)) entry.value = null;
      });
    });
    return copy;
  }

  global.FloInspector = { schemaFields: schemaFields, render: render, showErrors: showErrors, applySecretMarkers: applySecretMarkers, withoutTypedSecrets: withoutTypedSecrets };
})(window);
