#!/usr/bin/env python3
"""End-to-end test of `tracker ui` in a real headless browser (Debian's chromium + chromium-driver, driven
by Selenium). Run by scripts/test after `swift test`:

    python3 Tests/ui/browser_test.py PATH/TO/tracker [SCREENSHOT_DIR]

It records a small sweep plus one run that keeps running, starts `tracker ui --port 0`, visits
runs -> run -> compare -> queries as a user would, checks what each page shows, that the running run's
progress moves without a reload, works the interactive chart (the values under the pointer, zoom and
reset, a line hidden from the legend, log x), ticks three runs for the side-by-side page, opens the sweep's
page and a tune study's page (reads the objective-against-budget chart under the pointer), adds a tag and a note through the forms of `--allow-edits` (and finds them with `tracker show`), sees
a cross-origin POST refused, checks that the browser console stays free of errors, and saves a
screenshot of each page (docs/ui/ by default). Exits non-zero on any failure, including a missing
browser, driver or Selenium: it never skips.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def fail(message):
    print(f"browser test FAILED: {message}", file=sys.stderr)
    sys.exit(1)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import StaleElementReferenceException
except ImportError as error:
    fail(f"Selenium is not installed ({error}); scripts/test installs it with pip")

for path in (CHROMIUM, CHROMEDRIVER):
    if not os.access(path, os.X_OK):
        fail(f"{path} is missing; scripts/test installs Debian's chromium and chromium-driver")

if len(sys.argv) < 2:
    fail("usage: browser_test.py PATH/TO/tracker [SCREENSHOT_DIR]")
TRACKER = os.path.abspath(sys.argv[1])
SCREENSHOTS = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else
                              os.path.join(os.path.dirname(__file__), "..", "..", "docs", "ui"))
HOSTILE_LABEL = "<img src=x onerror=alert(1)> \"quoted\""

SWEEP = {
    "description": "browser test: a small grid",
    "label": "browser-test",
    "n": [5, 6],
    "frames": 3,
    "first_frame_seed": 1,
    "seeds": [1],
    "iterations": 1500,
    "configurations": [
        {"algorithm": "dteql", "phi": [20]},
        {"algorithm": "dtaql", "phi": [4], "delta": [64]},
        {"algorithm": "ql"},
    ],
    "checkpoint_every": 512,
}


def tracker(*arguments, check=True):
    result = subprocess.run([TRACKER, *arguments], capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        fail(f"tracker {' '.join(arguments)} exited {result.returncode}: {result.stderr.strip()}")
    return result


def wait_until(condition, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    fail(f"timed out after {seconds} s waiting for {what}")


def stop(process, sig, seconds=20):
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def exercise_chart(driver, chart_id, lines):
    """The interactive chart `chart_id`: the values under the pointer, a zoom and its reset, a line
    hidden and shown again from the legend, and the log x axis."""
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#{chart_id}.ready svg.ichart-svg"))
    box = driver.find_element(By.ID, chart_id)
    paths = box.find_elements(By.CSS_SELECTOR, "path[data-series]")
    if len(paths) < lines:
        fail(f"{chart_id} draws {len(paths)} lines, expected at least {lines}")
    svg = box.find_element(By.CSS_SELECTOR, "svg.ichart-svg")
    width = svg.size["width"]
    ActionChains(driver).move_to_element_with_offset(svg, int(width * 0.1), 0).perform()
    values = box.find_element(By.CSS_SELECTOR, ".ichart-values")
    WebDriverWait(driver, 5).until(lambda d: values.is_displayed())
    text = values.text
    if not re.search(r"iteration \d+", text) or not re.search(r"\d\.\d", text):
        fail(f"{chart_id}: the values under the pointer read {text!r}")
    # Drag across a third of the plot: the chart zooms on that window; reset zoom goes back.
    ActionChains(driver).move_to_element_with_offset(svg, int(-width * 0.3), 0).click_and_hold() \
        .move_by_offset(int(width * 0.3), 0).release().perform()
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, chart_id).get_attribute("data-window") != "all")
    driver.find_element(By.CSS_SELECTOR, f"#{chart_id} .ichart-reset").click()
    WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, chart_id).get_attribute("data-window") == "all")
    # Hide the first line from the legend, then show it again.
    before = len(driver.find_elements(By.CSS_SELECTOR, f"#{chart_id} path[data-series]"))
    driver.find_element(By.CSS_SELECTOR, f"#{chart_id} .ichart-toggle").click()
    if len(driver.find_elements(By.CSS_SELECTOR, f"#{chart_id} path[data-series]")) != before - 1:
        fail(f"{chart_id}: hiding a line from the legend did not remove it")
    driver.find_element(By.CSS_SELECTOR, f"#{chart_id} .ichart-toggle.off").click()
    driver.find_element(By.CSS_SELECTOR, f"#{chart_id} .ichart-log").click()
    if driver.find_element(By.ID, chart_id).get_attribute("data-log-x") != "1":
        fail(f"{chart_id}: the log x toggle did nothing")
    driver.find_element(By.CSS_SELECTOR, f"#{chart_id} .ichart-log").click()


def main():
    os.makedirs(SCREENSHOTS, exist_ok=True)
    work = tempfile.mkdtemp(prefix="tracker-browser-")
    db = os.path.join(work, "tracker.db")
    spec = os.path.join(work, "grid.json")
    with open(spec, "w") as file:
        json.dump(SWEEP, file)
    tracker("sweep", spec, "--db", db, "--jobs", "2")
    tracker("run", "--db", db, "--algo", "dteql", "--phi", "20", "--n", "5", "--seed", "7", "--iterations", "800",
            "--label", HOSTILE_LABEL, "--quiet")
    # A tagged run: the runs page shows its tags and its search finds them.
    tagged = json.loads(tracker("list", "--db", db, "--algo", "ql", "--n", "5", "--format", "json").stdout)[0]["run_id"]
    tracker("tag", tagged, "baseline=yes", "reviewer=<b>ann</b>", "--db", db)

    live = subprocess.Popen([TRACKER, "run", "--db", db, "--algo", "dtaql", "--phi", "4", "--n", "7",
                             "--iterations", "5000000", "--checkpoint-every", "20000", "--label", "still running", "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = subprocess.Popen([TRACKER, "ui", "--db", db, "--port", "0", "--allow-edits"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    driver = None
    try:
        line = server.stdout.readline()
        match = re.search(r"http://[^ ]+/", line)
        if not match:
            fail(f"tracker ui printed no URL: {line!r} {server.stderr.read() if server.poll() is not None else ''}")
        base = match.group(0)

        def running_run():
            listing = json.loads(tracker("list", "--db", db, "--status", "running", "--format", "json").stdout)
            return listing[0]["run_id"] if listing and listing[0]["iterations"] > 0 else None
        live_id = wait_until(running_run, 60, "the live run to record its first iterations")

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1400,1000", "--hide-scrollbars", "--force-device-scale-factor=1"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(60)
        console_errors = []

        def collect_console():
            for entry in driver.get_log("browser"):
                if entry.get("level") == "SEVERE":
                    console_errors.append(entry.get("message"))

        def screenshot(name):
            # The whole page, not just the window: make the viewport as tall as the document first.
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": 1400, "height": min(max(height, 700), 5000), "deviceScaleFactor": 1, "mobile": False})
            time.sleep(0.3)
            driver.save_screenshot(os.path.join(SCREENSHOTS, name))
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        def images_loaded():
            return driver.execute_script(
                "return Array.from(document.images).every(function (i) { return i.complete && i.naturalWidth > 0; })")

        # Runs.
        driver.get(base)
        if driver.title != "Runs · tracker":
            fail(f"runs page title {driver.title!r}")
        rows = driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
        if len(rows) != 2 * 3 * 3 + 2:
            fail(f"runs page shows {len(rows)} runs, expected 20")
        body = driver.find_element(By.TAG_NAME, "body").text
        if HOSTILE_LABEL not in body:
            fail("the hostile label is not shown as text")
        if driver.find_elements(By.CSS_SELECTOR, "#runs img"):
            fail("the hostile label became markup")
        if "baseline=yes" not in body or "reviewer=<b>ann</b>" not in body:
            fail("the runs page does not show the tags as text")
        progress = driver.find_element(By.CSS_SELECTOR, f"[data-live-run='{live_id}'] progress")
        driver.execute_script("window.notReloaded = true;")
        first = float(progress.get_attribute("value"))
        WebDriverWait(driver, 20).until(lambda d: float(progress.get_attribute("value")) > first)
        if not driver.execute_script("return window.notReloaded === true"):
            fail("the runs page reloaded instead of updating in place")
        screenshot("runs.png")
        collect_console()

        # Sort by N ascending through the header link, then filter to QL.
        driver.find_element(By.LINK_TEXT, "N").click()
        WebDriverWait(driver, 10).until(lambda d: "sort=n" in d.current_url)
        driver.get(base + "?algo=ql")
        if len(driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr")) != 6:
            fail("the algorithm filter does not show the 6 QL runs")
        # The text search matches tags as key=value.
        driver.get(base + "?q=baseline%3Dyes")
        found = driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr a")
        if [link.text for link in found] != [tagged]:
            fail(f"searching baseline=yes shows {[link.text for link in found]}, expected only {tagged}")

        # The running run: its page updates itself.
        driver.get(base)
        driver.find_element(By.LINK_TEXT, live_id).click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith(f"Run {live_id}"))
        driver.execute_script("window.notReloaded = true;")
        done = driver.find_element(By.CSS_SELECTOR, "[data-live-run] .done")
        before = int(done.text)
        WebDriverWait(driver, 20).until(lambda d: int(d.find_element(By.CSS_SELECTOR, "[data-live-run] .done").text) > before)
        if not driver.execute_script("return window.notReloaded === true"):
            fail("the run page reloaded instead of updating in place")
        WebDriverWait(driver, 20).until(lambda d: images_loaded())
        for heading in ("Status", "Settings", "Schedule", "Convergence", "Frame", "Checkpoints"):
            if not driver.find_elements(By.XPATH, f"//h2[text()='{heading}']"):
                fail(f"run page has no {heading} section")
        # Its chart is drawn, and its 5-second refresh (charts and images) raises no console error.
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#convergence-chart.ready svg"))
        time.sleep(6)
        screenshot("run-live.png")
        collect_console()

        # A finished run of the sweep, N = 6: result, schedule, convergence.
        finished = json.loads(tracker("list", "--db", db, "--algo", "dteql", "--n", "6", "--format", "json").stdout)[0]["run_id"]
        driver.get(base + f"runs/{finished}")
        WebDriverWait(driver, 20).until(lambda d: images_loaded())
        text = driver.find_element(By.TAG_NAME, "body").text
        for expected in ("Result", "optimal from iteration", "greedy order", "deadline (s)"):
            if expected not in text:
                fail(f"finished run page lacks {expected!r}")
        schedule = driver.find_element(By.ID, "schedule-chart")
        if int(schedule.get_attribute("naturalHeight")) < 200:
            fail("the schedule chart did not load")
        exercise_chart(driver, "convergence-chart", 3)
        screenshot("run.png")
        collect_console()

        # Tags and a note from the page (--allow-edits), found by `tracker show`.
        driver.find_element(By.CSS_SELECTOR, "#tag-form input[name=key]").send_keys("reviewed")
        driver.find_element(By.CSS_SELECTOR, "#tag-form input[name=value]").send_keys("by <i>browser</i>")
        driver.find_element(By.XPATH, "//button[text()='Set tag']").click()
        # A form post reloads the page: an element found just before the new page replaces it goes stale,
        # so the waits look again instead of failing (CI saw it once on the note).
        reloading = WebDriverWait(driver, 10, ignored_exceptions=(StaleElementReferenceException,))
        reloading.until(lambda d: "by <i>browser</i>" in d.find_element(By.TAG_NAME, "body").text)
        note = driver.find_element(By.CSS_SELECTOR, "#note-form textarea")
        note.clear()
        note.send_keys("checked in the browser")
        driver.find_element(By.XPATH, "//button[text()='Save note']").click()
        reloading.until(lambda d: d.find_element(By.ID, "note").text == "checked in the browser")
        shown = json.loads(tracker("show", finished, "--db", db, "--format", "json").stdout)
        if shown.get("tags", {}).get("reviewed") != "by <i>browser</i>" or shown.get("note") != "checked in the browser":
            fail(f"tracker show does not find the page's tag and note: {shown.get('tags')} {shown.get('note')!r}")
        # The same form posted from another origin (with the right token) is refused and changes nothing.
        token = driver.find_element(By.CSS_SELECTOR, "#tag-form input[name=token]").get_attribute("value")
        request = urllib.request.Request(base + f"runs/{finished}/tags", method="POST",
                                         data=urllib.parse.urlencode({"key": "evil", "value": "1", "token": token}).encode(),
                                         headers={"Origin": "http://evil.example",
                                                  "Content-Type": "application/x-www-form-urlencoded"})
        try:
            urllib.request.urlopen(request, timeout=10)
            fail("a cross-origin POST was accepted")
        except urllib.error.HTTPError as error:
            if error.code != 403:
                fail(f"a cross-origin POST answered {error.code}, expected 403")
        if "evil" in json.loads(tracker("show", finished, "--db", db, "--format", "json").stdout).get("tags", {}):
            fail("the refused cross-origin POST changed the tags")
        screenshot("run-edits.png")
        collect_console()

        # Tick two runs on the runs page and compare them.
        driver.get(base + "?n=6&algo=dteql")
        boxes = driver.find_elements(By.CSS_SELECTOR, "#runs input[type=checkbox]")
        boxes[0].click()
        boxes[1].click()
        driver.find_element(By.XPATH, "//button[text()='Compare ticked']").click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith("Compare 2 ticked runs"))
        if not re.search(r"^runs\s+2$", driver.find_element(By.ID, "table-i-6").text, re.MULTILINE):
            fail("the ticked comparison does not count 2 runs")
        collect_console()

        # Tick three runs for the side-by-side page: curves overlaid, settings diffed, schedules stacked.
        driver.get(base + "?n=6")
        # One run of each algorithm, so their settings differ.
        ticked = {}
        for row in driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr"):
            algorithm = row.find_elements(By.TAG_NAME, "td")[3].text
            if algorithm not in ticked:
                ticked[algorithm] = row.find_element(By.CSS_SELECTOR, "input[type=checkbox]")
        if len(ticked) != 3:
            fail(f"the runs page at N = 6 shows the algorithms {sorted(ticked)}, expected 3")
        for box in ticked.values():
            box.click()
        driver.find_element(By.ID, "side-by-side").click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith("3 runs side by side"))
        exercise_chart(driver, "overlay-chart", 3)
        if not driver.find_elements(By.CSS_SELECTOR, "#settings-diff tr.differs"):
            fail("the side-by-side settings mark no differing row")
        WebDriverWait(driver, 20).until(lambda d: images_loaded())
        if len(driver.find_elements(By.CSS_SELECTOR, "img[src$='/schedule.svg']")) != 3:
            fail("the side-by-side page does not stack 3 schedules")
        screenshot("side-by-side.png")
        collect_console()

        # The sweep's page: progress, its Table I, the parallel coordinates.
        driver.get(base)
        driver.find_element(By.LINK_TEXT, "Sweeps").click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith("Sweeps"))
        screenshot("sweeps.png")
        driver.find_element(By.PARTIAL_LINK_TEXT, "grid.json").click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith("Sweep "))
        if "18 of 18 recorded runs finished" not in driver.find_element(By.TAG_NAME, "body").text:
            fail("the sweep page does not count its 18 finished runs")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#sweep-parallel polyline"))
        lines = driver.find_elements(By.CSS_SELECTOR, "#sweep-parallel polyline")
        if len(lines) != 6:
            fail(f"the parallel coordinates draw {len(lines)} lines, expected 6 (3 configurations x 2 N)")
        # Hover the top line at its first vertex (a polyline's box centre need not lie on it).
        top_line = lines[-1]
        x, y = (float(v) for v in top_line.get_attribute("points").split(" ")[0].split(","))
        picture = driver.find_element(By.CSS_SELECTOR, "#sweep-parallel svg")
        scale = picture.size["width"] / 860
        ActionChains(driver).move_to_element_with_offset(
            picture, int(x * scale - picture.size["width"] / 2) + 1, int(y * scale - picture.size["height"] / 2)).perform()
        WebDriverWait(driver, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#sweep-parallel .ichart-values").is_displayed())
        screenshot("sweep.png")
        collect_console()

        # The study pages: a tune study (the repository's studies/quick.json: 9 trials, seconds), recorded now,
        # while the dashboard serves (the pages above count the sweep's runs only); the list, then the study's
        # progress, leaderboard and its two pictures.
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "studies", "quick.json")) as file:
            study = json.load(file)
        study_spec = os.path.join(work, "quick.json")
        with open(study_spec, "w") as file:
            json.dump(study, file)
        tracker("tune", study_spec, "--db", db, "--jobs", "2", "--quiet")
        driver.get(base)
        driver.find_element(By.LINK_TEXT, "Studies").click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith("Studies"))
        screenshot("studies.png")
        driver.find_element(By.LINK_TEXT, study["name"]).click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith("Study "))
        status = json.loads(tracker("tune", study_spec, "--db", db, "--status", "--format", "json").stdout)
        expected = f"{status['trial_rungs_done']} of {status['trial_rungs_total']} trial-rungs done, {status['iterations_spent']} iterations spent"
        if expected not in driver.find_element(By.TAG_NAME, "body").text:
            fail(f"the study page does not read {expected!r}")
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#study-parallel polyline"))
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#study-budget.ready svg.ichart-svg"))
        budget = driver.find_element(By.ID, "study-budget")
        paths = budget.find_elements(By.CSS_SELECTOR, "path[data-series]")
        if not paths:
            fail("the objective-against-budget chart draws no line")
        # Hover near the top budget (the best trials reach it): the values at the cursor are shown.
        svg = budget.find_element(By.CSS_SELECTOR, "svg.ichart-svg")
        ActionChains(driver).move_to_element_with_offset(svg, int(svg.size["width"] * 0.3), 0).perform()
        values = budget.find_element(By.CSS_SELECTOR, ".ichart-values")
        WebDriverWait(driver, 5).until(lambda d: values.is_displayed())
        best = f"trial {status['best']['trial']}"
        numbers = [v.text for v in values.find_elements(By.CSS_SELECTOR, ".ichart-value .value") if re.fullmatch(r"[\d.,e+-]+", v.text)]
        if not re.search(r"budget \(iterations\) \d+", values.text) or best not in values.text or not numbers:
            fail(f"the objective-against-budget chart reads {values.text!r} under the pointer")
        # A line hidden from the legend and shown again.
        budget.find_element(By.CSS_SELECTOR, ".ichart-toggle").click()
        if len(budget.find_elements(By.CSS_SELECTOR, "path[data-series]")) != len(paths) - 1:
            fail("hiding a study trial from the legend did not remove its line")
        budget.find_element(By.CSS_SELECTOR, ".ichart-toggle.off").click()
        # The chart was drawn anew: hover its new SVG for the screenshot.
        svg = budget.find_element(By.CSS_SELECTOR, "svg.ichart-svg")
        ActionChains(driver).move_to_element_with_offset(svg, int(svg.size["width"] * 0.3), 0).perform()
        WebDriverWait(driver, 5).until(lambda d: budget.find_element(By.CSS_SELECTOR, ".ichart-values").is_displayed())
        screenshot("study.png")
        collect_console()

        # Compare the whole sweep at N = 6.
        driver.get(base + "compare?n=6")
        WebDriverWait(driver, 20).until(lambda d: images_loaded())
        WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#fig2-6.ready svg"))
        if not driver.find_elements(By.CSS_SELECTOR, "#fig2-6 polygon"):
            fail("the compare page's Fig. 2 has no 95% band")
        exercise_chart(driver, "fig2-6", 3)
        table = driver.find_element(By.ID, "table-i-6").text
        for column in ("DTEQL phi=20", "DTAQL phi=4", "QL", "normalized reward", "convergence time (iterations)"):
            if column not in table:
                fail(f"Table I lacks {column!r}")
        if not driver.find_elements(By.PARTIAL_LINK_TEXT, "CSV"):
            fail("compare page has no CSV download")
        screenshot("compare.png")
        collect_console()

        # Queries: pick one, fill in its parameter, run it.
        driver.get(base)
        driver.find_element(By.LINK_TEXT, "Queries").click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith("Saved queries"))
        screenshot("queries.png")
        driver.find_element(By.LINK_TEXT, "run_history").click()
        WebDriverWait(driver, 10).until(lambda d: d.title.startswith("Query run_history"))
        driver.find_element(By.NAME, "run_id").send_keys(finished)
        driver.find_element(By.NAME, "step").send_keys("100")
        driver.find_element(By.XPATH, "//button[text()='Run']").click()
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "result"))
        result_rows = driver.find_elements(By.CSS_SELECTOR, "#result tbody tr")
        if len(result_rows) != 16:
            fail(f"run_history with step 100 over 1500 iterations shows {len(result_rows)} rows, expected 16 (0, 100, ..., 1400 and the last, 1499)")
        screenshot("query.png")
        collect_console()

        if console_errors:
            fail("the browser console has errors:\n" + "\n".join(console_errors))
    finally:
        if driver is not None:
            driver.quit()
        server_status = stop(server, signal.SIGTERM)
        stop(live, signal.SIGINT)
    if server_status != 0:
        fail(f"tracker ui did not stop cleanly on SIGTERM (exit {server_status}): {server.stderr.read()}")
    print(f"browser test passed; screenshots in {SCREENSHOTS}")


if __name__ == "__main__":
    main()
