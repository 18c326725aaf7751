// Builds the history picture from the JSON embedded in #history-data.
// Everything visible is created here, so the page's DOM shows what the
// script understood of the data.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("history-data").textContent);
  var app = document.getElementById("app");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  var ops = data.ops;
  var partitions = data.partitions;
  var byPartition = {};
  partitions.forEach(function (p) { byPartition[p.index] = p; });
  // For each partition: op id -> position in its linearization.
  partitions.forEach(function (p) {
    p.position = {};
    p.linearization.forEach(function (step, i) { p.position[step.op] = i; });
  });

  // ---- header ----
  var verdictClass = data.verdict.replace(/_/g, "-");
  app.appendChild(el("header", { id: "summary" }, [
    el("h1", { text: data.title }),
    el("span", { id: "verdict", class: "verdict " + verdictClass, text: data.verdict.replace(/_/g, " ") }),
    el("div", { id: "summary-text", text: data.summary })
  ]));

  // ---- partition tabs ----
  var tabs = el("nav", { id: "partitions" });
  partitions.forEach(function (p) {
    var label = p.name || ("part " + p.index);
    var tab = el("button", {
      class: "partition-tab" + (p.failing ? " failing" : ""),
      "data-partition": String(p.index),
      text: label + " (" + p.ops.length + ")"
    });
    tab.addEventListener("click", function () { select(p.index); });
    tabs.appendChild(tab);
  });
  if (partitions.length > 1) app.appendChild(tabs);

  app.appendChild(el("div", { id: "legend" }, [
    el("span", { text: "Bars run from call to return (order of events, not to scale)." }),
    el("span", { class: "key", style: "background:#fbd9d6;border:2px solid #e0483e" }),
    el("span", { text: "cannot be placed" }),
    el("span", { class: "key", style: "background:#f3e3b5" }),
    el("span", { text: "not in the linearization" }),
    el("span", { class: "key", style: "background:#cfe0f5;border:1px dashed #6b8fbf" }),
    el("span", { text: "never returned" }),
    partitions.length > 1 ? showAllToggle() : null
  ]));

  // Other parts' operations are hidden unless asked for (they are dimmed
  // when shown).
  function showAllToggle() {
    var box = el("input", { type: "checkbox", id: "show-all" });
    box.addEventListener("change", function () {
      document.body.classList.toggle("show-all", box.checked);
      layout();
    });
    return el("label", {}, [box, el("span", { text: " show the other parts' operations" })]);
  }

  // ---- timeline: one row per client, overlapping calls stacked ----
  var clients = {};
  ops.forEach(function (op) { (clients[op.client] = clients[op.client] || []).push(op); });
  // Client ids are decimal strings (a u64 may not fit a JS number): shorter
  // first, then by digits, is numeric order.
  var clientIds = Object.keys(clients).sort(function (a, b) {
    return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  });
  var timeline = el("div", { id: "timeline" });
  var bars = {};
  var lanes = {};
  var rowHeight = 28;
  clientIds.forEach(function (client) {
    var lane = el("div", { class: "lane" });
    clients[client].forEach(function (op) {
      var classes = "op-bar";
      if (op["return"] === null) classes += " open";
      var part = byPartition[op.partition];
      if (part && part.failing) {
        classes += " in-failing-partition";
        if (part.stuck === op.id) classes += " failing";
      }
      var bar = el("div", {
        class: classes,
        "data-op-id": String(op.id),
        "data-client": String(op.client),
        "data-partition": String(op.partition)
      }, [el("span", { class: "lin-badge", style: "display:none" }), el("span", { class: "label", text: op.label })]);
      bar.addEventListener("mouseenter", function (e) { hover(op.id, e); });
      bar.addEventListener("mousemove", function (e) { move(e); });
      bar.addEventListener("mouseleave", unhover);
      bar.addEventListener("click", function (e) { pin(op.id, e); });
      bars[op.id] = bar;
      lane.appendChild(bar);
    });
    lanes[client] = lane;
    timeline.appendChild(el("div", { class: "client-row", "data-client": String(client) }, [
      el("div", { class: "client-label", text: "client " + client }),
      lane
    ]));
  });

  // Places the bars of the operations shown (the selected part's, or all):
  // x follows the order of their call and return events, not wall-clock
  // durations; a client's overlapping operations are stacked.
  function layout() {
    var showAll = partitions.length <= 1 || document.body.classList.contains("show-all");
    var shown = ops.filter(function (op) {
      return showAll || (selected && op.partition === selected.index);
    });
    var times = [];
    shown.forEach(function (op) {
      times.push(op.call);
      if (op["return"] !== null) times.push(op["return"]);
    });
    times.sort(function (a, b) { return a - b; });
    var rank = {};
    var ranks = 0;
    times.forEach(function (t, i) {
      if (i === 0 || t !== times[i - 1]) rank[t] = ranks++;
    });
    var unit = Math.max(18, Math.ceil(900 / (ranks + 2)));
    var width = (ranks + 2) * unit;
    var isShown = {};
    shown.forEach(function (op) { isShown[op.id] = true; });
    clientIds.forEach(function (client) {
      var laneEnds = [];
      clients[client]
        .filter(function (op) { return isShown[op.id]; })
        .sort(function (a, b) { return a.call - b.call; })
        .forEach(function (op) {
          var x0 = rank[op.call] * unit;
          var x1 = op["return"] === null ? (ranks + 1) * unit : rank[op["return"]] * unit + unit * 0.7;
          var sub = 0;
          while (sub < laneEnds.length && laneEnds[sub] > x0) sub++;
          laneEnds[sub] = x1;
          var style = bars[op.id].style;
          style.left = x0 + "px";
          style.width = Math.max(6, x1 - x0) + "px";
          style.top = sub * rowHeight + "px";
        });
      lanes[client].style.width = width + "px";
      lanes[client].style.height = Math.max(1, laneEnds.length) * rowHeight + "px";
    });
  }

  var side = el("aside", { id: "side" });
  var timelineWrap = el("div", { id: "timeline-wrap" }, [timeline]);
  app.appendChild(el("div", { id: "main" }, [timelineWrap, side]));
  var details = el("div", { id: "details" });
  document.body.appendChild(details);

  // ---- selecting a partition ----
  var selected = null;
  function select(index) {
    selected = byPartition[index] || null;
    Array.prototype.forEach.call(tabs.children, function (tab) {
      tab.classList.toggle("selected", Number(tab.getAttribute("data-partition")) === index);
    });
    ops.forEach(function (op) {
      var bar = bars[op.id];
      var mine = selected && op.partition === selected.index;
      bar.classList.toggle("dim", partitions.length > 1 && !mine);
      var pos = mine ? selected.position[op.id] : undefined;
      var badge = bar.firstChild;
      bar.classList.toggle("linearized", pos !== undefined);
      bar.classList.toggle("unplaced", !!(mine && selected.failing && pos === undefined));
      if (pos !== undefined) {
        bar.setAttribute("data-lin-index", String(pos + 1));
        badge.textContent = String(pos + 1);
        badge.style.display = "";
      } else {
        bar.removeAttribute("data-lin-index");
        badge.style.display = "none";
      }
    });
    layout();
    renderSide();
    // Bring the operation that cannot be placed (or the part's first one)
    // into view.
    var focus = selected && (selected.stuck !== null ? selected.stuck : selected.ops[0]);
    if (focus !== undefined && focus !== null && bars[focus]) {
      var left = parseFloat(bars[focus].style.left) || 0;
      timelineWrap.scrollLeft = Math.max(0, left - timelineWrap.clientWidth / 2);
    }
  }

  function renderSide() {
    side.textContent = "";
    if (!selected) {
      side.appendChild(el("p", { text: "No operations." }));
      return;
    }
    var name = selected.name || ("part " + selected.index);
    var heading;
    if (selected.failing) {
      heading = "Longest linearizable prefix of " + name + ": " + selected.linearization.length +
        " of " + selected.ops.length + " operations";
    } else if (selected.linearization.length > 0) {
      heading = "Linearization of " + name;
    } else {
      heading = name + ": no linearization shown (" + (data.verdict === "unknown" ? "the check gave up" : "not computed") + ")";
    }
    side.appendChild(el("h2", { id: "linearization-title", text: heading }));
    side.appendChild(el("div", { class: "initial-state", text: "initial state: " + selected.initial }));
    var list = el("ol", { id: "linearization", "data-partition": String(selected.index) });
    selected.linearization.forEach(function (step) {
      var op = ops[step.op];
      var item = el("li", { class: "lin-step", "data-op-id": String(op.id) }, [
        el("span", { class: "op-label", text: "client " + op.client + ": " + op.label }),
        el("br"),
        el("span", { class: "state", text: step.before + " \u2192 " + step.after })
      ]);
      item.addEventListener("mouseenter", function (e) { hover(op.id, e); });
      item.addEventListener("mousemove", function (e) { move(e); });
      item.addEventListener("mouseleave", unhover);
      list.appendChild(item);
    });
    if (selected.stuck !== null) {
      var stuck = ops[selected.stuck];
      var item = el("li", { class: "lin-stuck", "data-op-id": String(stuck.id),
        text: "\u2717 cannot place next: client " + stuck.client + ": " + stuck.label });
      item.addEventListener("mouseenter", function (e) { hover(stuck.id, e); });
      item.addEventListener("mouseleave", unhover);
      list.appendChild(item);
    }
    side.appendChild(list);
    if (selected.failing) {
      side.appendChild(el("p", { class: "unplaced-count",
        text: (selected.ops.length - selected.linearization.length) + " operations could not be placed after this prefix." }));
    }
  }

  // ---- hover details ----
  var pinned = null;
  function describe(id) {
    var op = ops[id];
    var part = byPartition[op.partition];
    var pos = part ? part.position[id] : undefined;
    var before = "\u2014", after = "\u2014";
    if (pos !== undefined) {
      before = part.linearization[pos].before;
      after = part.linearization[pos].after;
    } else if (part && part.stuck === id) {
      before = pos === undefined && part.linearization.length
        ? part.linearization[part.linearization.length - 1].after : part.initial;
      after = "(no legal state: cannot be placed here)";
    } else if (part && part.failing) {
      after = "(not placed)";
    }
    var rows = [
      ["operation", "#" + op.id + (pos !== undefined ? "  (step " + (pos + 1) + ")" : "")],
      ["client", String(op.client)],
      ["part", part ? (part.name || "part " + part.index) : ""],
      ["input", op.input],
      ["output", op.output],
      ["called", String(op.call)],
      ["returned", op["return"] === null ? "never (outcome unknown)" : String(op["return"])],
      ["state before", before],
      ["state after", after]
    ];
    details.textContent = "";
    details.appendChild(el("table", {}, rows.map(function (r) {
      return el("tr", { "data-field": r[0].replace(/ /g, "-") }, [el("th", { text: r[0] }), el("td", { text: r[1] })]);
    })));
  }
  function move(e) {
    if (pinned !== null) return;
    var x = Math.min(e.clientX + 14, window.innerWidth - 470);
    details.style.left = Math.max(0, x) + "px";
    details.style.top = (e.clientY + 14) + "px";
  }
  function hover(id, e) {
    if (pinned !== null) return;
    bars[id].classList.add("hover");
    describe(id);
    details.classList.add("visible");
    move(e);
  }
  function unhover() {
    if (pinned !== null) return;
    Object.keys(bars).forEach(function (k) { bars[k].classList.remove("hover"); });
    details.classList.remove("visible");
  }
  function pin(id, e) {
    var was = pinned;
    if (was !== null) bars[was].classList.remove("pinned");
    pinned = null;
    if (was === id) { unhover(); return; }
    hover(id, e);
    pinned = id;
    bars[id].classList.add("pinned");
  }

  var first = partitions.filter(function (p) { return p.failing; })[0] || partitions[0];
  select(first ? first.index : -1);
  document.body.setAttribute("data-rendered", "true");
})();
