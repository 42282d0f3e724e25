// lti_badger: progressive enhancement only. Every page works without this file.
(function () {
  "use strict";

  function announce(el, text) {
    var status = el.parentNode.querySelector("[data-copy-status]");
    if (status) { status.textContent = text; }
  }

  // Copy buttons: <button data-copy="text" type="button"> (hidden until JS runs).
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(function () {
          announce(button, button.getAttribute("data-copied") || "Copied");
        }, function () { announce(button, text); });
      } else {
        announce(button, text);
      }
    });
  });

  // Forms that need a second thought: <form data-confirm="Are you sure?">.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Drop zones: dropping a file onto the zone fills its file input.
  document.querySelectorAll(".dropzone").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) { return; }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragover"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragover"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
      }
    });
  });

  // Image source radios in the badge designer: show only the chosen fieldset.
  var choosers = document.querySelectorAll("input[name=image_source]");
  function syncImageSource() {
    choosers.forEach(function (radio) {
      var target = document.getElementById(radio.getAttribute("data-controls") || "");
      if (target) { target.hidden = !radio.checked; }
    });
  }
  choosers.forEach(function (radio) { radio.addEventListener("change", syncImageSource); });
  if (choosers.length) { syncImageSource(); }

  // Skills picker in the badge designer: search ESCO, add the chosen concept as a line.
  var picker = document.querySelector(".skill-picker");
  if (picker) {
    var box = document.getElementById("skill-search");
    var results = document.getElementById("skill-results");
    var skills = document.getElementById("f-skills");
    var timer = null;
    box.addEventListener("input", function () {
      clearTimeout(timer);
      if (box.value.trim().length < 2) { return; }
      timer = setTimeout(function () {
        var url = new URL(picker.getAttribute("data-skills-url"), window.location.href);
        url.searchParams.set("q", box.value.trim());
        fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (response) { return response.ok ? response.json() : {results: []}; })
          .then(function (body) {
            results.textContent = "";
            body.results.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.line;
              option.textContent = item.label + " (" + item.kind + ")";
              results.appendChild(option);
            });
          });
      }, 250);
    });
    document.getElementById("skill-add").addEventListener("click", function () {
      if (!results.value) { return; }
      skills.value = (skills.value.trim() ? skills.value.trim() + "\n" : "") + results.value;
    });
  }
})();
