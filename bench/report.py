#!/usr/bin/env python3
"""Prints bench/run's results (JSON lines) as tables, with DESIGN.md's figures checked.

usage: bench/report.py RESULTS.jsonl CONFIG SMOKE(0|1)
"""
import json
import sys

results = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
config, smoke = sys.argv[2], sys.argv[3] == "1"
section = lambda name: [r for r in results if r["section"] == name]
verdicts = []


def check(ok, text):
    verdicts.append(("met " if ok else "MISSED") + "  " + text)


def mb(rate):
    return rate / 1e6


print(f"\nCoffer benchmark, {config} build" + (" (smoke: it ran; the numbers mean nothing)" if smoke else ""))

for c in section("client"):
    size = c["bytes"]
    limit = 1 / (1 / c["sha"] + 1 / c["aes"])
    rate = lambda seconds: size / seconds
    save, ret, age_e, age_d = rate(c["save_s"]), rate(c["retrieve_s"]), rate(c["age_enc_s"]), rate(c["age_dec_s"])
    both = 2 * size / (c["save_s"] + c["retrieve_s"])
    both_age = 2 * size / (c["age_enc_s"] + c["age_dec_s"])
    print(f"\n## Client: one {size / 2**20:.0f} MiB file")
    print(f"machine limit (openssl speed, 64 KiB): SHA-256 {mb(c['sha']):.0f} MB/s, AES-256-GCM {mb(c['aes']):.0f} MB/s, "
          f"both in turn {mb(limit):.0f} MB/s\n")
    print(f"{'operation':<28}{'MB/s':>8}{'of limit':>10}{'vs age':>9}{'peak RSS':>11}")
    rows = [
        ("coffer save", save, save / age_e, c["save_rss"]),
        ("coffer retrieve (+ re-seal)", ret, ret / age_d, c["retrieve_rss"]),
        ("coffer save + retrieve", both, both / both_age, max(c["save_rss"], c["retrieve_rss"])),
        ("age encrypt", age_e, 1.0, c["age_enc_rss"]),
        ("age decrypt", age_d, 1.0, c["age_dec_rss"]),
        ("age encrypt + decrypt", both_age, 1.0, max(c["age_enc_rss"], c["age_dec_rss"])),
    ]
    for name, r, vs_age, rss in rows:
        print(f"{name:<28}{mb(r):>8.0f}{r / limit:>9.0%}{vs_age:>8.2f}x{rss / 1024:>8.0f} MiB")
    # DESIGN.md as revised: a one-pass save is bound by hashing, so it is held to SHA-256 alone.
    check(save >= 0.8 * c["sha"], f"client: save at {save / c['sha']:.0%} of openssl's SHA-256 (needs 80%)")
    check(save > age_e, f"client: save {save / age_e:.2f}x age encrypt (needs > 1)")
    check(ret > age_d, f"client: retrieve, re-seal included, {ret / age_d:.2f}x age decrypt (needs > 1)")
    check(max(c["save_rss"], c["retrieve_rss"]) < 128 * 1024,
          f"client: peak RSS {max(c['save_rss'], c['retrieve_rss']) / 1024:.0f} MiB for a {size / 2**20:.0f} MiB file (flat: chunked, bounded queues)")

pgbench = {r["clients"]: r["perSecond"] for r in section("pgbench")}
service = section("service")
if service:
    print("\n## Service: complete operations per second, keep-alive TLS clients")
    print(f"{'store':<11}{'operation':<10}{'clients':>8}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}{'max ms':>9}{'failed':>8}{'pgbench':>9}{'of pgb':>8}")
    for r in service:
        pg = pgbench.get(r["clients"]) if r["store"] == "postgresql" and r["operation"] == "save" else None
        print(f"{r['store']:<11}{r['operation']:<10}{r['clients']:>8}{r['perSecond']:>9.0f}{r['p50Ms']:>9.1f}{r['p99Ms']:>9.1f}"
              f"{r['p999Ms']:>10.1f}{r['maxMs']:>9.1f}{r['failed']:>8}"
              + (f"{pg:>9.0f}{r['perSecond'] / pg:>7.0%}" if pg else ""))
        for failure in r.get("failures", [])[:1]:
            print(f"    first failure: {failure}")
    pg_saves = [r for r in service if r["store"] == "postgresql" and r["operation"] == "save"]
    within = [r for r in pg_saves if r["p99Ms"] <= 25]
    best = max(within, key=lambda r: r["perSecond"]) if within else None
    best_any = max(pg_saves, key=lambda r: r["perSecond"]) if pg_saves else None
    if best:
        check(best["perSecond"] >= 2000, f"service: {best['perSecond']:.0f} saves/s on PostgreSQL with p99 <= 25 ms "
              f"({best['clients']} clients, p99 {best['p99Ms']:.1f} ms; needs 2,000)")
    else:
        check(False, "service: no PostgreSQL load level kept p99 <= 25 ms")
    if best_any and pgbench:
        top = max(pgbench.values())
        check(best_any["perSecond"] >= 0.5 * top, f"service: best {best_any['perSecond']:.0f} saves/s is {best_any['perSecond'] / top:.0%} "
              f"of pgbench's best {top:.0f} inserts/s (needs 50%)")
    overload = [r for r in service if r["failed"]]
    for r in overload:
        print(f"    {r['store']} {r['operation']} at {r['clients']} clients: {r['failed']} refused")

