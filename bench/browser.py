#!/usr/bin/env python3
"""Browser module speed and memory: SAVE and RETRIEVE of one large file in headless Chromium beside
`coffer save` and `coffer retrieve` of the same file against the same deployment (bench/browser).

Prints one line per figure and, with --out FILE, JSON lines. The page's memory is the peak resident
set of Chromium's renderer processes, sampled every 100 ms while the operation runs, and the peak
JavaScript heap (DevTools Performance.getMetrics).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--size", type=int, default=1024, help="MiB")
parser.add_argument("--out")
args = parser.parse_args()

base = pathlib.Path("/dev/shm") if os.statvfs("/dev/shm").f_bavail * os.statvfs("/dev/shm").f_frsize > (args.size << 20) * 6 else pathlib.Path("/tmp")
work = pathlib.Path(tempfile.mkdtemp(prefix="coffer-browser-bench.", dir=base))
os.environ["COFFER_SCREENSHOTS"] = str(work / "shots")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Tests/Browser"))
import browser_test as page  # noqa: E402  (reads the deployment's environment)

page.work = work
page.downloads = work / "downloads"
page.downloads.mkdir()


class Peak:
    """Samples the renderer processes' resident memory and the page's JS heap until stopped."""

    def __init__(self, driver):
        self.driver, self.rss, self.heap, self.running = driver, 0, 0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self):
        while self.running:
            total = 0
            for proc in pathlib.Path("/proc").iterdir():
                try:
                    if proc.name.isdigit() and b"--type=renderer" in (proc / "cmdline").read_bytes():
                        for line in (proc / "status").read_text().splitlines():
                            if line.startswith("VmRSS:"):
                                total += int(line.split()[1]) * 1024
                except OSError:
                    pass
            self.rss = max(self.rss, total)
            time.sleep(0.1)

    def stop(self):
        self.running = False
        self.thread.join()
        metrics = {m["name"]: m["value"] for m in self.driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
        self.heap = max(self.heap, metrics.get("JSHeapTotalSize", 0))


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def main():
    mib = args.size
    plain = work / "bench.bin"
    with open(plain, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
    results = []

    def report(name, seconds, extra=None):
        line = {"figure": name, "mib": mib, "seconds": round(seconds, 3), "mb_per_s": round(mib * 1.048576 / seconds, 1), **(extra or {})}
        results.append(line)
        memory = f", renderer peak RSS {extra['renderer_rss_mib']} MiB, JS heap {extra['js_heap_mib']} MiB" if extra else ""
        print(f"{name:<36} {line['mb_per_s']:>8} MB/s  ({seconds:.2f} s){memory}")

    page.coffer("register", "--password-stdin", user="bench", stdin=page.password)
    page.coffer("login", "--password-stdin", user="bench", stdin=page.password)
    cli_plain = work / "cli.bin"
    os.link(plain, cli_plain)
    report("coffer save", timed(lambda: page.coffer("save", str(cli_plain), user="bench")))
    report("coffer retrieve (+ re-seal)", timed(lambda: page.coffer("retrieve", str(work / "cli.bin.coffer"), "-o", str(work / "cli.out"), user="bench")))

    driver = page.browser()
    try:
        driver.execute_cdp_cmd("Performance.enable", {})
        driver.get(page.url)
        page.wait(driver, lambda d: page.body(d, "ready") == "yes", "the page")
        page.account(driver, "login", "bench")
        page.wait(driver, lambda d: page.body(d, "state") == "signed-in", "login")

        peak = Peak(driver)
        start = time.monotonic()
        page.pick(driver, "save-input", plain)
        page.wait(driver, lambda d: (page.body(d, "lastDone") or "").startswith("saved:"), "the save", seconds=1800)
        sealed = time.monotonic() - start
        container = page.downloaded("bench.bin.coffer", "browser.coffer", seconds=1800)
        downloaded = time.monotonic() - start
        peak.stop()
        memory = {"renderer_rss_mib": peak.rss >> 20, "js_heap_mib": int(peak.heap) >> 20}
        report("browser SAVE (sealed)", sealed, memory)
        report("browser SAVE (+ download)", downloaded)

        peak = Peak(driver)
        start = time.monotonic()
        page.pick(driver, "retrieve-input", container)
        page.wait(driver, lambda d: (page.body(d, "lastDone") or "").startswith("retrieved:"), "the retrieve", seconds=1800)
        opened = time.monotonic() - start
        peak.stop()
        report("browser RETRIEVE (+ re-seal)", opened, {"renderer_rss_mib": peak.rss >> 20, "js_heap_mib": int(peak.heap) >> 20})
    finally:
        driver.quit()
    cli = {r["figure"]: r["mb_per_s"] for r in results}
    print(f"browser SAVE / coffer save: {cli['browser SAVE (sealed)'] / cli['coffer save']:.2f}x; "
          f"browser RETRIEVE / coffer retrieve: {cli['browser RETRIEVE (+ re-seal)'] / cli['coffer retrieve (+ re-seal)']:.2f}x (goal >= 0.5x)")
    if args.out:
        with open(args.out, "a") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")
    subprocess.run(["rm", "-rf", str(work)])


if __name__ == "__main__":
    main()
