// lti_badger: keeps a launched session inside an LMS iframe that blocks third-party cookies,
// without the launch token in any URL (web/navigation.py). The token is in
// <meta name="lti-badger-launch">; links and GET forms of this origin are followed as POSTs of
// it; the used one-time code of a first hop leaves the address bar.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="lti-badger-launch"]');
  if (!meta) { return; }
  var token = meta.getAttribute("content");
  var LAUNCHED = /^\/(course|me|admin|lti)(\/|$)/;  // pages of a launched session; the rest is public

  var here = new URL(window.location.href);
  if (here.searchParams.has("lt")) {
    here.searchParams.delete("lt");
    window.history.replaceState(window.history.state, "", here.pathname + here.search + here.hash);
  }

  function follow(path, target) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = path;
    if (target) { form.target = target; }
    [["lt", token], ["_nav", "1"]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey ||
        event.altKey) { return; }
    var link = event.target.closest ? event.target.closest("a[href]") : null;
    if (!link || link.origin !== window.location.origin || !LAUNCHED.test(link.pathname)) { return; }
    if (link.pathname === window.location.pathname && link.search === window.location.search && link.hash) {
      return;  // an anchor on this page
    }
    event.preventDefault();
    follow(link.pathname + link.search + link.hash, link.target);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.getAttribute("method") || "get").toLowerCase() !== "get") { return; }
    var action = new URL(form.action || window.location.href, window.location.href);
    if (action.origin !== window.location.origin || !LAUNCHED.test(action.pathname)) { return; }
    event.preventDefault();
    var query = new URLSearchParams(new FormData(form)).toString();
    follow(action.pathname + (query ? "?" + query : ""), form.target);
  });
})();
