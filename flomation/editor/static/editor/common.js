/* Small helpers every page uses: JSON requests with the CSRF token, dialogs, confirmations, copy buttons. */
(function (global) {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /* fetch JSON; resolves to the body, rejects with an Error whose message is the server's explanation. */
  function api(url, options) {
    options = options || {};
    var headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: options.method || "GET",
      headers: headers,
      credentials: "same-origin",
      keepalive: !!options.keepalive,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined
    }).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : {}; } catch (e) { body = null; }
        if (!response.ok) {
          var message = body && (body.error || body.detail);
          if (!message) message = response.status === 401 ? "Your session has ended: log in again." : "The server answered " + response.status + ".";
          var error = new Error(message);
          error.status = response.status;
          error.body = body;
          throw error;
        }
        return body;
      });
    }, function () { throw new Error("Cannot reach the server: check your connection and try again."); });
  }

  function copyText(text, button) {
    var done = function () {
      if (!button) return;
      var old = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = old; }, 1500);
    };
    if (navigator.clipboard && global.isSecureContext) return navigator.clipboard.writeText(text).then(done);
    var area = document.createElement("textarea");
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selectable */ }
    document.body.removeChild(area);
    done();
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-open],[data-close],[data-confirm],[data-copy],[data-copy-url]");
    if (!target) return;
    if (target.hasAttribute("data-open")) {
      var dialog = document.getElementById(target.getAttribute("data-open"));
      if (dialog) dialog.showModal();
    } else if (target.hasAttribute("data-close")) {
      target.closest("dialog").close();
    } else if (target.hasAttribute("data-confirm")) {
      if (!global.confirm(target.getAttribute("data-confirm"))) event.preventDefault();
    } else if (target.hasAttribute("data-copy")) {
      copyText(target.getAttribute("data-copy"), target);
    } else if (target.hasAttribute("data-copy-url")) {
      api(target.getAttribute("data-copy-url")).then(function (body) { return copyText(body.code, target); })
        .catch(function (error) { global.alert(error.message); });
    }
  });

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
    var button = select.form.querySelector('button[type="submit"]');
    if (button) button.classList.add("js-hidden");
  });

  global.Flo = { api: api, copyText: copyText, csrfToken: csrfToken };
})(window);
