/* The Run dialog: asks for the inputs the flow's manual trigger declares in its input schema, as a form
 * the server builds (one labelled control per field), runs the latest saved revision and shows the server's
 * complaints beside the fields. With no schema it offers free name/value rows. */
(function (global) {
  "use strict";

  function runFieldRow(name, value) {
    var wrap = document.getElementById("run-fields");
    var n = wrap.children.length + 1;
    var row = document.createElement("div");
    row.className = "kv-row";
    row.innerHTML = '<input type="text" placeholder="name" aria-label="Input name ' + n + '"><input type="text" placeholder="value" aria-label="Input value ' + n + '"><button type="button" class="button tiny" aria-label="Remove input ' + n + '">✕</button>';
    row.children[0].value = name || ""; row.children[1].value = value || "";
    row.children[2].addEventListener("click", function () { row.remove(); });
    wrap.appendChild(row);
  }

  var runInputs = Promise.resolve();
  var runSchema = false;

  function showRunInputs(body) {
    var box = document.getElementById("run-schema-fields");
    var problem = document.getElementById("run-schema-problem");
    runSchema = !!(body && body.schema);
    box.innerHTML = runSchema ? body.html : "";
    box.hidden = !runSchema;
    document.getElementById("run-generic").hidden = runSchema;
    problem.textContent = (body && body.problem) || "";
    problem.hidden = !problem.textContent;
    if (!runSchema && !document.getElementById("run-fields").children.length) runFieldRow();
  }

  function loadRunInputs(canvas, urls) {
    var loading = document.getElementById("run-inputs-loading");
    loading.hidden = false;
    return Flo.api(urls.runForm, { method: "POST", body: { flow: canvas.currentFlow() } })
      .then(showRunInputs, function (error) { showRunInputs({ schema: false, problem: error.message }); })
      .then(function () { loading.hidden = true; });
  }

  function runValues() {
    var data = {};
    if (!runSchema) {
      document.querySelectorAll("#run-fields .kv-row").forEach(function (row) {
        var k = row.children[0].value.trim();
        if (k) data[k] = row.children[1].value;
      });
      return data;
    }
    document.querySelectorAll("#run-schema-fields .run-field").forEach(function (row) {
      var name = row.getAttribute("data-field"), kind = row.getAttribute("data-control");
      var control = row.querySelector("input, select, textarea");
      if (kind === "checkbox") data[name] = control.checked;
      else if (kind === "text" ? control.value !== "" : control.value.trim() !== "") data[name] = control.value;
    });
    return data;
  }

  /* Puts each of the server's per-input complaints beside its control; returns how many found a place. */
  function showFieldErrors(fields) {
    var placed = 0;
    document.querySelectorAll("#run-schema-fields .run-field").forEach(function (row) {
      var message = fields ? fields[row.getAttribute("data-field")] : "";
      var box = row.querySelector(".field-error"), control = row.querySelector("input, select, textarea");
      box.textContent = message || "";
      box.hidden = !message;
      if (message) { control.setAttribute("aria-invalid", "true"); placed += 1; } else control.removeAttribute("aria-invalid");
    });
    return placed;
  }

  function setup(canvas, boot) {
    var dialog = document.getElementById("run-dialog");
    document.getElementById("run-open").addEventListener("click", function () {
      document.getElementById("run-error").hidden = true;
      runInputs = loadRunInputs(canvas, boot.urls);
      dialog.showModal();
    });
    document.getElementById("run-add-field").addEventListener("click", function () { runFieldRow(); });
    document.getElementById("run-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var submit = document.getElementById("run-submit");
      var box = document.getElementById("run-error");
      submit.disabled = true;
      runInputs.then(canvas.flush).then(function (saved) {
        if (!saved) throw new Error("The latest change could not be saved; it was not run.");
        return Flo.api(boot.urls.run, { method: "POST", body: { environment: document.getElementById("run-environment").value, trigger_data: runValues() } });
      }).then(function (body) { window.location.href = body.url; }, function (error) {
        var fields = (error.body && error.body.fields) || null;
        var placed = showFieldErrors(fields);
        var all = fields ? Object.keys(fields).length : 0;
        box.textContent = placed && placed === all ? "Check the inputs marked below." : error.message;
        box.hidden = false;
        submit.disabled = false;
        var first = document.querySelector('#run-schema-fields [aria-invalid="true"]');
        if (first) first.focus();
      });
    });
  }

  global.FloRunDialog = { setup: setup };
})(window);
