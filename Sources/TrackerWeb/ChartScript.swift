/// `/static/charts.js`: the interactive charts (and the copy buttons), our own SVG and about 300 lines of
/// plain script, no library (docs/ui.md, "Interactive charts"). It fills every `div.ichart[data-src]`
/// from its JSON (Pages.chartObject: series of `[x, y]`, bands of `[x, low, high]`): the values of every
/// line at the cursor's iteration, drag across to zoom on the iteration axis (`zoom: "server"` charts ask
/// the server for the window, at full resolution again), *reset zoom*, lines toggled from the legend, a
/// linear/log iteration axis. Stored text (series names, titles) only ever reaches the page as
/// `textContent`, never as markup. Allowed by the CSP's `script-src 'self'`; it sets no inline style
/// attribute (SVG presentation attributes, and element.style through the CSSOM, which the CSP allows).
enum ChartScript {
    static let source = #"""
        "use strict";
        (function () {
          var NS = "http://www.w3.org/2000/svg";
          var COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
          var W = 860, H = 420, L = 66, R = 66, T = 16, B = 44;
          var PW = W - L - R, PH = H - T - B;
          var counter = 0;

          function svg(name, attributes, parent) {
            var element = document.createElementNS(NS, name);
            Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
            if (parent) { parent.appendChild(element); }
            return element;
          }
          function node(name, className, text, parent) {
            var element = document.createElement(name);
            if (className) { element.className = className; }
            if (text !== undefined && text !== null) { element.textContent = text; }
            if (parent) { parent.appendChild(element); }
            return element;
          }
          function format(value) {
            if (value === null || value === undefined || !isFinite(value)) { return "–"; }
            var size = Math.abs(value);
            if (size !== 0 && (size < 1e-3 || size >= 1e7)) { return value.toExponential(3); }
            return String(Number(value.toPrecision(5)));
          }
          function ticks(low, high, count) {
            var span = high - low;
            if (!(span > 0)) { return [low]; }
            var raw = span / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
            var step = [1, 2, 5, 10].map(function (m) { return m * power; }).filter(function (s) { return s >= raw; })[0];
            var out = [];
            for (var v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) { out.push(Number(v.toPrecision(12))); }
            return out;
          }
          function logTicks(low, high) {
            var out = [];
            for (var p = Math.floor(Math.log10(Math.max(low, 1))); Math.pow(10, p) <= high; p += 1) {
              if (Math.pow(10, p) >= low) { out.push(Math.pow(10, p)); }
            }
            return out.length ? out : [low, high];
          }
          // The value of a series at x: a step series holds its last point's value; a line interpolates.
          function valueAt(series, x) {
            var points = series.points, low = 0, high = points.length - 1;
            if (high < 0 || x < points[0][0]) { return null; }
            if (x >= points[high][0]) { return series.step || x === points[high][0] ? points[high][1] : null; }
            while (high - low > 1) {
              var middle = (low + high) >> 1;
              if (points[middle][0] <= x) { low = middle; } else { high = middle; }
            }
            if (series.step) { return points[low][1]; }
            var a = points[low], b = points[low + 1];
            return a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]);
          }

