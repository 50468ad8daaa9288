// regwatch desk: keyboard shortcuts and focus after a results swap. No inline script anywhere
// (the Content-Security-Policy forbids it); everything here also works without htmx.
(function () {
  "use strict";

  function typing(target) {
    if (!target) return false;
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function hitLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("ol.hits a.hit-link"));
  }

  function select(step) {
    var links = hitLinks();
    if (!links.length) return;
    var at = links.indexOf(document.activeElement);
    var next = at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step));
    links.forEach(function (link) { link.closest("li").classList.remove("current"); });
    links[next].closest("li").classList.add("current");
    links[next].focus();
    links[next].scrollIntoView({ block: "nearest" });
  }

  function openKeys() {
    var dialog = document.getElementById("keys");
    if (dialog && !dialog.open && dialog.showModal) dialog.showModal();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var dialog = document.getElementById("keys");
    if (dialog && dialog.open) return;
    if (event.key === "/") {
      var box = document.getElementById("q");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    } else if (event.key === "j") {
      event.preventDefault(); select(1);
    } else if (event.key === "k") {
      event.preventDefault(); select(-1);
    } else if (event.key === "?") {
      event.preventDefault(); openKeys();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-keys-open]");
    if (button) {
      button.hidden = false;
      button.addEventListener("click", openKeys);
    }
  });

  // Every request htmx makes carries the page's CSRF token (forms also have it as a field, for JS off).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && event.detail && event.detail.headers) event.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // A swap that fails (a 503 while the search index is down, a 500, the desk unreachable) would
  // otherwise change nothing on screen: load the same address as a whole page instead, so the
  // server's error page (or the browser's) says what happened. Only GETs: they change nothing.
  function loadWhole(event) {
    var detail = event.detail || {};
    var verb = (detail.requestConfig && detail.requestConfig.verb) || "get";
    if (verb.toLowerCase() !== "get") return;
    var xhr = detail.xhr;
    var path = (xhr && xhr.responseURL) || (detail.pathInfo && detail.pathInfo.finalRequestPath);
    if (path) window.location.assign(path);
  }
  document.addEventListener("htmx:responseError", loadWhole);
  document.addEventListener("htmx:sendError", loadWhole);

  // After htmx swaps the results in, move focus to their heading so keyboard and screen-reader
  // users land where the change is (the count is also announced by the live region).
  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    var target = (detail.requestConfig && detail.requestConfig.target) || detail.target;
    if (!target || target.id !== "search-view") return;
    var heading = document.getElementById("results-heading") || document.querySelector("#search-view h1");
    if (heading) heading.focus();
  });
})();