for c in section("connections"):
    print(f"\n## Connections: {c['requested']} idle TLS connections to one transaction process")
    print(f"held {c['held']}, refused {c['refused']}" + (f" (first: {c['firstRefusal']})" if c.get("firstRefusal") else ""))
    print(f"transaction process RSS {c['serverRSSBeforeKiB'] / 1024:.0f} MiB before, {c['serverRSSAfterKiB'] / 1024:.0f} MiB after: "
          f"{c['kibPerConnection']:.1f} KiB per connection")
    print(f"{c['savesWhileHeld']} saves while they were held: p50 {c['saveP50Ms']:.1f} ms, max {c['saveMaxMs']:.1f} ms")
    check(c["held"] == c["requested"] and c["savesWhileHeld"] > 0,
          f"connections: {c['held']} of {c['requested']} held at {c['kibPerConnection']:.0f} KiB each, saves answered meanwhile (max {c['saveMaxMs']:.0f} ms)")

scaling = section("scaling")
if scaling:
    print("\n## Scaling: saves per second on PostgreSQL")
    print(f"{'transaction':>12}{'database':>10}{'clients':>9}{'per s':>9}{'p99 ms':>9}")
    for r in scaling:
        print(f"{r['transactions']:>12}{r['databases']:>10}{r['clients']:>9}{r['perSecond']:>9.0f}{r['p99Ms']:>9.1f}")

hosts = section("hosts")
if hosts or section("hosts_missing"):
    print("\n## Hosts: saves per second across network namespaces (deploy/hosts) beside loopback")
    if not hosts:
        print("(this machine could not make network namespaces: no figures)")
    loopback = {r["clients"]: r for r in scaling if r["transactions"] == 2 and r["databases"] == 2}
    print(f"{'path':<34}{'clients':>9}{'per s':>9}{'p99 ms':>9}{'failed':>8}")
    for r in hosts:
        print(f"{'namespaces (router, nftables)':<34}{r['clients']:>9}{r['perSecond']:>9.0f}{r['p99Ms']:>9.1f}{r['failed']:>8}")
        if r["clients"] in loopback:
            l = loopback[r["clients"]]
            print(f"{'loopback (part 4, 2 x 2)':<34}{l['clients']:>9}{l['perSecond']:>9.0f}{l['p99Ms']:>9.1f}{l.get('failed', 0):>8}")
    for r in hosts:
        check(r["failed"] == 0 and r["perSecond"] > 0, f"hosts: {r['perSecond']:.0f} saves/s at {r['clients']} clients across the namespaces, p99 {r['p99Ms']:.1f} ms, none failed")

flood = {r["flood"]: r for r in section("flood")}
if len(flood) == 2:
    calm, busy = flood[False], flood[True]
    logins = (section("flood_logins") or [{}])[0]
    print(f"\n## Flood: saves at {calm['clients']} clients, alone and during a flood of failing logins")
    print(f"{'':<16}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'failed':>8}")
    for name, r in (("alone", calm), ("during flood", busy)):
        print(f"{name:<16}{r['perSecond']:>9.0f}{r['p50Ms']:>9.1f}{r['p99Ms']:>9.1f}{r['maxMs']:>9.1f}{r['failed']:>8}")
    print(f"the flood: {logins.get('threads', '?')} connections, {logins.get('perSecond', 0):.0f} logins/s, answers {logins.get('statuses', {})}")
    # The bound the threat model states: a login flood at most doubles other users' p99, and fails none of their saves.
    check(busy["failed"] == 0 and busy["p99Ms"] <= 2 * calm["p99Ms"] + 5,
          f"flood: saves' p99 {calm['p99Ms']:.1f} ms alone, {busy['p99Ms']:.1f} ms during a login flood (bound: 2x + 5 ms, none failed)")