          function Chart(box) {
            this.box = box;
            this.source = box.getAttribute("data-src");
            this.id = "ichart-" + (counter += 1);
            this.hidden = {};
            this.logX = false;
            this.window = null;
            this.data = null;
            this.full = null;
          }
          Chart.prototype.url = function () {
            var url = new URL(this.source, window.location.href);
            if (this.window && this.data && this.data.zoom === "server") {
              url.searchParams.set("from", String(Math.max(0, Math.floor(this.window[0]))));
              url.searchParams.set("to", String(Math.ceil(this.window[1])));
            }
            return url.toString();
          };
          Chart.prototype.load = function () {
            var chart = this;
            return fetch(chart.url(), { cache: "no-store" })
              .then(function (response) {
                if (!response.ok) { throw new Error("HTTP " + response.status); }
                return response.json();
              })
              .then(function (data) {
                chart.data = data;
                if (!chart.window) { chart.full = data; }
                chart.render();
              })
              .catch(function (error) {
                chart.box.setAttribute("data-error", String(error));
              });
          };
          Chart.prototype.domain = function () {
            var data = this.data;
            var low = this.window ? this.window[0] : data.x_min, high = this.window ? this.window[1] : data.x_max;
            if (!(high > low)) { high = low + 1; }
            return [low, high];
          };
          Chart.prototype.render = function () {
            var chart = this, data = chart.data, box = chart.box;
            while (box.firstChild) { box.removeChild(box.firstChild); }
            box.classList.add("ready");
            node("div", "ichart-title", data.title, box);
            var controls = node("div", "ichart-controls", null, box);
            var logButton = node("button", "ichart-log", chart.logX ? "linear x" : "log x", controls);
            logButton.type = "button";
            logButton.addEventListener("click", function () { chart.logX = !chart.logX; chart.render(); });
            var reset = node("button", "ichart-reset", "reset zoom", controls);
            reset.type = "button";
            reset.disabled = !chart.window;
            reset.addEventListener("click", function () {
              chart.window = null;
              if (chart.full && chart.data.zoom === "server") { chart.data = chart.full; }
              chart.render();
            });
            node("span", "ichart-hint", "drag across the chart to zoom; click a legend entry to hide its line", controls);
            if (!data.series.length) {
              node("p", "ichart-empty", "No iterations recorded yet", box);
              return;
            }
            var domain = chart.domain();
            var toLog = function (x) { return Math.log10(Math.max(x, 0) + 1); };
            var x0 = chart.logX ? toLog(domain[0]) : domain[0], x1 = chart.logX ? toLog(domain[1]) : domain[1];
            if (!(x1 > x0)) { x1 = x0 + 1; }
            function px(x) { return L + ((chart.logX ? toLog(x) : x) - x0) / (x1 - x0) * PW; }
            function fromPx(p) {
              var v = x0 + (p - L) / PW * (x1 - x0);
              return chart.logX ? Math.pow(10, v) - 1 : v;
            }
            function yRange(axis) {
              var low = Infinity, high = -Infinity;
              data.series.forEach(function (series) {
                if (series.axis !== axis || chart.hidden[series.name]) { return; }
                series.points.forEach(function (p) {
                  if (p[0] >= domain[0] && p[0] <= domain[1]) { low = Math.min(low, p[1]); high = Math.max(high, p[1]); }
                });
                series.band.forEach(function (b) {
                  if (b[0] >= domain[0] && b[0] <= domain[1]) { low = Math.min(low, b[1]); high = Math.max(high, b[2]); }
                });
                // The value held into the window from the left.
                var held = valueAt(series, domain[0]);
                if (held !== null) { low = Math.min(low, held); high = Math.max(high, held); }
              });
              if (!(high >= low)) { return null; }
              if (high === low) { low -= 0.5; high += 0.5; }
              var pad = (high - low) * 0.05;
              return [low - pad, high + pad];
            }
            var ranges = { left: yRange("left"), right: yRange("right") };
            function py(axis, y) {
              var range = ranges[axis];
              return T + PH - (y - range[0]) / (range[1] - range[0]) * PH;
            }
            var root = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "ichart-svg", role: "img" }, box);
            svg("title", {}, root).textContent = data.title;
            var clip = svg("clipPath", { id: chart.id + "-clip" }, svg("defs", {}, root));
            svg("rect", { x: L, y: T, width: PW, height: PH }, clip);
            svg("rect", { x: L, y: T, width: PW, height: PH, fill: "#ffffff", stroke: "#c8ced8" }, root);
            var xTicks = chart.logX ? logTicks(domain[0] + 1, domain[1] + 1).map(function (v) { return v - 1; }) : ticks(domain[0], domain[1], 8);
            xTicks.forEach(function (value) {
              var x = px(value);
              if (x < L - 0.5 || x > L + PW + 0.5) { return; }
              svg("line", { x1: x, x2: x, y1: T, y2: T + PH, stroke: "#eceff3" }, root);
              svg("text", { x: x, y: T + PH + 16, "text-anchor": "middle", class: "tick" }, root).textContent = format(chart.logX ? value + 1 : value);
            });
            ["left", "right"].forEach(function (axis) {
              var range = ranges[axis];
              if (!range) { return; }
              ticks(range[0], range[1], 6).forEach(function (value) {
                var y = py(axis, value);
                if (axis === "left") { svg("line", { x1: L, x2: L + PW, y1: y, y2: y, stroke: "#eceff3" }, root); }
                svg("text", { x: axis === "left" ? L - 6 : L + PW + 6, y: y + 4, "text-anchor": axis === "left" ? "end" : "start", class: "tick" }, root)
                  .textContent = format(value);
              });
            });
            svg("text", { x: L + PW / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, root)
              .textContent = data.x_label + (chart.logX ? " + 1 (log scale)" : "");
            svg("text", { x: 14, y: T + PH / 2, "text-anchor": "middle", class: "axis-label", transform: "rotate(-90 14 " + (T + PH / 2) + ")" }, root)
              .textContent = data.y_label;
            if (ranges.right && data.y2_label) {
              svg("text", { x: W - 10, y: T + PH / 2, "text-anchor": "middle", class: "axis-label", transform: "rotate(90 " + (W - 10) + " " + (T + PH / 2) + ")" }, root)
                .textContent = data.y2_label;
            }
            var plot = svg("g", { "clip-path": "url(#" + chart.id + "-clip)" }, root);
            data.series.forEach(function (series, index) {
              if (chart.hidden[series.name] || !ranges[series.axis]) { return; }
              var color = COLORS[index % COLORS.length];
              if (series.band.length > 1) {
                var upper = series.band.map(function (b) { return px(b[0]) + "," + py(series.axis, b[2]); });
                var lower = series.band.slice().reverse().map(function (b) { return px(b[0]) + "," + py(series.axis, b[1]); });
                svg("polygon", { points: upper.concat(lower).join(" "), fill: color, "fill-opacity": "0.16", stroke: "none" }, plot);
              }
              var d = "";
              series.points.forEach(function (p, i) {
                var x = px(p[0]).toFixed(1), y = py(series.axis, p[1]).toFixed(1);
                if (i === 0) { d += "M" + x + "," + y; } else if (series.step) { d += "H" + x + "V" + y; } else { d += "L" + x + "," + y; }
              });
              if (series.step && series.points.length) { d += "H" + (L + PW).toFixed(1); }
              svg("path", { d: d, fill: "none", stroke: color, "stroke-width": "1.8", "data-series": series.name,
                            "stroke-dasharray": series.axis === "right" ? "5 3" : "none" }, plot);
            });
            // Legend: one button per line; a hidden line's button is struck through.
            var legend = node("div", "ichart-legend", null, box);
            data.series.forEach(function (series, index) {
              var button = node("button", "ichart-toggle" + (chart.hidden[series.name] ? " off" : ""), null, legend);
              button.type = "button";
              button.setAttribute("aria-pressed", chart.hidden[series.name] ? "false" : "true");
              var swatch = svg("svg", { width: 14, height: 10, class: "swatch" }, button);
              svg("rect", { width: 14, height: 10, fill: COLORS[index % COLORS.length] }, swatch);
              node("span", null, series.name + (series.axis === "right" ? " (right axis)" : ""), button);
              button.addEventListener("click", function () {
                chart.hidden[series.name] = !chart.hidden[series.name];
                chart.render();
              });
            });
            if (data.note) { node("div", "ichart-note", data.note, box); }
            // The cursor: a vertical line and every visible line's value at that iteration.
            var cursor = svg("line", { y1: T, y2: T + PH, stroke: "#566173", "stroke-width": "1", visibility: "hidden" }, root);
            var selection = svg("rect", { y: T, height: PH, fill: "#6fa8ff", "fill-opacity": "0.2", visibility: "hidden" }, root);
            var values = node("div", "ichart-values", null, box);
            values.hidden = true;
            var overlay = svg("rect", { x: L, y: T, width: PW, height: PH, fill: "transparent", class: "ichart-overlay" }, root);
            var dragStart = null;
            function localX(event) {
              var bounds = root.getBoundingClientRect();
              return (event.clientX - bounds.left) / bounds.width * W;
            }
            function show(event) {
              var p = Math.min(L + PW, Math.max(L, localX(event)));
              var x = Math.round(fromPx(p));
              cursor.setAttribute("x1", p);
              cursor.setAttribute("x2", p);
              cursor.setAttribute("visibility", "visible");
              while (values.firstChild) { values.removeChild(values.firstChild); }
              node("div", "ichart-iteration", data.x_label + " " + x, values);
              data.series.forEach(function (series) {
                if (chart.hidden[series.name]) { return; }
                var row = node("div", "ichart-value", null, values);
                node("span", "name", series.name, row);
                node("span", "value", format(valueAt(series, x)), row);
              });
              values.hidden = false;
              var bounds = root.getBoundingClientRect();
              var left = p / W * bounds.width;
              values.style.left = (left > bounds.width / 2 ? left - values.offsetWidth - 12 : left + 12) + "px";
              values.style.top = (T / H * bounds.height + 4) + "px";
              if (dragStart !== null) {
                selection.setAttribute("x", Math.min(dragStart, p));
                selection.setAttribute("width", Math.abs(p - dragStart));
                selection.setAttribute("visibility", "visible");
              }
            }
            overlay.addEventListener("mousemove", show);
            overlay.addEventListener("mouseleave", function () {
              cursor.setAttribute("visibility", "hidden");
              values.hidden = true;
            });
            overlay.addEventListener("mousedown", function (event) {
              dragStart = Math.min(L + PW, Math.max(L, localX(event)));
              event.preventDefault();
            });
            overlay.addEventListener("mouseup", function (event) {
              if (dragStart === null) { return; }
              var end = Math.min(L + PW, Math.max(L, localX(event)));
              var start = dragStart;
              dragStart = null;
              selection.setAttribute("visibility", "hidden");
              if (Math.abs(end - start) < 6) { return; }
              var a = fromPx(Math.min(start, end)), b = fromPx(Math.max(start, end));
              chart.window = [Math.max(0, Math.floor(a)), Math.max(Math.floor(a) + 1, Math.ceil(b))];
              if (chart.data.zoom === "server") { chart.load(); } else { chart.render(); }
            });
            box.setAttribute("data-window", chart.window ? chart.window.join("-") : "all");
            box.setAttribute("data-log-x", chart.logX ? "1" : "0");
          };

          var charts = Array.prototype.map.call(document.querySelectorAll("div.ichart[data-src]"), function (box) {
            var chart = new Chart(box);
            chart.load();
            return chart;
          });
          // A running run's page: its chart follows the run every 5 s (unless zoomed in).
          if (document.querySelector("[data-live-page]")) {
            setInterval(function () {
              charts.forEach(function (chart) { if (!chart.window) { chart.load(); } });
            }, 5000);
          }

          // Parallel coordinates (div.pcoords[data-src]): one vertical axis per setting plus the objective,
          // each row a line through its values, coloured by its objective (dark low, bright high).
          var RAMP = [[68, 1, 84], [33, 145, 140], [253, 231, 37]];
          function rampColor(t) {
            t = Math.max(0, Math.min(1, isFinite(t) ? t : 0.5));
            var i = t < 0.5 ? 0 : 1, u = t < 0.5 ? t * 2 : (t - 0.5) * 2, a = RAMP[i], b = RAMP[i + 1];
            return "rgb(" + [0, 1, 2].map(function (k) { return Math.round(a[k] + (b[k] - a[k]) * u); }).join(",") + ")";
          }
          function drawParallel(box, data) {
            while (box.firstChild) { box.removeChild(box.firstChild); }
            if (!data.lines.length) { node("p", "ichart-empty", "No finished configurations to draw", box); return; }
            var axes = data.axes.map(function (axis, index) {
              return { name: axis.name, categories: axis.categories, value: function (line) { return line.values[index]; } };
            });
            axes.push({ name: data.objective, categories: null, objective: true, value: function (line) { return line.objective; } });
            var PW2 = 860, PH2 = 360, top = 44, bottom = 40, side = 100;
            var step = axes.length > 1 ? (PW2 - 2 * side) / (axes.length - 1) : 0;
            axes.forEach(function (axis, index) {
              axis.x = axes.length > 1 ? side + index * step : PW2 / 2;
              if (axis.categories) { axis.low = 0; axis.high = Math.max(1, axis.categories.length - 1); return; }
              var values = data.lines.map(axis.value).filter(function (v) { return v !== null && isFinite(v); });
              axis.low = Math.min.apply(null, values); axis.high = Math.max.apply(null, values);
              if (!(axis.high > axis.low)) { axis.low -= 0.5; axis.high += 0.5; }
            });
            function y(axis, v) { return top + (PH2 - top - bottom) * (1 - (v - axis.low) / (axis.high - axis.low)); }
            var objectiveAxis = axes[axes.length - 1];
            var root = svg("svg", { viewBox: "0 0 " + PW2 + " " + PH2, class: "ichart-svg pcoords-svg", role: "img" }, box);
            svg("rect", { width: PW2, height: PH2, fill: "#ffffff" }, root);
            var info = node("div", "ichart-values", null, box);
            info.hidden = true;
            var sorted = data.lines.slice().sort(function (a, b) { return a.objective - b.objective; });
            sorted.forEach(function (line) {
              var t = (line.objective - objectiveAxis.low) / (objectiveAxis.high - objectiveAxis.low);
              var points = axes.map(function (axis) {
                var v = axis.value(line);
                return axis.x.toFixed(1) + "," + (v === null ? PH2 - bottom + 18 : y(axis, v)).toFixed(1);
              }).join(" ");
              var path = svg("polyline", { points: points, fill: "none", stroke: rampColor(t), "stroke-width": "2", "stroke-opacity": "0.85", class: "pcoords-line" }, root);
              svg("title", {}, path).textContent = line.name + ": " + format(line.objective);
              path.addEventListener("mouseenter", function () {
                path.setAttribute("stroke-width", "4");
                while (info.firstChild) { info.removeChild(info.firstChild); }
                node("div", "ichart-iteration", line.name, info);
                axes.forEach(function (axis) {
                  var row = node("div", "ichart-value", null, info);
                  var v = axis.value(line);
                  node("span", "name", axis.name, row);
                  node("span", "value", axis.categories ? String(axis.categories[v]) : format(v), row);
                });
                info.hidden = false;
                info.style.left = "8px";
                info.style.top = "8px";
              });
              path.addEventListener("mouseleave", function () { path.setAttribute("stroke-width", "2"); info.hidden = true; });
            });
            axes.forEach(function (axis) {
              svg("line", { x1: axis.x, x2: axis.x, y1: top, y2: PH2 - bottom, stroke: "#1d2430", "stroke-width": "1" }, root);
              svg("text", { x: axis.x, y: top - 14, "text-anchor": "middle", class: "axis-label" }, root).textContent = axis.name;
              var labels = axis.categories ? axis.categories.map(function (c, i) { return [i, c]; })
                : [[axis.low, format(axis.low)], [(axis.low + axis.high) / 2, format((axis.low + axis.high) / 2)], [axis.high, format(axis.high)]];
              labels.forEach(function (pair) {
                svg("text", { x: axis.x + 5, y: y(axis, pair[0]) + 4, class: "tick" }, root).textContent = String(pair[1]);
              });
              // A setting a configuration does not have (delta outside DTAQL) sits below its axis.
              if (data.lines.some(function (line) { return axis.value(line) === null; })) {
                svg("text", { x: axis.x + 5, y: PH2 - bottom + 22, class: "tick" }, root).textContent = "none";
              }
            });
            box.setAttribute("data-lines", String(data.lines.length));
          }
          Array.prototype.forEach.call(document.querySelectorAll("div.pcoords[data-src]"), function (box) {
            fetch(box.getAttribute("data-src"), { cache: "no-store" })
              .then(function (response) { if (!response.ok) { throw new Error("HTTP " + response.status); } return response.json(); })
              .then(function (data) { drawParallel(box, data); })
              .catch(function (error) { box.setAttribute("data-error", String(error)); });
          });

          // Copy buttons (long digests): the full value is in data-copy.
          Array.prototype.forEach.call(document.querySelectorAll("button.copy[data-copy]"), function (button) {
            button.addEventListener("click", function () {
              var text = button.getAttribute("data-copy");
              var done = function () { button.textContent = "copied"; setTimeout(function () { button.textContent = "copy"; }, 1500); };
              if (navigator.clipboard && navigator.clipboard.writeText) {
                navigator.clipboard.writeText(text).then(done, function () { button.textContent = "select and copy"; });
              } else {
                button.textContent = "select and copy";
              }
            });
          });
        })();

        """#
}
