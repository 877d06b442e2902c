#!/usr/bin/env python3
"""Scale-out test of chatroute-node on real NATS servers, all on 127.0.0.1.

Starts a JetStream cluster (three nats-server processes; one with --servers 1), three
chatroute-node processes and a load driver over --sites sites, then, during traffic:
  A. kill -9 the node owning the most sites, --kills times, restarting it each time;
  B. kill -9 one NATS server (service must go on), then restart it;
  C. SIGSTOP a node past its lease, SIGCONT it: its appends must be refused (fencing)
     and it must step down.
Then checks, per site: every acknowledged command is in the stream exactly once (at the
acknowledged sequence); the writers' epochs never go back in the stream (no site had two
writers); the published events, duplicates removed by message id, equal byte for byte
what chatroute-replay prints for the exported stream. Prints the figures as JSON.

The short CI run is the default; the soak is the same with bigger numbers, e.g.
  scaleout_test.py ... --seconds 600 --kills 150
and the R=1 latency figure:  scaleout_test.py ... --servers 1 --replicas 1 --kills 0 --no-server-kill --no-pause
"""

import argparse
import json
import os
import pathlib
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def now_ms():
    return int(time.time() * 1000)


class Cluster:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.count = args.servers
        ports = free_ports(2 * self.count)
        self.client_ports, self.route_ports = ports[: self.count], ports[self.count :]
        self.procs = {}

    def urls(self):
        return ",".join(f"nats://127.0.0.1:{p}" for p in self.client_ports)

    def start(self, i):
        name = f"s{i + 1}"
        conf = self.work / f"{name}.conf"
        store = self.work / name
        if self.count > 1:
            routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in self.route_ports)
            cluster = f"cluster {{ name: chatroute, listen: 127.0.0.1:{self.route_ports[i]}, routes: [{routes}] }}\n"
        else:
            cluster = ""
        conf.write_text(
            f"server_name: {name}\nlisten: 127.0.0.1:{self.client_ports[i]}\n"
            f'jetstream {{ store_dir: "{store}" }}\n{cluster}'
        )
        log = open(self.work / f"{name}.log", "a")
        self.procs[i] = subprocess.Popen([self.args.nats_server, "-c", str(conf)], stdout=log, stderr=log)

    def start_all(self):
        for i in range(self.count):
            self.start(i)
        deadline = time.time() + 20
        for port in self.client_ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise SystemExit(f"nats-server on port {port} did not start")
                    time.sleep(0.1)

    def kill(self, i):
        self.procs[i].send_signal(signal.SIGKILL)
        self.procs[i].wait()

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


