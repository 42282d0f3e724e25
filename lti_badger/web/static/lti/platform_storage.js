// LTI Client Side postMessages (1EdTech) as launch-state storage, for LMSs that offer
// `lti_storage_target` (Canvas): where the browser blocks the tool's cookies in the LMS iframe,
// the login page stores the state's secret and the nonce in the platform's frame, and the launch
// page reads them back and posts them with the id_token. An external file: the CSP forbids
// inline scripts. Whatever fails, the page goes on, and the server decides.
(function () {
  var el = document.getElementById("lti-storage");
  if (!el) { return; }
  var d = el.dataset;
  var target = null;
  try {
    target = d.target === "_parent" ? window.parent : window.parent.frames[d.target];
  } catch (e) { target = null; }
  var counter = 0;

  function send(message) {
    return new Promise(function (resolve, reject) {
      if (!target || target === window) { reject(new Error("no storage frame")); return; }
      var id = "lti-badger-" + Date.now() + "-" + (counter += 1);
      var timer = null;
      function listen(event) {
        var r = event.data;
        if (event.origin !== d.origin || !r || typeof r !== "object" || r.message_id !== id ||
            r.subject !== message.subject + ".response") { return; }
        clearTimeout(timer);
        window.removeEventListener("message", listen);
        if (r.error) { reject(new Error(r.error.message || r.error.code || "error")); } else { resolve(r); }
      }
      timer = setTimeout(function () {
        window.removeEventListener("message", listen);
        reject(new Error("the platform did not answer"));
      }, 5000);
      window.addEventListener("message", listen);
      message.message_id = id;
      target.postMessage(message, d.origin);
    });
  }

  var stateKey = "lti_badger_state_" + d.state;
  var nonceKey = "lti_badger_nonce_" + d.nonce;
  if (d.mode === "put") {
    send({subject: "lti.put_data", key: stateKey, value: d.secret})
      .then(function () { return send({subject: "lti.put_data", key: nonceKey, value: d.nonce}); })
      .catch(function () { return null; })
      .then(function () { window.location.replace(d.next); });
  } else {
    var form = document.getElementById("lti-storage-form");
    Promise.all([send({subject: "lti.get_data", key: stateKey}), send({subject: "lti.get_data", key: nonceKey})])
      .then(function (r) {
        form.elements.lti_storage_secret.value = String(r[0].value || "");
        form.elements.lti_storage_nonce.value = String(r[1].value || "");
      })
      .catch(function () { return null; })
      .then(function () { form.submit(); });
  }
})();
