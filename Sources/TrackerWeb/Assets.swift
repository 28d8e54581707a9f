import Hummingbird
import NIOCore

/// The dashboard's only style sheet and script, compiled into the binary (no CDN, no files to find at
/// run time). The Content-Security-Policy allows scripts and styles from /static/ only.
enum Assets {
    static func response(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static let styleSheet = """
        body { font: 14px/1.45 system-ui, -apple-system, "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #1d2430; background: #f6f7f9; }
        header { background: #1d2430; }
        nav { display: flex; gap: 1.2em; align-items: baseline; padding: 0.6em 1.5em; }
        nav a { color: #cfd8e3; text-decoration: none; }
        nav a.current, nav a:hover { color: #ffffff; border-bottom: 2px solid #6fa8ff; }
        nav .brand { color: #ffffff; font-weight: bold; margin-right: 1em; }
        main { padding: 0.5em 1.5em 2em; }
        h1 { font-size: 1.5em; margin: 0.4em 0 0.6em; }
        h2 { font-size: 1.15em; margin: 0.2em 0 0.5em; }
        section { background: #ffffff; border: 1px solid #dde1e7; border-radius: 6px; padding: 0.8em 1em; margin: 0 0 1em; overflow-x: auto; }
        .run { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 0 1em; }
        .run section.wide { grid-column: 1 / -1; }
        table { border-collapse: collapse; background: #ffffff; }
        th, td { padding: 0.25em 0.6em; border-bottom: 1px solid #e7eaee; text-align: left; vertical-align: top; }
        thead th { background: #eef1f5; position: sticky; top: 0; }
        th a { color: inherit; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        table.fields th { font-weight: normal; color: #566173; white-space: nowrap; }
        .settings { font-size: 0.9em; color: #566173; }
        .tag { font-size: 0.85em; background: #eef3fa; border: 1px solid #c9d6ea; border-radius: 3px; padding: 0 3px; white-space: nowrap; }
        .status.running { color: #1565c0; font-weight: bold; }
        .status.finished { color: #2e7d32; }
        .status.failed { color: #c62828; font-weight: bold; }
        .status.interrupted { color: #ef6c00; }
        progress { width: 7em; vertical-align: middle; }
        .eta { color: #566173; font-size: 0.9em; }
        .filters { display: flex; flex-wrap: wrap; gap: 0.6em 1em; align-items: end; margin-bottom: 0.8em; }
        .filters input[type=number] { width: 5em; }
        .pager { margin-top: 0.8em; }
        .error { color: #c62828; font-weight: bold; }
        img.chart { max-width: 100%; height: auto; border: 1px solid #e7eaee; }
        code { font-size: 0.9em; }
        .downloads a { margin-right: 1em; }
        .ichart { position: relative; max-width: 980px; }
        .ichart-svg { width: 100%; height: auto; display: block; user-select: none; }
        .ichart-svg .tick { font-size: 11px; fill: #566173; }
        .ichart-svg .axis-label { font-size: 12px; fill: #1d2430; }
        .ichart-overlay { cursor: crosshair; }
        .ichart-title { font-weight: bold; margin-bottom: 0.2em; }
        .ichart-controls { display: flex; gap: 0.6em; align-items: baseline; flex-wrap: wrap; margin-bottom: 0.3em; }
        .ichart-hint, .ichart-note { color: #566173; font-size: 0.85em; }
        .ichart-legend { display: flex; flex-wrap: wrap; gap: 0.3em 0.8em; margin-top: 0.3em; }
        .ichart-toggle { background: none; border: 1px solid #dde1e7; border-radius: 3px; padding: 1px 6px; cursor: pointer; font: inherit; font-size: 0.9em; }
        .ichart-toggle.off { opacity: 0.45; text-decoration: line-through; }
        .ichart-toggle .swatch { vertical-align: middle; margin-right: 4px; }
        .ichart-values { position: absolute; background: rgba(255, 255, 255, 0.95); border: 1px solid #c8ced8; border-radius: 4px; padding: 4px 8px; font-size: 0.85em; pointer-events: none; white-space: nowrap; box-shadow: 0 1px 4px rgba(0, 0, 0, 0.15); }
        .ichart-values .name { color: #566173; margin-right: 0.8em; }
        .ichart-values .value { font-variant-numeric: tabular-nums; font-weight: bold; }
        .ichart-value { display: flex; justify-content: space-between; }
        .ichart.ready .ichart-fallback { display: none; }
        tr.differs > * { background: #fff4d6; }
        tr.differs > th { font-weight: bold; }
        #settings-diff th, #settings-diff td { white-space: nowrap; }
        code.digest { cursor: help; }
        button.copy { font-size: 0.8em; padding: 0 4px; }
        form.edit { margin: 0.4em 0; }
        form.edit.remove { display: inline-block; margin-right: 0.5em; }
        .pcoords { position: relative; max-width: 980px; }
        .pcoords-line { cursor: pointer; }
        .result-box { overflow: auto; max-width: 100%; max-height: 75vh; border: 1px solid #e7eaee; }
        #result td { max-width: 36em; overflow-wrap: anywhere; }
        """

    /// Refreshes live progress (elements with data-live-run) once a second, and on a running run's page
    /// its charts every few seconds; reloads that page once the run is done, to show its result.
    static let script = """
        "use strict";
        (function () {
          var live = document.querySelectorAll("[data-live-run]");
          var page = document.querySelector("[data-live-page]");
          if (live.length === 0 && !page) { return; }
          var ticks = 0;
          function formatDuration(seconds) {
            if (seconds === null || seconds === undefined) { return ""; }
            if (seconds < 60) { return seconds.toFixed(1) + " s"; }
            var whole = Math.round(seconds);
            if (whole < 3600) { return Math.floor(whole / 60) + " min " + (whole % 60) + " s"; }
            return Math.floor(whole / 3600) + " h " + Math.floor(whole % 3600 / 60) + " min";
          }
          function refresh(element) {
            var id = element.getAttribute("data-live-run");
            return fetch("/api/runs/" + encodeURIComponent(id) + "/progress", { cache: "no-store" })
              .then(function (response) { return response.ok ? response.json() : null; })
              .then(function (progress) {
                if (!progress) { return false; }
                element.querySelector("progress").value = progress.iterations;
                element.querySelector(".done").textContent = String(progress.iterations);
                element.querySelector(".eta").textContent = progress.eta_seconds === null ? "" : "ETA " + formatDuration(progress.eta_seconds);
                return progress.finished;
              });
          }
          function refreshCharts() {
            ["schedule-chart", "convergence-chart"].forEach(function (name) {
              var image = document.getElementById(name);
              // The convergence chart is charts.js's now (it refreshes itself); only images reload here.
              if (image && image.tagName === "IMG") { image.src = image.src.replace(/\\?.*$/, "") + "?t=" + Date.now(); }
            });
          }
          var timer = setInterval(function () {
            ticks += 1;
            var pending = Array.prototype.map.call(live, refresh);
            Promise.all(pending).then(function (finished) {
              if (page && finished.some(function (done) { return done; })) {
                clearInterval(timer);
                window.location.reload();
              }
            }).catch(function () { /* the next tick tries again */ });
            if (page && ticks % 5 === 0) { refreshCharts(); }
          }, 1000);
        })();
        """
}
