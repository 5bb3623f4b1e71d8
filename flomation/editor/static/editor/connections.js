/* Connections: the settings page's type-dependent form and Test buttons, and the node panel's picker of
 * stored connections (an input of type "connection") with its own Test button. Never handles a secret
 * value: the platform sends names, types and environments only. */
(function (global) {
  "use strict";

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

  /* Asks the platform to connect for real with the saved connection; shows ok or the reason. */
  function runTest(id, status, label) {
    status.hidden = false;
    status.className = status.className.replace(/\s*is-(ok|bad)/g, "");
    status.textContent = (label ? label + ": " : "") + "testing…";
    return Flo.api("/settings/connections/" + encodeURIComponent(id) + "/test", { method: "POST", body: {} }).then(function (body) {
      status.textContent = (label ? label + ": " : "") + (body.ok ? "✓ " : "✗ ") + body.message;
      status.className += body.ok ? " is-ok" : " is-bad";
      status.setAttribute("data-ok", body.ok ? "true" : "false");
    }, function (error) {
      status.textContent = (label ? label + ": " : "") + "✗ " + error.message;
      status.className += " is-bad";
      status.setAttribute("data-ok", "false");
    });
  }

  function settingsPage() {
    var type = document.querySelector("[data-connection-type]");
    if (type) {
      var show = function () {
        document.querySelectorAll("[data-fields-for]").forEach(function (set) {
          var on = set.getAttribute("data-fields-for") === type.value;
          set.hidden = !on;
          set.disabled = !on;
        });
      };
      type.addEventListener("change", show);
      show();
    }
    document.querySelectorAll("[data-connection-test]").forEach(function (button) {
      button.addEventListener("click", function () {
        var id = button.getAttribute("data-connection-test");
        runTest(id, document.querySelector('[data-test-result="' + id + '"]'));
      });
    });
  }

  /* The node panel's control for an input of type "connection": the organisation's connections of the
   * manifest's type, by name (one name may exist per environment), and Test for each of them. */
  function picker(spec, current, options, onValue, id) {
    // `spec.connection` names one type, or several separated by spaces (an agent takes openai or anthropic).
    var kinds = String(spec.connection || "").split(" ");
    var all = ((options.references || {}).connections || []).filter(function (c) { return kinds.indexOf(c.type) >= 0; });
    var names = [];
    all.forEach(function (c) { if (names.indexOf(c.name) < 0) names.push(c.name); });
    var box = el("div", { className: "connection-picker", role: "group", "aria-label": spec.name, "data-input": spec.name });
    var select = el("select", { id: id, "aria-label": spec.name, "data-connection-picker": spec.connection });
    select.appendChild(el("option", { value: "", text: names.length ? "None: use the inputs below" : "No " + kinds.join(" or ") + " connections yet" }));
    names.forEach(function (name) {
      var envs = all.filter(function (c) { return c.name === name; }).map(function (c) { return c.environment || "all environments"; });
      var option = el("option", { value: name, text: name + " (" + envs.join(", ") + ")" });
      if (current === name) option.selected = true;
      select.appendChild(option);
    });
    if (typeof current === "string" && current && names.indexOf(current) < 0) {
      select.appendChild(el("option", { value: current, text: current + " (not found)", selected: true }));
    }
    var results = el("div", { className: "connection-test-results small", "aria-live": "polite" });
    var test = el("button", { type: "button", className: "button tiny", text: "Test", "data-connection-test-node": "" });
    function sync() { test.disabled = !select.value || !all.some(function (c) { return c.name === select.value; }); }
    test.addEventListener("click", function () {
      results.innerHTML = "";
      all.filter(function (c) { return c.name === select.value; }).forEach(function (c) {
        var line = el("p", { className: "connection-test-result", role: "status", "data-test-result": c.id });
        results.appendChild(line);
        runTest(c.id, line, c.environment || "all environments");
      });
    });
    select.addEventListener("change", function () { sync(); results.innerHTML = ""; onValue(select.value || null); });
    if (options.readOnly) select.disabled = true;
    sync();
    box.appendChild(select);
    if (options.references && options.references.canTestConnections) box.appendChild(test);
    box.appendChild(el("a", { href: "/settings/connections", target: "_blank", className: "small", text: "Manage connections" }));
    box.appendChild(results);
    return box;
  }

  global.FloConnections = { picker: picker, test: runTest };
  if (document.querySelector("[data-connection-type], [data-connection-test]")) settingsPage();
})(window);