class Nodes:
    def __init__(self, args, work, urls):
        self.args, self.work, self.urls = args, work, urls
        self.procs = {}

    def start(self, name):
        log = open(self.work / f"{name}.log", "a")
        cmd = [self.args.node, "run", "--servers", self.urls, "--node", name, "--sites", str(self.args.sites),
               "--replicas", str(self.args.replicas), "--lease-ms", str(self.args.lease_ms),
               "--renew-ms", str(self.args.lease_ms // 4), "--snapshot-every", "200", "--snapshot-ms", "10000"]
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=log)

    def owned(self, name):
        """The sites a node says it owns: its last "owns" line since its last start."""
        sites = set()
        for line in (self.work / f"{name}.log").read_text(errors="replace").splitlines():
            parts = line.split(" ", 3)
            if len(parts) < 4:
                continue
            if parts[2] == "started:":
                sites = set()
            elif parts[2] == "owns":
                listed = parts[3].split(": ", 1)
                sites = set(filter(None, listed[1].split(","))) if len(listed) > 1 else set()
        return sites

    def signal(self, name, sig):
        self.procs[name].send_signal(sig)

    def kill(self, name):
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--node", required=True)
    ap.add_argument("--replay", required=True)
    ap.add_argument("--nats-server", default="nats-server")
    ap.add_argument("--work", required=True)
    ap.add_argument("--servers", type=int, default=3)
    ap.add_argument("--replicas", type=int, default=3)
    ap.add_argument("--sites", type=int, default=50)
    ap.add_argument("--rate", type=float, default=5, help="commands/s per site")
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--kill-every", type=float, default=5.0, help="seconds between node kills")
    ap.add_argument("--seconds", type=float, default=0, help="traffic before the kills start (soak)")
    ap.add_argument("--lease-ms", type=int, default=2000)
    ap.add_argument("--no-server-kill", action="store_true")
    ap.add_argument("--no-pause", action="store_true")
    args = ap.parse_args()

    work = pathlib.Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cluster = Cluster(args, work)
    nodes = Nodes(args, work, "")
    driver = None
    figures = {"replicas": args.replicas, "servers": args.servers, "sites": args.sites}
    try:
        cluster.start_all()
        nodes.urls = cluster.urls()
        names = ["n1", "n2", "n3"]
        for name in names:
            nodes.start(name)
        deadline = time.time() + 60
        while sum(len(nodes.owned(n)) for n in names) < args.sites:
            if time.time() > deadline:
                fail("the nodes did not take every site within 60 s")
            time.sleep(0.2)
        figures["all_sites_taken_s"] = round(60 - (deadline - time.time()), 1)

        lease_s = args.lease_ms / 1000
        plan = args.seconds + args.kills * args.kill_every + (0 if args.no_server_kill else 18) + \
            (0 if args.no_pause else 2 * lease_s + 8) + 5
        driver_out = open(work / "driver.json", "w")
        driver = subprocess.Popen([args.node, "drive", "--servers", cluster.urls(), "--sites", str(args.sites),
                                   "--seconds", str(plan), "--rate", str(args.rate), "--threads", str(args.sites),
                                   "--acks", str(work / "acks.jsonl"), "--run", "t"],
                                  stdout=driver_out, stderr=subprocess.STDOUT)
        time.sleep(2 + args.seconds)

        # A. kill -9 the busiest node, then start it again.
        kills = []
        for _ in range(args.kills):
            time.sleep(args.kill_every - 1.0)
            victim = max(names, key=lambda n: len(nodes.owned(n)))
            sites = nodes.owned(victim)
            at = now_ms()
            nodes.kill(victim)
            kills.append({"node": victim, "at_ms": at, "sites": sorted(sites)})
            time.sleep(1.0)
            nodes.start(victim)

        # B. one NATS server of three killed: service goes on.
        if not args.no_server_kill and args.servers > 1:
            server_kill_ms = now_ms()
            cluster.kill(2)
            time.sleep(14)
            figures["server_killed_at_ms"] = server_kill_ms
            cluster.start(2)
            time.sleep(4)

        # C. a node paused past its lease: fenced when it resumes, steps down.
        paused = None
        if not args.no_pause:
            paused = max(names, key=lambda n: len(nodes.owned(n)))
            paused_sites = nodes.owned(paused)
            nodes.signal(paused, signal.SIGSTOP)
            pause_ms = now_ms()
            time.sleep(2 * lease_s + 1)
            nodes.signal(paused, signal.SIGCONT)
            resume_ms = now_ms()
            time.sleep(5)

        if driver.wait(timeout=plan + 120) != 0:
            print((work / "driver.json").read_text(), file=sys.stderr)
            fail("the driver gave up on some command (no answer within 60 s)")
        driver = None
        summary = json.loads((work / "driver.json").read_text().strip().splitlines()[-1])
        figures["driver"] = summary
        nodes.stop()

        # Stream and events, as stored.
        export = work / "export"
        for what in ("export", "events"):
            r = subprocess.run([args.node, what, "--servers", cluster.urls(), "--sites", str(args.sites),
                                "--dir", str(export)], capture_output=True, text=True, timeout=300)
            if r.returncode != 0:
                fail(f"{what}: {r.stderr}")
            figures[f"{what}_notes"] = r.stderr.strip().splitlines()[-3:]
    finally:
        if driver is not None and driver.poll() is None:
            driver.kill()
        nodes.stop()
        cluster.stop()

    # Every acknowledged command is in its site's stream exactly once, where the ack said.
    acks = [json.loads(line) for line in (work / "acks.jsonl").read_text().splitlines() if line]
    by_site = {}
    for a in acks:
        by_site.setdefault(a["site"], []).append(a)
    epochs_changes = 0
    for i in range(args.sites):
        site = f"site-{i:03}"
        ids = [json.loads(line) for line in (export / f"{site}.ids.jsonl").read_text().splitlines()]
        where = {}
        for m in ids:
            if m["id"]:
                if m["id"] in where:
                    fail(f"{site}: request {m['id']} is in the stream twice ({where[m['id']]} and {m['seq']})")
                where[m["id"]] = m["seq"]
        for a in by_site.get(site, []):
            if where.get(a["id"]) != a["seq"]:
                fail(f"{site}: acknowledged {a['id']} at {a['seq']} but the stream has it at {where.get(a['id'])}")
        # No two writers: a writer's epoch (its lease revision) never goes back in the stream.
        for before, after in zip(ids, ids[1:]):
            if after["epoch"] < before["epoch"]:
                fail(f"{site}: seq {after['seq']} by epoch {after['epoch']} after epoch {before['epoch']}")
            epochs_changes += after["epoch"] != before["epoch"]
        # Published events = what chatroute-replay prints for the exported stream.
        replayed = subprocess.run([args.replay, str(export / f"{site}.jsonl")], capture_output=True, timeout=120)
        if replayed.returncode != 0:
            fail(f"{site}: chatroute-replay failed")
        published = (export / f"{site}.events").read_bytes()
        if replayed.stdout != published:
            (export / f"{site}.replay").write_bytes(replayed.stdout)
            fail(f"{site}: published events differ from chatroute-replay's output (see {export})")
    figures["acknowledged"] = len(acks)
    figures["owner_changes_in_streams"] = epochs_changes

    # Fencing refusals and step-downs, from the nodes' logs.
    fenced = {}
    for name in ("n1", "n2", "n3"):
        fenced[name] = [line for line in (work / f"{name}.log").read_text(errors="replace").splitlines() if " fenced:" in line]
    figures["fencing_refusals"] = sum(len(v) for v in fenced.values())
    if paused:
        after = [line for line in fenced[paused] if int(line.split(" ", 1)[0]) >= resume_ms]
        figures["paused"] = {"node": paused, "sites": len(paused_sites), "fenced_after_resume": len(after),
                             "paused_ms": resume_ms - pause_ms}
        if paused_sites and not after:
            fail(f"{paused} was paused past its lease but none of its appends was refused")
        still = nodes.owned(paused) & paused_sites
        lost = [line for line in (work / f"{paused}.log").read_text().splitlines()
                if int(line.split(" ", 1)[0]) >= resume_ms and (" lost " in line)]
        if paused_sites and not lost:
            fail(f"{paused} did not step down after its lease expired")
        figures["paused"]["stepped_down"] = len(lost)

    # Kill to service: for each site the victim owned, first acknowledgement after the kill.
    gaps = []
    for k in kills:
        for site in k["sites"]:
            after = [a["acked_ms"] for a in by_site.get(site, []) if a["acked_ms"] > k["at_ms"]]
            if after:
                gaps.append(min(after) - k["at_ms"])
    if gaps:
        gaps.sort()
        figures["node_kills"] = len(kills)
        figures["failover_ms"] = {"sites": len(gaps), "p50": gaps[len(gaps) // 2],
                                  "p90": gaps[int(len(gaps) * 0.9)], "max": gaps[-1]}
        # Most sites move within lease + renewal + takeover; a site can be caught by the
        # next kill too. The bounds are loose on purpose (the figures are reported, and a
        # loaded 2-core CI machine stretches elections): p90 under 30 s, nobody past the
        # driver's 60 s give-up. Correctness above is checked exactly.
        if figures["failover_ms"]["p90"] > 30_000 or gaps[-1] > 60_000:
            print(json.dumps(figures, indent=1))
            fail(f"failover too slow: {figures['failover_ms']}")
    if "server_killed_at_ms" in figures:
        t = figures["server_killed_at_ms"]
        # Streams and buckets led by the killed server elect a new leader (raft election
        # timeout, 4 to 9 s in nats-server 2.9); then every site must be served again.
        back = []
        for i in range(args.sites):
            after = [a["acked_ms"] for a in by_site.get(f"site-{i:03}", []) if a["acked_ms"] > t]
            back.append(min(after) - t if after else None)
        if None in back:
            fail("after a NATS server was killed some site was never served again")
        served_late = {a["site"] for a in acks if t + 12000 <= a["acked_ms"] <= t + 14000}
        figures["server_kill"] = {"first_ack_after_kill_ms": {"p50": sorted(back)[len(back) // 2], "max": max(back)},
                                  "sites_served_12_to_14_s_after": len(served_late)}
        if max(back) > 45_000:  # loose: elections stretch on a loaded machine (figures reported)
            fail(f"after a NATS server was killed a site waited {max(back)} ms")
    if args.kills and len(kills) < args.kills:
        fail("fewer kills than asked")
    print(json.dumps(figures, indent=1))
    print("scale-out checks passed")


if __name__ == "__main__":
    main()
