#!/usr/bin/env python3
"""The browser module in a real headless Chromium against a real local deployment.

Run by scripts/browser-test, which starts the deployment and sets COFFER_URL, COFFER_CA, COFFER_SPKI
(the TLS key's pin, so Chromium trusts the development certificate and nothing else) and the
`coffer` client's environment. Each check is one function; a failed assertion names what failed.
Screenshots of every state go to COFFER_SCREENSHOTS.
"""
import base64
import glob
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes, serialization
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

root = pathlib.Path(__file__).resolve().parents[2]
url = os.environ["COFFER_URL"]
shots = pathlib.Path(os.environ.get("COFFER_SCREENSHOTS", tempfile.mkdtemp(prefix="coffer-shots.")))
shots.mkdir(parents=True, exist_ok=True)
work = pathlib.Path(tempfile.mkdtemp(prefix="coffer-browser."))
downloads = work / "downloads"
downloads.mkdir()
password = "correct horse battery staple"
big = int(os.environ.get("COFFER_BROWSER_MIB", "6")) << 20


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--user-data-dir={work / 'profile'}",
                 f"--ignore-certificate-errors-spki-list={os.environ['COFFER_SPKI']}", "--window-size=1200,900"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_script_timeout(300)
    return driver


def shot(driver, name):
    driver.save_screenshot(str(shots / f"{name}.png"))


def wait(driver, condition, what, seconds=120):
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.1).until(lambda d: condition(d))
    except Exception:
        shot(driver, f"failed-{what.replace(' ', '-')}")
        message = driver.find_element(By.ID, "message").text
        raise AssertionError(f"timed out waiting for {what}; the page says: {message!r}")


def click(driver, xpath, what, seconds=60):
    """Clicks the element at `xpath` once it is there, again if the page re-rendered it meanwhile (a refresh
    replaces the records table: an element found a moment before may be gone when clicked)."""
    deadline = time.time() + seconds
    while True:
        try:
            driver.find_element(By.XPATH, xpath).click()
            return
        except (StaleElementReferenceException, NoSuchElementException):
            if time.time() > deadline:
                raise AssertionError(f"timed out waiting to click {what}")
            time.sleep(0.2)


def body(driver, key):
    return driver.execute_script(f"return document.body.dataset[{json.dumps(key)}] ?? null")


def downloaded(name, keep_as, seconds=120):
    """Waits for the download `name` and moves it out of the downloads folder to `keep_as`."""
    path = downloads / name
    deadline = time.time() + seconds
    while time.time() < deadline:
        if path.exists() and not list(downloads.glob("*.crdownload")):
            target = work / keep_as
            path.rename(target)
            return target
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded; the folder holds {sorted(p.name for p in downloads.iterdir())}")


def clear_downloads():
    for p in downloads.iterdir():
        p.unlink()


def coffer(*args, user="alice", stdin=None, check=True):
    env = dict(os.environ, COFFER_USER=user, COFFER_HOME=str(work / f"cli-{user}"))
    run = subprocess.run(["coffer", *args], input=stdin, env=env, capture_output=True, text=True)
    if check and run.returncode != 0:
        raise AssertionError(f"coffer {' '.join(args)} exited {run.returncode}: {run.stderr}")
    return run


def account(driver, action, user, secret=password):
    driver.find_element(By.ID, "user").clear()
    driver.find_element(By.ID, "user").send_keys(user)
    driver.find_element(By.ID, "password").clear()
    driver.find_element(By.ID, "password").send_keys(secret)
    driver.find_element(By.ID, action).click()


def pick(driver, input_id, path):
    driver.find_element(By.ID, input_id).send_keys(str(path))


def logout(driver):
    driver.find_element(By.ID, "logout").click()
    wait(driver, lambda d: body(d, "state") == "signed-out", "logout")


