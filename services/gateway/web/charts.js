"use strict";
// Small inline SVG charts drawn from data, without any library: a line chart for rates and a
// bar chart for counts. Colours come from the style sheet (classes), so the high-contrast mode
// restyles them too. Each chart is described by a text title; the data is also in a table.
var Charts = (function () {
  var NS = "http://www.w3.org/2000/svg";
  var W = 480, H = 220, LEFT = 40, RIGHT = 10, TOP = 10, BOTTOM = 40;

  function svg(tag, attributes, text) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function frame(title) {
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", role: "img", "aria-label": title });
    root.appendChild(svg("title", {}, title));
    return root;
  }

  function xLabels(root, labels, x) {
    var every = Math.max(1, Math.ceil(labels.length / 7));
    var last = labels.length - 1;
    labels.forEach(function (label, i) {
      // Every few labels, and always the newest, without letting the two collide.
      var show = i === last || (i % every === 0 && last - i >= every);
      if (!show) return;
      root.appendChild(svg("text", { x: x(i), y: H - BOTTOM + 16, "text-anchor": "middle" }, label));
    });
  }

  function yAxis(root, max, suffix) {
    for (var k = 0; k <= 4; k++) {
      var value = max * k / 4;
      var y = TOP + (H - TOP - BOTTOM) * (1 - k / 4);
      root.appendChild(svg("line", { class: k === 0 ? "axis" : "grid", x1: LEFT, x2: W - RIGHT, y1: y, y2: y }));
      root.appendChild(svg("text", { x: LEFT - 4, y: y + 4, "text-anchor": "end" },
        (Math.round(value * 10) / 10) + (suffix || "")));
    }
  }

  // series: arrays of numbers or null (no value that day: the line breaks there).
  function lines(container, labels, series, max, title) {
    var root = frame(title);
    yAxis(root, max, "%");
    var n = Math.max(1, labels.length - 1);
    function x(i) { return LEFT + (W - LEFT - RIGHT) * (labels.length === 1 ? 0.5 : i / n); }
    function y(v) { return TOP + (H - TOP - BOTTOM) * (1 - v / max); }
    series.forEach(function (values, s) {
      var path = "";
      var pen = false;
      values.forEach(function (v, i) {
        if (v === null || v === undefined) { pen = false; return; }
        path += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1) + " ";
        pen = true;
        root.appendChild(svg("circle", { class: "dot-" + (s + 1), cx: x(i), cy: y(v), r: 3 }));
      });
      if (path) root.appendChild(svg("path", { class: "series-" + (s + 1), d: path }));
    });
    xLabels(root, labels, x);
    container.replaceChildren(root);
  }

  // items: [{label, value}]
  function bars(container, items) {
    var max = Math.max(1, Math.max.apply(null, items.map(function (i) { return i.value; })));
    max = Math.ceil(max / 4) * 4;
    var root = frame(items.map(function (i) { return i.label + " " + i.value; }).join("，"));
    yAxis(root, max, "");
    var slot = (W - LEFT - RIGHT) / Math.max(1, items.length);
    function x(i) { return LEFT + slot * (i + 0.5); }
    items.forEach(function (item, i) {
      var height = (H - TOP - BOTTOM) * item.value / max;
      root.appendChild(svg("rect", { class: "bar", x: x(i) - slot * 0.3, width: slot * 0.6,
        y: H - BOTTOM - height, height: Math.max(0, height) }));
      if (item.value > 0) {
        root.appendChild(svg("text", { x: x(i), y: H - BOTTOM - height - 3, "text-anchor": "middle" }, String(item.value)));
      }
    });
    xLabels(root, items.map(function (i) { return i.label; }), x);
    container.replaceChildren(root);
  }

  return { lines: lines, bars: bars };
})();