browser = {r["figure"]: r for r in section("browser")}
if browser:
    print(f"\n## Browser module: one {browser['coffer save']['mib']} MiB file in headless Chromium, beside the CLI on the same deployment")
    print(f"{'operation':<32}{'MB/s':>8}{'vs CLI':>9}{'renderer RSS':>14}{'JS heap':>9}")
    cli_of = {"browser SAVE (sealed)": "coffer save", "browser SAVE (+ download)": "coffer save",
              "browser RETRIEVE (+ re-seal)": "coffer retrieve (+ re-seal)"}
    for name, r in browser.items():
        vs = f"{r['mb_per_s'] / browser[cli_of[name]]['mb_per_s']:>8.2f}x" if name in cli_of else f"{'':>9}"
        memory = f"{r['renderer_rss_mib']:>10} MiB{r['js_heap_mib']:>5} MiB" if "renderer_rss_mib" in r else ""
        print(f"{name:<32}{r['mb_per_s']:>8.0f}{vs}{memory}")
    for name in ("browser SAVE (sealed)", "browser RETRIEVE (+ re-seal)"):
        if name in browser:
            ratio = browser[name]["mb_per_s"] / browser[cli_of[name]]["mb_per_s"]
            check(ratio >= 0.5, f"browser: {name} {ratio:.2f}x {cli_of[name]} (needs 0.5x)")
    peak = max((r.get("renderer_rss_mib", 0) for r in browser.values()), default=0)
    check(peak < 1024, f"browser: renderer peak RSS {peak} MiB for a {browser['coffer save']['mib']} MiB file (flat: streamed)")

device = section("device")
if device:
    print("\n## Device: the transaction tier's keys in a SoftHSM2 token beside key files, PostgreSQL, same run")
    print(f"{'keys':<7}{'operation':<10}{'clients':>8}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}{'vs files':>10}")
    files = {(r["operation"], r["clients"]): r for r in device if r["keys"] == "files"}
    for r in device:
        base = files.get((r["operation"], r["clients"])) if r["keys"] == "token" else None
        vs = f"{r['perSecond'] / base['perSecond']:>9.2f}x" if base and base["perSecond"] else ""
        print(f"{r['keys']:<7}{r['operation']:<10}{r['clients']:>8}{r['perSecond']:>9.0f}{r['p50Ms']:>9.1f}{r['p99Ms']:>9.1f}{r['failed']:>8}{vs}")
    for operation in ("save", "retrieve"):
        best = {keys: max((r["perSecond"] for r in device if r["keys"] == keys and r["operation"] == operation), default=0)
                for keys in ("files", "token")}
        if best["files"]:
            check(best["token"] >= 0.8 * best["files"], f"device: best {operation}s/s {best['token']:.0f} with the token, "
                  f"{best['token'] / best['files']:.2f}x key files' {best['files']:.0f} (needs 0.8x)")

central = section("central")
if central:
    print(f"\n## Central copies: one {central[0]['bytes'] / 2**20:.0f} MiB container through both tiers, beside curl uploading it to a TLS sink with the same certificate")
    print(f"{'store':<12}{'operation':<34}{'MB/s':>8}{'vs curl':>9}{'peak RSS MiB':>14}")
    for r in central:
        size = r["bytes"]
        curl_rate = r["sink"]["bytes"] / r["sink"]["seconds"] if r["sink"]["seconds"] else 0
        rows = [
            ("coffer push (upload)", size / r["push_s"], r["push_rss"]),
            ("download (curl, signed)", r["download"]["bytes"] / r["download"]["seconds"], None),
            ("coffer retrieve --central", size / r["retrieve_s"], r["retrieve_rss"]),
            ("curl upload to a TLS sink", curl_rate, None),
        ]
        for name, rate, rss in rows:
            vs = f"{rate / curl_rate:>8.2f}x" if curl_rate else ""
            print(f"{r['store']:<12}{name:<34}{mb(rate):>8.0f}{vs:>9}{(f'{rss / 1024:.0f}' if rss else ''):>14}")
        print(f"{r['store']:<12}{'peak RSS: transaction, database':<34}{'':>17}{r['transaction_hwm'] / 1024:>7.0f}, {r['database_hwm'] / 1024:.0f}")
        check(r["transaction_hwm"] < 512 * 1024 and r["database_hwm"] < 512 * 1024 and r["push_rss"] < 512 * 1024,
              f"central ({r['store']}): peak RSS transaction {r['transaction_hwm'] // 1024} MiB, database {r['database_hwm'] // 1024} MiB, "
              f"client {r['push_rss'] // 1024} MiB for a {size // 2**20} MiB container (flat: streamed)")
    saves = section("central_saves")
    for store in ("sqlite", "postgresql"):
        alone = [r for r in saves if r["store"] == store and not r["uploading"]]
        busy = [r for r in saves if r["store"] == store and r["uploading"]]
        if alone and busy:
            print(f"{store:<12}{'saves/s at 16 clients: alone, uploading':<34}{alone[0]['perSecond']:>8.0f}, {busy[0]['perSecond']:.0f} "
                  f"({busy[0]['perSecond'] / max(alone[0]['perSecond'], 1):.2f}x)")

print("\n## DESIGN.md figures")
for line in verdicts:
    print(line)
if smoke:
    print("(smoke run: the verdicts mean nothing)")