def module_checks(driver):
    """HPKE against RFC 9180, containers against every format vector, SHA-256 against NIST and hashlib."""
    rfc_file = root / ".build/checkouts/swift-crypto/Tests/CryptoTests/HPKE/hpke-test-vectors.json"
    rfc = [v for v in json.loads(rfc_file.read_text()) if v["mode"] == 0 and v["kem_id"] == 16 and v["kdf_id"] == 1 and v["aead_id"] == 2]
    for i, v in enumerate(rfc):
        v["index"] = i
        v["encryptions"] = v["encryptions"][:1]
    containers = []
    for vector in sorted(glob.glob(str(root / "Tests/CofferContainerTests/Vectors/*.json"))):
        v = json.loads(pathlib.Path(vector).read_text())
        key = ec.derive_private_key(int(v["decodeKey"], 16), ec.SECP256R1())
        v["decodePublic"] = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint).hex()
        v["container"] = base64.b64encode((pathlib.Path(vector).parent / v["containerFile"]).read_bytes()).decode()
        v["name"] = pathlib.Path(vector).stem
        containers.append(v)
    random = os.urandom((1 << 20) * 2 + 777)
    digests = [
        {"name": "NIST empty", "text": "", "piece": 1, "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"name": "NIST abc", "text": "abc", "piece": 1, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"name": "NIST 448 bits", "text": "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "piece": 7,
         "sha256": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"name": "NIST million a", "text": "a", "repeat": 1000000, "piece": 100000,
         "sha256": "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
        {"name": "random across the 1 MiB input buffer", "random": base64.b64encode(random).decode(), "piece": 1_500_000,
         "sha256": hashlib.sha256(random).hexdigest()},
    ]
    assert len(rfc) >= 1, "no RFC 9180 vector for the suite in swift-crypto's file"
    result = driver.execute_async_script((root / "Tests/Browser/module_checks.js").read_text(),
                                         {"rfc": rfc, "containers": containers, "digests": digests, "rotations": rotation_vectors()})
    assert not result["failures"], f"module checks failed: {result['failures']}"
    assert result["counts"]["containers"] == 10, result
    assert result["counts"]["rotations"] == 6, result


def rotation_vectors():
    """Identity rotation statements made as docs/PROTOCOL.md describes them, and what the module must make of them."""
    def spki(key):
        return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def fingerprint(key):
        return "sha256:" + hashlib.sha256(spki(key)).hexdigest()

    def statement(previous, following, start, signer=None):
        message = f"coffer identity rotation v1\n{fingerprint(previous)}\n{fingerprint(following)}\n{start}\n".encode()
        signature = (signer or previous).sign(message, ec.ECDSA(hashes.SHA256()))
        return {"previousKey": base64.b64encode(spki(previous)).decode(), "nextKey": base64.b64encode(spki(following)).decode(),
                "from": start, "signature": base64.b64encode(signature).decode()}

    first, second, third, intruder = (ec.generate_private_key(ec.SECP256R1()) for _ in range(4))
    now = int(time.time() * 1000)
    altered = statement(first, second, now - 1000)
    altered["from"] -= 1
    return [
        {"name": "one rotation", "pinned": fingerprint(first), "presented": fingerprint(second),
         "statements": [statement(first, second, now - 1000)], "path": 1},
        {"name": "two rotations, listed newest first", "pinned": fingerprint(first), "presented": fingerprint(third),
         "statements": [statement(second, third, now - 500), statement(first, second, now - 1000)], "path": 2},
        {"name": "signed by another key", "pinned": fingerprint(first), "presented": fingerprint(second),
         "statements": [statement(first, second, now - 1000, signer=intruder)], "path": None},
        {"name": "not yet in force", "pinned": fingerprint(first), "presented": fingerprint(second),
         "statements": [statement(first, second, now + 10 * 60 * 1000)], "path": None},
        {"name": "altered after signing", "pinned": fingerprint(first), "presented": fingerprint(second),
         "statements": [altered], "path": None},
        {"name": "a statement from another pin", "pinned": fingerprint(intruder), "presented": fingerprint(second),
         "statements": [statement(first, second, now - 1000)], "path": None},
    ]


def content_security_policy(driver):
    """An injected inline script does not run, and the browser reports the violation."""
    ran = driver.execute_script("""
        window.__violations = 0;
        document.addEventListener('securitypolicyviolation', () => { window.__violations += 1; });
        const s = document.createElement('script');
        s.textContent = 'window.__injected = true';
        document.head.append(s);
        const img = document.createElement('img');
        img.setAttribute('onerror', 'window.__injected = true');
        img.src = 'data:,x';
        document.body.append(img);
        return window.__injected === true;
    """)
    time.sleep(0.5)
    assert not ran and not driver.execute_script("return window.__injected === true"), "an injected inline script ran"
    assert driver.execute_script("return window.__violations") >= 1, "no CSP violation was reported for the injected script"


def verify_module(server=None):
    """`coffer web verify` as alice, waiting while the module's entry is not yet in a checkpoint (exit 75)."""
    extra = ["--server", server] if server else []
    for _ in range(60):
        run = coffer("web", "verify", *extra, check=False)
        if run.returncode != 75:
            return run
        time.sleep(0.5)
    return run


def web_verify():
    """The served module verifies against its signed manifest and the audit log; a changed file is caught."""
    run = verify_module()
    assert run.returncode == 0, f"coffer web verify failed on the real module: {run.stdout}{run.stderr}"
    assert "recorded as audit entry" in run.stdout, run.stdout
    state = pathlib.Path(os.environ["COFFER_STATE"])
    caught = {
        "/js/app.js": "/js/app.js IS NOT THE FILE THE SIGNED MANIFEST NAMES",
        "manifest-signature": "MANIFEST IS NOT SIGNED BY THE KEY SERVICE'S IDENTITY KEY",
        "manifest-index": "THE AUDIT LOG DOES NOT RECORD THE SERVED MODULE",
    }
    for change, message in caught.items():
        proxy = subprocess.Popen([sys.executable, str(root / "Tests/Browser/tampering_proxy.py"), str(state / "tls/server.crt"),
                                  str(state / "tls/server.key"), os.environ["COFFER_CA"], url.rsplit(":", 1)[1], change],
                                 stdout=subprocess.PIPE, text=True)
        try:
            port = proxy.stdout.readline().strip()
            server = f"localhost:{port}"
            coffer("login", "--server", server, "--password-stdin", stdin=password)
            changed = verify_module(server)
            assert changed.returncode == 65, f"coffer web verify did not catch {change}: {changed.returncode} {changed.stdout}{changed.stderr}"
            assert message in changed.stderr, f"{change}: {changed.stderr}"
        finally:
            proxy.kill()
    # The last proxy, where alice is logged in, is gone now: the server is unreachable.
    proxy.wait()
    gone = coffer("web", "verify", "--server", server, check=False)
    assert gone.returncode == 69 and gone.stderr.startswith("coffer: "), f"an unreachable server: {gone.returncode} {gone.stderr}"
    print("browser-test: coffer web verify passes on the served module and catches a changed file, a bad manifest signature "
          "and a manifest naming another audit entry; an unreachable server exits 69", file=sys.stderr)


def main():
    driver = browser()
    try:
        driver.get(url)
        wait(driver, lambda d: body(d, "ready") == "yes", "the page to load")
        shot(driver, "01-signed-out")
        content_security_policy(driver)
        module_checks(driver)
        print("browser-test: HPKE, container vectors, SHA-256 and the CSP hold", file=sys.stderr)

        account(driver, "register", "alice")
        wait(driver, lambda d: body(d, "state") == "signed-in", "registration and login")
        shot(driver, "02-signed-in")

        # SAVE in the browser; the CLI opens the container (and re-seals it).
        plain = work / "report.bin"
        plain.write_bytes(os.urandom(big))
        pick(driver, "save-input", plain)
        wait(driver, lambda d: (body(d, "lastDone") or "").startswith("saved:"), "the save")
        shot(driver, "03-saved")
        container = downloaded("report.bin.coffer", "browser-saved.coffer")
        coffer("login", "--password-stdin", stdin=password)
        copy = work / "report-cli.bin"
        coffer("retrieve", str(container), "-o", str(copy))
        assert copy.read_bytes() == plain.read_bytes(), "the CLI opened the browser's container to other bytes"
        print("browser-test: a container saved in the browser opens with coffer retrieve", file=sys.stderr)

        # SAVE with the CLI; RETRIEVE in the browser, which re-seals; the CLI opens the re-sealed one.
        clear_downloads()
        cli_plain = work / "notes.txt"
        cli_plain.write_bytes(os.urandom(big // 2 + 12345))
        coffer("save", str(cli_plain))
        cli_container = work / "notes.txt.coffer"
        pick(driver, "retrieve-input", cli_container)
        wait(driver, lambda d: (body(d, "lastDone") or "").startswith("retrieved:"), "the retrieve")
        shot(driver, "04-retrieved")
        opened = downloaded("notes.txt", "browser-opened.txt")
        assert opened.read_bytes() == cli_plain.read_bytes(), "the browser opened the CLI's container to other bytes"
        resealed = downloaded("notes.txt.coffer", "browser-resealed.coffer")
        assert resealed.read_bytes() != cli_container.read_bytes(), "the browser did not re-seal the container"
        old = coffer("retrieve", str(cli_container), "-o", str(work / "old.txt"), check=False)
        assert old.returncode != 0, "the container from before the browser's re-seal still opened"
        coffer("retrieve", str(resealed), "-o", str(work / "again.txt"))
        assert (work / "again.txt").read_bytes() == cli_plain.read_bytes(), "the browser's re-sealed container opened to other bytes"
        print("browser-test: a CLI container opens and is re-sealed in the browser; the old copy is dead", file=sys.stderr)

        # History shows which installation did what.
        driver.find_element(By.ID, "refresh").click()
        wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#records tbody tr")) >= 2, "the record list")
        click(driver, "(//*[@id='records']//tbody/tr//button)[1]", "the first record's button")
        wait(driver, lambda d: not d.find_element(By.ID, "history").get_attribute("hidden"), "the history")
        history = driver.find_element(By.ID, "history-list").text
        assert "this browser" in history and "installation" in history, f"the history does not tell the installations apart: {history!r}"
        shot(driver, "05-history")
        click(driver, "//tr[td[text()='notes.txt']]//button[text()='Verify']", "notes.txt's Verify button")
        wait(driver, lambda d: (body(d, "lastDone") or "").startswith("verified:"), "the history's verification")
        audit = driver.find_element(By.XPATH, "//tr[td[text()='notes.txt']]/td[contains(@class,'audit')]").text
        assert audit.startswith("verified:"), f"the audit column says {audit!r}"
        assert "(proved)" in driver.find_element(By.ID, "history-list").text
        shot(driver, "05b-verified")

        # Central copies: SAVE keeps one; the CLI retrieves it; the record's Retrieve button opens the
        # central copy, re-seals it and replaces it, with nothing but the plaintext to download.
        clear_downloads()
        central_plain = work / "central.bin"
        central_plain.write_bytes(os.urandom(big // 3 + 777))
        driver.find_element(By.ID, "central").click()
        pick(driver, "save-input", central_plain)
        wait(driver, lambda d: (body(d, "lastDone") or "").endswith(":central"), "the save with a central copy")
        driver.find_element(By.ID, "central").click()
        downloaded("central.bin.coffer", "browser-central.coffer")
        coffer("retrieve", "--central", "central.bin", "-o", str(work / "central-cli.bin"))
        assert (work / "central-cli.bin").read_bytes() == central_plain.read_bytes(), "the CLI opened the browser's central copy to other bytes"
        clear_downloads()
        driver.find_element(By.ID, "refresh").click()
        click(driver, "//tr[td[text()='central.bin']]//button[text()='Retrieve']", "the central copy's Retrieve button")
        wait(driver, lambda d: (body(d, "lastDone") or "").startswith("retrieved:") and (body(d, "lastDone") or "").endswith(":central"),
             "the retrieve of the central copy")
        shot(driver, "05c-central")
        from_central = downloaded("central.bin", "browser-from-central.bin")
        assert from_central.read_bytes() == central_plain.read_bytes(), "the browser opened the central copy to other bytes"
        time.sleep(1)
        assert not list(downloads.glob("*.coffer")), "a retrieve of a central copy offered a second download of the container"
        listed = json.loads(coffer("list", "--json").stdout)["records"]
        generation = next(r["central"]["generation"] for r in listed if r["fileName"] == "central.bin")
        assert generation == 3, f"the central copy was not replaced by the browser's re-seal: generation {generation}"
        coffer("retrieve", "--central", "central.bin", "-o", str(work / "central-again.bin"), "--force")
        assert (work / "central-again.bin").read_bytes() == central_plain.read_bytes()
        print("browser-test: a central copy saved in the browser opens with the CLI, and the browser retrieves, re-seals and "
              "replaces a central copy with no second download", file=sys.stderr)

        # A tampered container: refused, nothing downloaded.
        clear_downloads()
        tampered = work / "tampered.coffer"
        data = bytearray(resealed.read_bytes())
        data[300] ^= 1
        tampered.write_bytes(bytes(data))
        pick(driver, "retrieve-input", tampered)
        wait(driver, lambda d: body(d, "lastError") == "tampered", "the tampered container's refusal")
        shot(driver, "06-tampered")
        time.sleep(1)
        assert not list(downloads.iterdir()), "something was downloaded from a tampered container"

        # A second user cannot open alice's container.
        logout(driver)
        account(driver, "register", "bob")
        wait(driver, lambda d: body(d, "state") == "signed-in", "bob's login")
        pick(driver, "retrieve-input", resealed)
        wait(driver, lambda d: body(d, "lastError") == "not_found", "another user's container refused")
        shot(driver, "07-other-user")

        # A wrong password.
        logout(driver)
        account(driver, "login", "alice", "not the password at all")
        wait(driver, lambda d: body(d, "lastError") == "login_failed", "the wrong password's refusal")
        assert "Wrong user name or password" in driver.find_element(By.ID, "message").text
        shot(driver, "08-wrong-password")

        # A narrow window still works.
        driver.set_window_size(380, 800)
        account(driver, "login", "alice")
        wait(driver, lambda d: body(d, "state") == "signed-in", "login at a narrow width")
        shot(driver, "09-narrow")

        # Cancel mid-save: nothing downloaded, no scratch file left.
        clear_downloads()
        driver.set_window_size(1200, 900)
        large = work / "large.bin"
        large.write_bytes(os.urandom(256 << 20))
        pick(driver, "save-input", large)
        wait(driver, lambda d: body(d, "busy") == "yes", "the large save to start")
        driver.find_element(By.ID, "cancel").click()
        wait(driver, lambda d: body(d, "lastError") == "AbortError", "the cancel")
        shot(driver, "10-cancelled")
        left = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            (async () => { const names = []; const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('coffer', { create: true });
              for await (const name of dir.keys()) names.push(name); done(names); })();""")
        assert not left, f"a cancelled save left scratch files: {left}"
        time.sleep(1)
        assert not list(downloads.iterdir()), "a cancelled save downloaded something"

        # Delete with the record's current container: its key is destroyed, and the CLI cannot open it.
        click(driver, "//tr[td[text()='report.bin']]//button[text()='Delete']", "report.bin's Delete button")
        pick(driver, "delete-input", container)
        WebDriverWait(driver, 30).until(expected_conditions.alert_is_present()).accept()
        wait(driver, lambda d: (body(d, "lastDone") or "").startswith("deleted:"), "the delete")
        shot(driver, "11-deleted")
        gone = coffer("retrieve", str(container), "-o", str(work / "deleted.bin"), check=False)
        assert gone.returncode != 0, "a deleted record's container still opened"
        web_verify()
        print(f"browser-test: passed; screenshots in {shots}", file=sys.stderr)
    finally:
        for entry in driver.get_log("browser"):
            if entry["level"] == "SEVERE" and "__injected" not in entry["message"] and "Content Security Policy" not in entry["message"]:
                print(f"browser-test: console: {entry['message']}", file=sys.stderr)
        driver.quit()


if __name__ == "__main__":
    main()
