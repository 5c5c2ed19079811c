/* The interactive network map (/p/{id}/network/map). No framework, nothing from other hosts, no eval:
   the page's Content-Security-Policy allows scripts from this site only.

   The server lays the map out and sends people and ties as JSON (embedded in the page at first, then
   from map.json when the filters change); this script draws them as SVG, recolours by organisation or
   profession, zooms and pans, and shows a person's figures in the side panel on click or Enter. Without
   JavaScript the page keeps the server's static image of the same map. */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";
  var SIZE = 600; // the map's coordinate space, as in the static image (network/map_image.py)
  var MARGIN = 15;
  var MIN_ZOOM = 0.5;
  var MAX_ZOOM = 12;
  // On screen circles are drawn larger than on paper: easier to see and to click or tap.
  var RADIUS_SCALE = 1.35;
  var MIN_RADIUS = 6;

  var container = document.getElementById("network-map");
  var dataElement = document.getElementById("network-map-data");
  if (!container || !dataElement) return;

  var form = document.getElementById("map-filters");
  var tools = document.getElementById("map-tools");
  var legend = document.getElementById("map-legend");
  var status = document.getElementById("map-status");
  var panelBody = document.getElementById("map-panel-body");
  var panelHint = document.getElementById("map-panel-hint");
  var errorSummary = document.getElementById("error-summary");
  var imageLink = document.getElementById("map-image-link");
  var jsonUrl = container.getAttribute("data-map-json");
  var pageUrl = container.getAttribute("data-page");

  var data = null;
  var colourBy = "organisation";
  var selected = null;
  var view = { k: 1, x: 0, y: 0 };
  var svg, viewport, edgeLayer, nodeLayer, nodeElements, edgeElements;

  function el(name, attributes, parent) {
    var node = document.createElementNS(SVG_NS, name);
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(name, text, parent, className) {
    var node = document.createElement(name);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    if (parent) parent.appendChild(node);
    return node;
  }

  function px(value) {
    return MARGIN + value * (SIZE - 2 * MARGIN);
  }

  function plural(k, one, many) {
    return k + " " + (k === 1 ? one : many);
  }

  function fixed(value, digits) {
    return Number(value).toFixed(digits);
  }

  // --- drawing -------------------------------------------------------------------------------------
  function describe(node) {
    return (
      node.label +
      ", " +
      node.organisation +
      ", " +
      node.profession +
      ". Boundary-spanner score " +
      fixed(node.score, 2) +
      ", " +
      plural(node.degree, "tie", "ties") +
      "."
    );
  }

  function draw() {
    container.textContent = "";
    nodeElements = [];
    edgeElements = [];
    selected = null;
    svg = el("svg", {
      viewBox: "0 0 " + SIZE + " " + SIZE,
      class: "network-map-svg",
      role: "group",
      "aria-label":
        "Network map: " +
        plural(data.people, "person", "people") +
        " and " +
        plural(data.ties, "tie", "ties") +
        ". Each person is a focusable circle.",
    });
    el("rect", { x: 0, y: 0, width: SIZE, height: SIZE, class: "map-background" }, svg);
    viewport = el("g", { class: "map-viewport" }, svg);
    edgeLayer = el("g", { class: "map-edges" }, viewport);
    nodeLayer = el("g", { class: "map-nodes" }, viewport);

    data.edges.forEach(function (edge, index) {
      var a = data.nodes[edge.source];
      var b = data.nodes[edge.target];
      var line = el(
        "line",
        {
          x1: px(a.x),
          y1: px(a.y),
          x2: px(b.x),
          y2: px(b.y),
          "stroke-width": edge.width,
          class: "map-edge",
          "data-index": index,
        },
        edgeLayer
      );
      edgeElements.push(line);
    });

    // Larger circles first, so a small circle is never hidden behind a large one.
    var order = data.nodes.slice().sort(function (p, q) {
      return q.r - p.r || p.id - q.id;
    });
    order.forEach(function (node) {
      var circle = el(
        "circle",
        {
          cx: px(node.x),
          cy: px(node.y),
          r: Math.max(node.r * RADIUS_SCALE, MIN_RADIUS),
          class: "map-node",
          tabindex: "0",
          role: "button",
          "aria-label": describe(node),
          "data-id": node.id,
        },
        nodeLayer
      );
      el("title", {}, circle).textContent = node.label;
      nodeElements[node.id] = circle;
    });
    recolour();
    applyView();
    container.appendChild(svg);
    drawLegend();
    if (status) {
      status.textContent =
        plural(data.people, "person", "people") +
        " and " +
        plural(data.ties, "tie", "ties") +
        ", as of " +
        data.as_of +
        ".";
    }
    if (panelBody) panelBody.textContent = "";
    if (panelHint) panelHint.hidden = false;
  }

  function recolour() {
    data.nodes.forEach(function (node) {
      nodeElements[node.id].setAttribute("fill", node.colour[colourBy]);
    });
    drawLegend();
    if (imageLink && data.image_url) {
      imageLink.href = data.image_url.replace(/colour_by=[a-z]+/, "colour_by=" + colourBy);
    }
  }

  function drawLegend() {
    if (!legend || !data || !data.groups[colourBy]) return;
    legend.textContent = "";
    html("h2", "Colour: " + colourBy, legend, "legend-title");
    var list = html("ul", null, legend);
    data.groups[colourBy].forEach(function (group) {
      var item = html("li", null, list);
      var swatch = el("svg", { viewBox: "0 0 12 12", width: 14, height: 14, "aria-hidden": "true" }, item);
      el("circle", { cx: 6, cy: 6, r: 5, fill: group.colour, stroke: "#1b1f23" }, swatch);
      html("span", " " + group.label + " (" + group.people + ")", item);
    });
    html(
      "p",
      "Circle size: boundary-spanner score. Line width: tie strength. Rows along the bottom: people with no ties in this view.",
      legend,
      "muted"
    );
    legend.hidden = false;
  }

  // --- the side panel ------------------------------------------------------------------------------
  function figure(list, term, value) {
    html("dt", term, list);
    html("dd", value, list);
  }

  function select(id) {
    var node = data.nodes[id];
    if (!node) return;
    if (selected !== null && nodeElements[selected]) nodeElements[selected].classList.remove("selected");
    selected = id;
    nodeElements[id].classList.add("selected");
    svg.classList.add("has-selection");
    data.edges.forEach(function (edge, index) {
      var touches = edge.source === id || edge.target === id;
      edgeElements[index].classList.toggle("linked", touches);
    });

    panelBody.textContent = "";
    if (panelHint) panelHint.hidden = true;
    html("h3", node.label, panelBody);
    var list = html("dl", null, panelBody, "facts");
    figure(list, "Organisation", node.organisation);
    figure(list, "Profession", node.profession);
    figure(
      list,
      "Boundary-spanner score",
      fixed(node.score, 2) + (node.rank ? " (" + ordinal(node.rank) + " of " + data.people + ")" : "")
    );
    figure(list, "Ties", String(node.degree));
    figure(list, "Betweenness", fixed(node.betweenness, 3) + (data.betweenness_estimated ? " (estimated)" : ""));
    figure(list, "Brokerage across organisations", plural(node.brokerage, "pair", "pairs"));
    figure(list, "Organisations reached", String(node.organisations_reached));
    figure(
      list,
      "Key-person risk",
      node.cut_pairs > 0
        ? plural(node.cut_pairs, "pair", "pairs") + " of people in different organisations would lose their last link if they left"
        : "no pair of others depends on them alone"
    );
    var contacts = [];
    data.edges.forEach(function (edge) {
      if (edge.source === id) contacts.push(data.nodes[edge.target].label);
      else if (edge.target === id) contacts.push(data.nodes[edge.source].label);
    });
    if (node.reason) html("p", "Why: " + node.reason + ".", panelBody);
    if (contacts.length) {
      html("h4", "Works with", panelBody);
      var people = html("ul", null, panelBody, "contacts");
      contacts.sort().slice(0, 12).forEach(function (label) {
        html("li", label, people);
      });
      if (contacts.length > 12) html("li", "and " + (contacts.length - 12) + " more", people);
    }
    if (node.href) {
      var link = html("a", "Open " + node.label + "'s network page", html("p", null, panelBody));
      link.href = node.href;
    }
    // On a narrow screen the panel is below the map: bring it into view.
    if (window.matchMedia && window.matchMedia("(max-width: 52rem)").matches) {
      panelBody.scrollIntoView({ block: "nearest" });
    }
  }

  function ordinal(k) {
    var suffix = k % 100 >= 10 && k % 100 <= 20 ? "th" : { 1: "st", 2: "nd", 3: "rd" }[k % 10] || "th";
    return k + suffix;
  }

  // --- zoom and pan --------------------------------------------------------------------------------
  function applyView() {
    viewport.setAttribute("transform", "translate(" + view.x + " " + view.y + ") scale(" + view.k + ")");
  }

  function zoomAt(factor, cx, cy) {
    var k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, view.k * factor));
    view.x = cx - ((cx - view.x) * k) / view.k;
    view.y = cy - ((cy - view.y) * k) / view.k;
    view.k = k;
    applyView();
  }

  function svgPoint(event) {
    var matrix = svg.getScreenCTM();
    if (!matrix) return { x: SIZE / 2, y: SIZE / 2 };
    var point = svg.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    return point.matrixTransform(matrix.inverse());
  }

  var drag = null;
  container.addEventListener(
    "wheel",
    function (event) {
      if (!svg) return;
      event.preventDefault();
      var at = svgPoint(event);
      zoomAt(event.deltaY < 0 ? 1.2 : 1 / 1.2, at.x, at.y);
    },
    { passive: false }
  );
  container.addEventListener("pointerdown", function (event) {
    if (!svg || event.target.classList.contains("map-node")) return;
    var at = svgPoint(event);
    drag = { x: at.x, y: at.y, vx: view.x, vy: view.y, moved: false };
    container.setPointerCapture(event.pointerId);
  });
  container.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var at = svgPoint(event);
    view.x = drag.vx + (at.x - drag.x);
    view.y = drag.vy + (at.y - drag.y);
    drag.moved = true;
    applyView();
  });
  function endDrag() {
    drag = null;
  }
  container.addEventListener("pointerup", endDrag);
  container.addEventListener("pointercancel", endDrag);

  container.addEventListener("click", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("map-node")) {
      select(Number(target.getAttribute("data-id")));
    }
  });
  container.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.classList || !target.classList.contains("map-node")) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      select(Number(target.getAttribute("data-id")));
    }
  });

  // The panel and the zoom buttons only work with this script: without it the page shows the image alone.
  var panel = document.getElementById("map-panel");
  var layout = document.getElementById("map-layout");
  if (panel) panel.hidden = false;
  if (layout) layout.classList.add("with-panel");
  if (tools) {
    tools.hidden = false;
    tools.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-zoom]");
      if (!button || !svg) return;
      var how = button.getAttribute("data-zoom");
      if (how === "in") zoomAt(1.4, SIZE / 2, SIZE / 2);
      else if (how === "out") zoomAt(1 / 1.4, SIZE / 2, SIZE / 2);
      else {
        view = { k: 1, x: 0, y: 0 };
        applyView();
      }
    });
  }

  // --- filters and colour --------------------------------------------------------------------------
  var FIELD_NAMES = {
    sources: "Ties from",
    min_weight: "Minimum tie strength",
    since: "From",
    as_of: "As of",
    colour_by: "Colour by",
  };

  function fieldName(field) {
    if (FIELD_NAMES[field]) return FIELD_NAMES[field];
    if (field.indexOf("w_") === 0) return "Weight of " + field.slice(2).replace(/_/g, " ");
    return field;
  }

  function showProblems(problems) {
    if (!errorSummary) return;
    errorSummary.textContent = "";
    html("h2", "Please correct " + plural(problems.length, "problem", "problems"), errorSummary);
    var list = html("ul", null, errorSummary);
    problems.forEach(function (problem) {
      var link = html("a", fieldName(problem.field) + ": " + problem.message, html("li", null, list));
      link.href = "#f-" + problem.field.split(".")[0];
    });
    errorSummary.hidden = false;
    errorSummary.focus();
  }

  function load(params) {
    if (status) status.textContent = "Loading the map…";
    return fetch(jsonUrl + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          showProblems(Array.isArray(result.body.detail) ? result.body.detail : [{ field: "map", message: String(result.body.detail) }]);
          if (status) status.textContent = "The map was not changed.";
          return;
        }
        if (errorSummary) errorSummary.hidden = true;
        data = result.body;
        if (data.too_many) {
          container.textContent = "";
          html("p", data.message, container, "flag");
          if (status) status.textContent = data.message;
          return;
        }
        view = { k: 1, x: 0, y: 0 };
        draw();
        document.querySelectorAll("a.list-link").forEach(function (link) {
          link.href = data.list_url;
        });
        history.replaceState(null, "", pageUrl + "?" + params.toString());
      })
      .catch(function () {
        if (status) status.textContent = "The map could not be loaded. Check your connection and try again.";
      });
  }

  // The form as a short query: sources comma-separated, weights only where not 1, no empty fields.
  function formParams() {
    var rest = [];
    var sources = [];
    new FormData(form).forEach(function (value, key) {
      value = String(value).trim();
      if (key === "sources") {
        if (value) sources.push(value);
      } else if (key.indexOf("w_") === 0) {
        if (value !== "1" && value !== "") rest.push([key, value]);
      } else if (value !== "") {
        rest.push([key, value]);
      }
    });
    var params = new URLSearchParams();
    params.append("sources", sources.join(","));
    rest.forEach(function (pair) {
      params.append(pair[0], pair[1]);
    });
    return params;
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      load(formParams());
    });
    form.addEventListener("change", function (event) {
      if (event.target.name !== "colour_by" || !data) return;
      colourBy = event.target.value;
      recolour();
      var params = new URLSearchParams(location.search);
      params.set("colour_by", colourBy);
      history.replaceState(null, "", pageUrl + "?" + params.toString());
    });
    var checked = form.querySelector("input[name=colour_by]:checked");
    if (checked) colourBy = checked.value;
  }

  data = JSON.parse(dataElement.textContent);
  if (!data.too_many) draw();
})();
