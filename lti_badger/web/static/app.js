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

  // Badge image designer: redraw the preview as the fields change, with nothing sent until the
  // form is saved. It mirrors images.py (_wrap, _layout, _svg) over the same shapes and icons
  // (#badge-art), so the preview is what the server renders.
  var artNode = document.getElementById("badge-art");
  var previewBox = document.getElementById("badge-preview");
  if (artNode && previewBox) {
    var art = JSON.parse(artNode.textContent);
    var NS = "http://www.w3.org/2000/svg";
    var designer = previewBox.closest("form");
    var length = function (text) { return Array.from(text).length; };
    var num = function (x) { return String(Math.round(x * 100) / 100); };
    var svgNode = function (tag, attributes, text) {
      var node = document.createElementNS(NS, tag);
      Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
      if (text !== undefined) { node.textContent = text; }
      return node;
    };
    var wrap = function (text) {
      var words = text.split(" ");
      if (length(text) <= art.wrap || words.length === 1) { return [text]; }
      var best = null, longest = function (pair) { return Math.max(length(pair[0]), length(pair[1])); };
      for (var i = 1; i < words.length; i++) {
        var pair = [words.slice(0, i).join(" "), words.slice(i).join(" ")];
        if (!best || longest(pair) < longest(best)) { best = pair; }
      }
      return best;
    };
    var layout = function (template, icon, lines) {
      var cy = template === "ribbon" ? 104 : 128;
      var longest = Math.max.apply(null, [0].concat(lines.map(length)));
      var box = null, size, centre;
      if (icon === "none") { size = Math.min(40, Math.floor(316 / longest)); centre = cy; }
      else if (!lines.length) { return {icon: [72, cy - 56, 1.12], size: 0, baselines: []}; }
      else { box = [92, cy - 88, 0.72]; size = Math.min(30, Math.floor(264 / longest)); centre = cy + 36; }
      var y0 = centre + size * 0.35 - (lines.length - 1) * size * 0.6;
      return {icon: box, size: size, baselines: lines.map(function (line, i) { return y0 + i * size * 1.2; })};
    };
    var initials = function (name) {
      return name.split(/\s+/).filter(function (w) { return /^[\p{L}\p{N}]/u.test(w); }).slice(0, 3)
        .map(function (w) { return Array.from(w)[0].toUpperCase(); }).join("") || "?";
    };
    var shape = function (item, colour) {
      var paints = {fill: colour, edge: art.colours[colour].edge, ink: art.colours[colour].ink};
      var attributes = item.el === "circle" ? {cx: num(item.cx), cy: num(item.cy), r: num(item.r)}
        : {points: item.points.map(function (p) { return num(p[0]) + "," + num(p[1]); }).join(" ")};
      attributes.fill = paints[item.paint];
      if (item.outline) { attributes.stroke = paints.edge; attributes["stroke-width"] = String(art.edgeWidth); }
      return svgNode(item.el, attributes);
    };
    var field = function (name) { var f = designer.elements[name]; return f ? f.value : ""; };
    var drawBadge = function () {
      var colour = art.colours[field("image_colour")] ? field("image_colour") : Object.keys(art.colours)[0];
      var template = art.shapes[field("image_template")] ? field("image_template") : "circle";
      var icon = art.icons[field("image_icon")] ? field("image_icon") : "none";
      var text = field("image_text").trim().split(/\s+/).join(" ");
      if (!text && icon === "none") { text = initials(field("name").trim()); }
      text = Array.from(text).slice(0, art.maxText).join("");
      var lines = text ? wrap(text) : [];
      var place = layout(template, icon, lines);
      var svg = svgNode("svg", {width: "256", height: "256", viewBox: "0 0 256 256", role: "img"});
      svg.appendChild(svgNode("title", {}, lines.join(" ") || icon));
      art.shapes[template].forEach(function (item) { svg.appendChild(shape(item, colour)); });
      if (place.icon) {
        var group = svgNode("g", {transform: "translate(" + num(place.icon[0]) + " " + num(place.icon[1]) + ") scale(" +
                                  num(place.icon[2]) + ")"});
        art.icons[icon].forEach(function (item) { group.appendChild(shape(item, colour)); });
        svg.appendChild(group);
      }
      lines.forEach(function (line, i) {
        svg.appendChild(svgNode("text", {x: "128", y: num(place.baselines[i]), "text-anchor": "middle",
          "font-family": art.font, "font-weight": "700", "font-size": num(place.size), fill: art.colours[colour].ink},
          line));
      });
      previewBox.replaceChildren(svg);
    };
    var watched = ["name", "image_template", "image_icon", "image_colour", "image_text"];
    ["input", "change"].forEach(function (type) {
      designer.addEventListener(type, function (event) {
        if (watched.indexOf(event.target.name) >= 0) { drawBadge(); }
      });
    });
  }

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
