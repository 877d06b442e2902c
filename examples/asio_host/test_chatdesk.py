#!/usr/bin/env python3
"""Tests chatdesk over loopback, one case per run.

Usage: test_chatdesk.py <path to chatdesk> <case>

Cases (each starts its own servers on free 127.0.0.1 ports, bounds every read, gives up
after TEST_TIMEOUT_S and always stops what it started):
  conversation  one conversation walked from start to closed, with a missed offer (R13)
  impersonation agents need their password; one error for unknown id and wrong password;
                failed logins are delayed and the connection dropped after a few; a
                customer acts only on its own conversation (its token)
  notes         notes and follow-ups reach the team of the conversation's space and its
                assignee, never an agent outside the space, never the customer
  transfer      `transfer <c> <space> [agent]` (R32): the events in order, the offer in
                the target space (to the named agent), the transcript for whoever
                accepts, refusals; the conversation's notes go to the target's team
  limits        printable UTF-8, line length, idle timeout, maximum connections, the
                backlog before acceptance, flags range-checked at parse
  emfile        the accept loop survives running out of descriptors and resumes
  memory        slow readers are dropped, a flooding customer is refused and throttled;
                the server's peak RSS stays under a stated bound
  pipelining    10,000 commands in one write are answered in order, nobody cut off
  tls           the same protocol over TLS (--tls-cert/--tls-key)
  restart       an offer due while the server was down times out on start (R25); the
                customer's token and backlog survive kill -9
  crash         kill -9 at random points of scripted traffic, restart from --data;
                compared with an uninterrupted run of the same commands
Each case prints one line of figures on success.
"""

import json
import os
import random
import resource
import select
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

READ_TIMEOUT_S = 5.0
TEST_TIMEOUT_S = 110
CHATDESK = None
TMP = None

# Long timings: nothing fires by itself unless a case asks for it.
QUIET_TIMINGS = ["--offer-timeout", "3600", "--accept-window", "7200", "--inactivity-warning", "7200",
                 "--inactivity-grace", "7200", "--max-duration", "86400"]


def fail(message):
    raise AssertionError(message)


class Closed(Exception):
    """The server closed the connection (or died)."""


class Client:
    """One connection: sends lines, reads lines, checks them."""

    def __init__(self, name, port, tls_context=None, rcvbuf=None):
        self.name = name
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(READ_TIMEOUT_S)
        sock.connect(("127.0.0.1", port))
        if tls_context:
            sock = tls_context.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.buffer = b""

    def send(self, line):
        self.sock.sendall((line + "\n").encode() if isinstance(line, str) else line)

    def line(self, timeout=READ_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                fail(f"{self.name}: nothing within {timeout} s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                fail(f"{self.name}: nothing within {timeout} s")
            except (ConnectionError, ssl.SSLError, OSError) as error:
                raise Closed(f"{self.name}: {error}")
            if not chunk:
                raise Closed(f"{self.name}: connection closed")
            self.buffer += chunk
        text, _, self.buffer = self.buffer.partition(b"\n")
        return text.decode()

    def answer(self, timeout=READ_TIMEOUT_S):
        """The next line that is not an event: the answer to this connection's command."""
        while True:
            got = self.line(timeout)
            if not got.startswith("event "):
                return got

    def expect(self, wanted):
        got = self.line()
        if got != wanted:
            fail(f"{self.name}: expected {wanted!r}, got {got!r}")

    def expect_prefix(self, wanted):
        got = self.line()
        if not got.startswith(wanted):
            fail(f"{self.name}: expected a line starting {wanted!r}, got {got!r}")
        return got

    def event(self, name, timeout=READ_TIMEOUT_S, **fields):
        """Reads the next line; it must be event `name` with at least these fields."""
        got = self.line(timeout)
        event, values = parse_event(got)
        if event != name:
            fail(f"{self.name}: expected event {name}, got {got!r}")
        for key, value in fields.items():
            key = key.rstrip("_")  # from_ stands for from
            if values.get(key) != value:
                fail(f"{self.name}: expected {key}={value} in {got!r}")
        return values

    def drain(self):
        """Everything that has arrived, as lines, without waiting."""
        self.sock.setblocking(False)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buffer += chunk
        except (BlockingIOError, ssl.SSLWantReadError):
            pass
        except OSError:
            pass
        finally:
            self.sock.setblocking(True)
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode() for line in lines]

    def quiet(self, wait_s=0.3):
        """Nothing more arrives for this connection."""
        if self.buffer:
            fail(f"{self.name}: unexpected {self.buffer!r}")
        ready, _, _ = select.select([self.sock], [], [], wait_s)
        if ready:
            data = self.sock.recv(4096)
            if data:
                fail(f"{self.name}: unexpected {data!r}")

    def closed_by_server(self, timeout=READ_TIMEOUT_S):
        """True once the server has closed this connection (reading what it still sent)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except OSError:
                return True
        return False

    def close(self):
        self.sock.close()


def parse_event(line):
    """'event <name> k=v ... text=free text' -> (name, {k: v}); text runs to the end."""
    words = line.split(" ")
    if len(words) < 2 or words[0] != "event":
        return None, {}
    values = {}
    for i, word in enumerate(words[2:], start=2):
        key, _, value = word.partition("=")
        if key in ("text", "resolution"):
            values[key] = " ".join([value] + words[i + 1:])
            break
        values[key] = value
    return words[1], values


# ---- Servers ----

SERVERS = []


class Server:
    def __init__(self, *args, agents=None, data=None, nofile=None, env=None):
        command = [CHATDESK, "--port", "0", "--auth-delay", "0"]
        if agents:
            command += ["--agents", agents]
        if data:
            command += ["--data", data]
        command += list(args)

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.stderr = tempfile.TemporaryFile(dir=TMP)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                        preexec_fn=limit, env=env)
        SERVERS.append(self)
        ready, _, _ = select.select([self.process.stdout], [], [], 20)
        banner = self.process.stdout.readline().strip() if ready else ""
        words = banner.split(" ")
        if len(words) != 7 or words[:3] != ["chatdesk", "listening", "on"]:
            fail(f"unexpected banner {banner!r}; stderr: {self.errors()!r}")
        self.port = int(words[3].rsplit(":", 1)[1])
        self.commands = int(words[6])

    def errors(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def rss_kib(self, field="VmRSS"):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        return 0

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.returncode not in (0, -signal.SIGTERM):
            fail(f"the server exited with {self.process.returncode}: {self.errors()}")


def credentials(*entries):
    """A credentials file: entries are (id, password, [spaces]); cheap hashes (tests only)."""
    path = os.path.join(TMP, f"agents-{len(os.listdir(TMP))}.txt")
    with open(path, "w") as out:
        for agent, password, spaces in entries:
            line = subprocess.run([CHATDESK, "passwd", "--cost", "min", agent, *spaces], input=password + "\n",
                                  capture_output=True, text=True, check=True, timeout=20).stdout
            out.write(line)
    return path


def login(port, agent, password=None, **kwargs):
    client = Client(agent, port, **kwargs)
    client.send(f"agent {agent} {password or agent + '-password'}")
    client.expect(f"ok agent {agent}")
    return client


def customer(port, space="", **kwargs):
    client = Client("customer", port, **kwargs)
    client.send(f"customer {space}".strip())
    words = client.expect_prefix("ok conversation ").split(" ")
    client.conversation, client.token = words[2], words[3]
    client.event("conversation_started", conversation=client.conversation)
    return client


def agents_file(*specs):
    return credentials(*[(agent, agent + "-password", spaces) for agent, spaces in specs])


# ---- Cases ----

def case_conversation():
    agents = agents_file(("ann", ["desk"]), ("bob", ["desk"]))
    server = Server("--offer-timeout", "1", "--accept-window", "60", "--inactivity-warning", "60",
                    "--inactivity-grace", "60", "--max-duration", "120", agents=agents)
    port = server.port
    ann = login(port, "ann")
    bob = login(port, "bob")
    for agent in (ann, bob):  # ann gained the role first: round robin offers to her first (R9)
        agent.send("available")
        agent.expect("ok")
        agent.event("availability_changed", agent=agent.name, space="desk", available="true", reason="agent")

    customer_ = Client("customer", port)
    customer_.send("customer")
    customer_.expect_prefix("ok conversation c1 ")
    customer_.event("conversation_started", conversation="c1", space="desk", handoff="false")
    offer = ann.event("offered", conversation="c1", agent="ann")
    customer_.send("say hello, is anyone there?")
    customer_.expect("ok")
    customer_.event("message", conversation="c1", from_="customer", audience="conversation",
                    text="hello, is anyone there?")

    # Ann ignores the offer. After 1 s the steady_timer fires the deadline (R13, R25), at
    # the offer's own expiry whatever the load on the machine.
    missed = ann.event("offer_timed_out", conversation="c1", agent="ann")
    if float(missed["at"]) != float(offer["expires_at"]):
        fail(f"the offer timed out at {missed['at']}, not at its expiry {offer['expires_at']}")
    ann.event("availability_changed", agent="ann", available="false", reason="offer_timeout")
    bob.event("offered", conversation="c1", agent="bob", at=missed["at"])
    ann.send("accept c1")
    ann.expect_prefix("error no_offer")

    bob.send("accept c1")
    bob.expect("ok")
    customer_.event("accepted", conversation="c1", agent="bob")
    bob.event("accepted", conversation="c1", agent="bob")
    bob.event("message", conversation="c1", from_="customer", text="hello, is anyone there?")  # the backlog
    bob.event("status_changed", conversation="c1", from_="waiting_for_agent", to="active")

    customer_.send("typing")
    customer_.expect("ok")
    bob.event("typing", conversation="c1", from_="customer", audience="agent")
    bob.send("say c1 Hi, I am Bob. How can I help?")
    bob.expect("ok")
    bob.event("message", from_="agent", agent="bob", text="Hi, I am Bob. How can I help?")
    customer_.event("message", from_="agent", agent="bob", audience="conversation",
                    text="Hi, I am Bob. How can I help?")

    # A note goes to the team (both agents hold the role), never to the customer (R16).
    bob.send("note c1 customer asks about invoice 42")
    bob.expect("ok")
    bob.event("note", conversation="c1", agent="bob", audience="team", text="customer asks about invoice 42")
    ann.event("note", conversation="c1", agent="bob", audience="team", text="customer asks about invoice 42")
    customer_.send("say thanks!")
    customer_.expect("ok")  # the customer's next line is its own answer, not the note
    customer_.event("message", from_="customer", text="thanks!")
    bob.event("message", from_="customer", text="thanks!")

    bob.send("end c1")
    bob.expect("ok")
    customer_.event("conversation_ended", conversation="c1", reason="agent")
    bob.event("conversation_ended", conversation="c1", reason="agent")
    bob.event("status_changed", conversation="c1", from_="active", to="wrapping_up")
    customer_.send("say still there?")
    customer_.expect_prefix("error conversation_ended")

    bob.send("resolve c1 Won't do")  # free text runs to the end of the line
    bob.expect("ok")
    bob.event("resolved", conversation="c1", resolution="Won't do")
    bob.event("status_changed", conversation="c1", from_="wrapping_up", to="closed")
    bob.event("slot_released", conversation="c1", agent="bob")
    customer_.send("bye")
    customer_.expect_prefix("error work_item_closed")

    for client in (ann, bob, customer_):
        client.quiet()
        client.close()
    server.stop()
    return "one conversation walked from start to closed, with a missed offer"


def case_impersonation():
    agents = agents_file(("ann", ["desk"]), ("bob", ["sales"]))
    server = Server("--auth-delay", "0.2", "--auth-failures", "3", *QUIET_TIMINGS, agents=agents)
    port = server.port
    refused = 0

    # No password, a wrong one, an unknown agent: refused, with one error for the last two.
    mallory = Client("mallory", port)
    mallory.send("agent ann")
    mallory.expect_prefix("error invalid_argument")
    started = time.monotonic()
    mallory.send("agent ann not-her-password")
    wrong = mallory.line()
    mallory.send("agent zed zeds-password")
    unknown = mallory.line()
    if wrong != unknown or not wrong.startswith("error unauthorized"):
        fail(f"a wrong password and an unknown agent must get the same error: {wrong!r} / {unknown!r}")
    if time.monotonic() - started < 0.4:
        fail("failed logins are not delayed")
    refused += 2
    mallory.send("accept c1")  # not logged in: no agent commands
    mallory.expect_prefix("error unknown_command")
    mallory.send("agent ann guess-number-3")
    mallory.expect_prefix("error unauthorized")
    refused += 1
    if not mallory.closed_by_server():
        fail("the connection stays open after 3 failed logins")

    # The real ann, and a customer whose conversation is offered to her.
    ann = login(port, "ann")
    ann.send("available")
    ann.expect("ok")
    victim = customer(port)
    ann.event("availability_changed", agent="ann")
    ann.event("offered", conversation=victim.conversation, agent="ann")

    # Bob is a real agent, but not in the space: he cannot take or touch ann's conversation.
    bob = login(port, "bob")
    for command in ("accept c1", "say c1 I am ann", "note c1 x", "end c1", "resolve c1 Done", "follow-up c1"):
        bob.send(command)
        got = bob.answer()
        if not got.startswith("error "):
            fail(f"bob's {command!r} was accepted: {got!r}")
        refused += 1
    ann.send("accept c1")
    ann.expect("ok")
    victim.event("accepted", conversation="c1", agent="ann")

    # Another customer cannot take over c1: not without its token, not with its own.
    other = customer(port)
    for token in ("0" * 64, other.token, victim.token[:-1] + ("0" if victim.token[-1] != "0" else "1"), ""):
        intruder = Client("intruder", port)
        intruder.send(f"resume c1 {token}")
        intruder.expect_prefix("error unauthorized")
        intruder.close()
        refused += 1
    other.send("bye")  # its own conversation only
    other.expect("ok")
    victim.send("say still mine")
    victim.expect("ok")

    # The customer's own token brings it back on a new connection; the old one goes.
    again = Client("customer again", port)
    again.send(f"resume c1 {victim.token}")
    again.expect("ok conversation c1")
    if not victim.closed_by_server():
        fail("the replaced customer connection stays open")
    again.send("say back again")
    again.expect("ok")
    # A second login as ann replaces the first connection.
    ann2 = login(port, "ann")
    if not ann.closed_by_server():
        fail("the replaced agent connection stays open")
    ann2.send("say c1 hello from the new connection")
    ann2.expect("ok")
    server.stop()
    return f"impersonation refused: {refused} attempts refused, 3 failed logins close a connection"


def case_notes():
    agents = agents_file(("ann", ["desk"]), ("bob", ["sales"]), ("carol", ["desk", "sales"]))
    server = Server(*QUIET_TIMINGS, agents=agents)
    port = server.port
    ann, bob, carol = (login(port, name) for name in ("ann", "bob", "carol"))
    ann.send("available desk")
    ann.expect("ok")
    ann.event("availability_changed", agent="ann", space="desk")
    guest = customer(port, "desk")
    ann.event("offered", conversation=guest.conversation, agent="ann", space="desk")
    ann.send(f"accept {guest.conversation}")
    ann.expect("ok")
    ann.event("accepted")
    ann.event("status_changed")
    guest.event("accepted")
    notes = 0
    for i in range(20):
        ann.send(f"note {guest.conversation} internal remark {i}")
        ann.expect("ok")
        ann.event("note", agent="ann", audience="team", text=f"internal remark {i}")
        carol.event("note", agent="ann", audience="team", text=f"internal remark {i}")
        notes += 1
    ann.send(f"follow-up {guest.conversation}")
    ann.expect("ok")
    ann.event("follow_up_created")
    carol.event("follow_up_created")
    # In sales, bob and carol are the team; ann (desk only) hears nothing of it.
    bob.send("available sales")
    bob.expect("ok")
    bob.event("availability_changed", space="sales")
    buyer = customer(port, "sales")
    bob.event("offered", conversation=buyer.conversation, agent="bob", space="sales")
    bob.send(f"accept {buyer.conversation}")
    bob.expect("ok")
    bob.event("accepted")
    bob.event("status_changed")
    buyer.event("accepted")
    bob.send(f"note {buyer.conversation} sales only")
    bob.expect("ok")
    bob.event("note", text="sales only")
    carol.event("note", text="sales only")
    for client in (bob, guest, buyer):
        client.quiet()
    ann.quiet()
    carol.quiet()
    server.stop()
    return f"{notes + 1} notes: reached the space's team only; never bob (other space), never a customer"


def case_transfer():
    # Two spaces; a1 and a2 hold the role in A, b1 and b2 in B (SPEC R32).
    agents = agents_file(("a1", ["A"]), ("a2", ["A"]), ("b1", ["B"]), ("b2", ["B"]))
    server = Server(*QUIET_TIMINGS, agents=agents)
    port = server.port
    a1, a2, b1, b2 = (login(port, name) for name in ("a1", "a2", "b1", "b2"))
    everyone = (a1, a2, b1, b2)
    for agent, space in ((a1, "A"), (a2, "A"), (b1, "B")):  # b2 stays away for now
        agent.send(f"available {space}")
        agent.expect("ok")
        agent.event("availability_changed", agent=agent.name, space=space, available="true")

    def refused(agent, command, code):
        agent.send(command)
        got = agent.line()
        if not got.startswith(f"error {code} "):
            fail(f"{agent.name}: {command!r} answered {got!r}, not error {code}")

    def note(author, conversation, text, team, outside):
        author.send(f"note {conversation} {text}")
        author.expect("ok")
        for member in team:
            member.event("note", conversation=conversation, agent=author.name, audience="team", text=text)
        for other in outside:
            other.quiet(0.1)

    # c1 starts in A; round robin offers it to a1 (role granted first, R9), who accepts.
    guest = customer(port, "A")
    c1 = guest.conversation
    a1.event("offered", conversation=c1, agent="a1", space="A")
    a1.send(f"accept {c1}")
    a1.expect("ok")
    a1.event("accepted", conversation=c1, agent="a1")
    a1.event("status_changed", conversation=c1, from_="waiting_for_agent", to="active")
    guest.event("accepted", conversation=c1, agent="a1")
    # In A, a note reaches a1 (assignee, role) and a2 (role), nobody of B.
    note(a1, c1, "asks for the B team", team=(a1, a2), outside=(b1, b2, guest))

    # Only the assignee may transfer; the target must exist; to_agent needs the role there.
    refused(a2, f"transfer {c1} B", "not_assignee")            # role in A, not the assignee
    refused(b1, f"transfer {c1} B", "not_an_agent_in_space")   # no role in A
    refused(a1, f"transfer {c1} Nowhere", "unknown_space")
    refused(a1, f"transfer {c1} B a2", "not_an_agent_in_space")  # a2 has no role in B
    refused(a1, f"transfer {c1} B zed", "unknown_agent")
    refused(a1, f"transfer {c1}", "invalid_argument")
    for agent in everyone:
        agent.quiet(0.1)

    # a1 sends it to B: transferred, status_changed (active -> waiting_for_agent),
    # slot_released, all at one instant; then routing offers it in B (R32).
    a1.send(f"transfer {c1} B")
    a1.expect("ok")
    moved = a1.event("transferred", conversation=c1, agent="a1", space="B", reason="agent")
    a1.event("status_changed", conversation=c1, from_="active", to="waiting_for_agent", at=moved["at"])
    a1.event("slot_released", conversation=c1, agent="a1", at=moved["at"])
    guest.event("transferred", conversation=c1, agent="a1", space="B", reason="agent")
    b1.event("offered", conversation=c1, agent="b1", space="B", at=moved["at"])
    for agent in (a1, a2, b2):
        agent.quiet(0.1)

    # Waiting in B: a1 no longer acts in it; b1 has the role but is not the assignee (R32).
    refused(a1, f"note {c1} still mine?", "not_an_agent_in_space")
    refused(a1, f"transfer {c1} A", "not_an_agent_in_space")
    refused(b1, f"transfer {c1} A", "not_assignee")
    # Its notes now reach B's team, not A's.
    note(b2, c1, "noted in B", team=(b1, b2), outside=(a1, a2, guest))

    # The customer writes while it waits; b1 accepts and gets that message and the transcript.
    guest.send("say anyone in B?")
    guest.expect("ok")
    guest.event("message", conversation=c1, from_="customer", text="anyone in B?")
    b1.send(f"accept {c1}")
    b1.expect("ok")
    b1.event("accepted", conversation=c1, agent="b1")
    b1.event("message", conversation=c1, from_="customer", text="anyone in B?")  # the backlog
    b1.event("status_changed", conversation=c1, from_="waiting_for_agent", to="active")
    b1.event("transcript_shared", conversation=c1, agent="b1")
    guest.event("accepted", conversation=c1, agent="b1")
    b1.send(f"say {c1} B here, hello")
    b1.expect("ok")
    b1.event("message", conversation=c1, from_="agent", agent="b1", text="B here, hello")
    guest.event("message", conversation=c1, from_="agent", agent="b1", text="B here, hello")
    note(b1, c1, "handled in B", team=(b1, b2), outside=(a1, a2, guest))

    # With to_agent: c2 starts in A (a2's turn now), goes to B naming b1, although round
    # robin in B would now pick b2 (the cursor is past b1).
    b2.send("available B")
    b2.expect("ok")
    b2.event("availability_changed", agent="b2", space="B", available="true")
    buyer = customer(port, "A")
    c2 = buyer.conversation
    a2.event("offered", conversation=c2, agent="a2", space="A")
    a2.send(f"accept {c2}")
    a2.expect("ok")
    a2.event("accepted", conversation=c2, agent="a2")
    a2.event("status_changed", conversation=c2, to="active")
    buyer.event("accepted", conversation=c2, agent="a2")
    a2.send(f"transfer {c2} B b1")
    a2.expect("ok")
    moved = a2.event("transferred", conversation=c2, agent="a2", space="B", reason="agent")
    a2.event("status_changed", conversation=c2, from_="active", to="waiting_for_agent")
    a2.event("slot_released", conversation=c2, agent="a2")
    buyer.event("transferred", conversation=c2, space="B")
    b1.event("offered", conversation=c2, agent="b1", space="B", at=moved["at"])
    b2.quiet(0.1)
    b1.send(f"accept {c2}")
    b1.expect("ok")
    b1.event("accepted", conversation=c2, agent="b1")
    b1.event("status_changed", conversation=c2, to="active")
    b1.event("transcript_shared", conversation=c2, agent="b1")
    buyer.event("accepted", conversation=c2, agent="b1")
    note(b1, c2, "second one", team=(b1, b2), outside=(a1, a2, guest, buyer))

    for client in (*everyone, guest, buyer):
        client.quiet()
        client.close()
    server.stop()
    return "transfer to another space, with and without to_agent; refusals; notes follow the conversation"


def case_limits():
    agents = agents_file(("ann", ["desk"]))
    bad_flags = [["--offer-timeout", "1e10"], ["--offer-timeout", "-1"], ["--offer-timeout", "nan"],
                 ["--accept-window", "0"], ["--limit", "0"], ["--limit", "2.5"], ["--port", "70000"],
                 ["--bind", "0.0.0.0"], ["--idle-timeout", "0"], ["--max-output", "10"],
                 ["--space", "a b"], ["--tls-cert", "x.pem"], ["--max-connections", "-1"]]
    for flags in bad_flags:
        result = subprocess.run([CHATDESK, *flags], capture_output=True, text=True, timeout=20)
        if result.returncode != 2:
            fail(f"chatdesk {' '.join(flags)} was accepted (exit {result.returncode})")
    server = Server("--idle-timeout", "1", "--max-connections", "4", "--backlog-messages", "5", *QUIET_TIMINGS,
                    agents=agents)
    port = server.port
    probe = Client("probe", port)
    for line in (b"agent ann\x01 x\n", b"say \xff\xfe\n", b"customer \xc0\xaf\n"):
        probe.send(line)
        probe.expect_prefix("error invalid_argument")
    probe.send(b"x" * 5000 + b"\n")
    probe.expect_prefix("error invalid_argument a line is at most 4096 bytes")
    if not probe.closed_by_server():
        fail("a line over 4096 bytes does not close the connection")

    # The backlog before acceptance: 5 messages, then the customer is told.
    ann = login(port, "ann")
    guest = customer(port)
    full = 0
    for i in range(8):
        guest.send(f"say message {i}")
        got = guest.line()
        if got == "ok":
            guest.event("message", text=f"message {i}")
        elif got.startswith("error backlog_full"):
            full += 1
        else:
            fail(f"unexpected {got!r}")
    if full != 3:
        fail(f"expected 3 messages refused with backlog_full, got {full}")
    ann.send("available")
    ann.expect("ok")
    ann.event("availability_changed")
    ann.event("offered")
    ann.send(f"accept {guest.conversation}")
    ann.expect("ok")
    ann.event("accepted")
    for i in range(5):
        ann.event("message", text=f"message {i}")
    ann.send("ping")  # keeps ann's connection from going idle

    # Maximum connections: ann, guest and two more; the fifth is told and closed.
    third = Client("third", port)
    third.send("ping")
    third.expect("ok")
    fourth = Client("fourth", port)
    fourth.send("ping")
    fourth.expect("ok")
    fifth = Client("fifth", port)
    fifth.expect_prefix("error busy")
    fourth.close()
    # Idle timeout: a connection that sends nothing for 1 s is closed.
    started = time.monotonic()
    if not third.closed_by_server(timeout=4):
        fail("an idle connection was not closed")
    idle = time.monotonic() - started
    server.stop()
    return (f"{len(bad_flags)} bad flags refused at parse; control bytes, bad UTF-8 and long lines refused; "
            f"backlog full after 5 messages; 5th connection refused; idle closed after {idle:.1f} s")


def case_emfile():
    # The server gets 64 descriptors; 100 connections run it out, then all go away.
    server = Server(*QUIET_TIMINGS, nofile=64)
    port = server.port
    clients = []
    for i in range(100):
        try:
            clients.append(Client(f"c{i}", port))
        except OSError:
            break
    time.sleep(0.5)
    for client in clients:
        client.close()
    time.sleep(0.3)
    if "accept:" not in server.errors():
        fail(f"the server never ran out of descriptors: {server.errors()!r}")
    # New connections are accepted again: the accept loop backed off and resumed.
    deadline = time.monotonic() + 10
    served = 0
    while served < 20 and time.monotonic() < deadline:
        try:
            guest = customer(server.port)
            guest.send("bye")
            guest.answer()
            guest.close()
            served += 1
        except (AssertionError, Closed, OSError):
            time.sleep(0.1)
    if served < 20:
        fail(f"only {served} conversations after the descriptors came back")
    errors = server.errors().count("accept:")
    server.stop()
    return f"RLIMIT_NOFILE 64, 100 connections: {errors} accept errors logged, then 20 customers served"


def case_memory():
    agents = agents_file(("ann", ["desk"]), *[(f"slow{i}", ["desk"]) for i in range(40)])
    max_output = 65536
    # Under AddressSanitizer freed memory waits in a quarantine (256 MB by default) before
    # reuse; a small one keeps the figure about the server's memory, not the sanitizer's.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "quarantine_size_mb=8"]))
    server = Server("--max-output", str(max_output), "--backlog-messages", "20", "--backlog-bytes", "16384",
                    *QUIET_TIMINGS, agents=agents, env=env)
    port = server.port
    ann = login(port, "ann")
    slow = [login(port, f"slow{i}", rcvbuf=4096) for i in range(40)]  # team members who never read
    baseline = server.rss_kib()
    ann.send("available")
    ann.expect("ok")
    guest = customer(port)
    ann.send(f"accept {guest.conversation}")
    # 1,000 notes of 4 KB: 4 MB for every reader, 160 MB for the 40 that never read.
    body = "n" * 4000
    sender = threading.Thread(target=lambda: ann.send("".join(f"note {guest.conversation} {body}\n"
                                                              for _ in range(1000))))
    sender.start()
    notes = 0
    while notes < 1000:
        line = ann.line(timeout=30)
        if line.startswith("event note"):
            notes += 1
    sender.join()
    dropped = sum(1 for client in slow if client.closed_by_server(timeout=2))
    if dropped != len(slow):
        fail(f"only {dropped} of {len(slow)} slow readers were dropped")

    # A customer who floods and never reads: 8 MB of 4 KB messages, refused past the backlog
    # bound; then short lines until the server stops reading it (its unread answers pile up).
    flood = customer(port, rcvbuf=4096)
    flood.sock.settimeout(3)
    sent = 0
    big = "".join(f"say {'f' * 4000}\n" for _ in range(64)).encode()
    small = b"say x\n" * 4096
    try:
        while sent < 8 * 1024 * 1024:
            flood.sock.sendall(big)
            sent += len(big)
        while sent < 72 * 1024 * 1024:
            flood.sock.sendall(small)
            sent += len(small)
    except socket.timeout:
        pass
    if sent >= 72 * 1024 * 1024:
        fail("the server read 64 MB of commands from a customer who never reads its answers")
    peak = server.rss_kib("VmHWM")
    after = server.rss_kib()
    # Still serving: ann gets her answers.
    ann.send("ping")
    if ann.answer() != "ok":
        fail("the server stopped answering")
    bound_kib = baseline + 48 * 1024
    if peak > bound_kib:
        fail(f"peak RSS {peak} KiB over the bound {bound_kib} KiB (baseline {baseline} KiB)")
    server.stop()
    return (f"40 slow readers dropped at {max_output} B queued each; flooding customer throttled after "
            f"{sent // 1024} KiB; RSS baseline {baseline} KiB, peak {peak} KiB (bound baseline + 48 MiB), "
            f"now {after} KiB")


def case_pipelining():
    agents = agents_file(("ann", ["desk"]))
    data = tempfile.mkdtemp(dir=TMP)
    server = Server(*QUIET_TIMINGS, agents=agents, data=data)
    port = server.port
    ann = login(port, "ann")
    ann.send("available")
    ann.expect("ok")
    guest = customer(port)
    ann.send(f"accept {guest.conversation}")
    ann.expect_prefix("event availability_changed")
    ann.expect_prefix("event offered")
    ann.expect("ok")
    ann.event("accepted")
    ann.event("status_changed")
    guest.event("accepted")
    count = 10000
    received = []

    def read_customer():  # the customer reads along, or it would be dropped as a slow reader
        try:
            while len(received) < count:
                if guest.line(timeout=60).startswith("event message"):
                    received.append(1)
        except (AssertionError, Closed):
            pass

    reader = threading.Thread(target=read_customer)
    reader.start()
    started = time.monotonic()
    payload = "".join(f"say {guest.conversation} {i}\n" for i in range(count)).encode()
    sender = threading.Thread(target=lambda: ann.sock.sendall(payload))
    sender.start()
    for i in range(count):
        got = ann.line(timeout=30)
        if got != "ok":
            fail(f"answer {i}: expected ok, got {got!r}")
        ann.event("message", from_="agent", text=str(i), timeout=30)
    elapsed = time.monotonic() - started
    sender.join()
    reader.join(timeout=30)
    if len(received) != count:
        fail(f"the customer got {len(received)} of {count} messages")
    server.stop()
    return f"{count} pipelined commands answered in order in {elapsed:.1f} s, journaled (--data), nobody cut off"


def case_tls():
    key, cert = os.path.join(TMP, "key.pem"), os.path.join(TMP, "cert.pem")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as error:
        fail(f"cannot make a test certificate with openssl (scripts/deps.sh installs it): {error}")
    agents = agents_file(("ann", ["desk"]))
    server = Server("--tls-cert", cert, "--tls-key", key, *QUIET_TIMINGS, agents=agents)
    context = ssl.create_default_context(cafile=cert)
    ann = login(server.port, "ann", tls_context=context)
    ann.send("available")
    ann.expect("ok")
    guest = customer(server.port, tls_context=context)
    ann.event("availability_changed")
    ann.event("offered", conversation=guest.conversation)
    ann.send(f"accept {guest.conversation}")
    ann.expect("ok")
    guest.event("accepted")
    guest.send("say over TLS")
    guest.expect("ok")
    ann.event("accepted")
    ann.event("status_changed")
    ann.event("message", text="over TLS")
    # Plain text to a TLS port gets no answer but a closed connection.
    plain = Client("plain", server.port)
    plain.send("customer")
    if not plain.closed_by_server():
        fail("a plain-text client was served on the TLS port")
    version = ann.sock.version()
    server.stop()
    return f"a conversation over {version}; plain text refused on the TLS port"


def case_restart():
    agents = agents_file(("ann", ["desk"]), ("bob", ["desk"]))
    data = tempfile.mkdtemp(dir=TMP)
    flags = ["--offer-timeout", "2", "--accept-window", "3600", "--inactivity-warning", "3600",
             "--inactivity-grace", "3600", "--max-duration", "7200"]
    server = Server(*flags, agents=agents, data=data)
    ann = login(server.port, "ann")
    ann.send("available")
    ann.expect("ok")
    guest = customer(server.port)
    guest.send("say are you there?")
    guest.expect("ok")
    ann.event("availability_changed")
    offer = ann.event("offered", conversation=guest.conversation, agent="ann")
    server.kill()  # down before the offer expires; back after
    time.sleep(2.5)
    server = Server(*flags, agents=agents, data=data)
    # The offer timed out while the server was down: on start it fired (R13, R25), ann is
    # away, the conversation waits; the customer's message and token survived.
    again = Client("customer", server.port)
    again.send(f"resume {guest.conversation} {guest.token}")
    again.expect(f"ok conversation {guest.conversation}")
    bob = login(server.port, "bob")
    bob.send("available")
    bob.expect("ok")
    bob.event("availability_changed", agent="bob", available="true")
    reoffer = bob.event("offered", conversation=guest.conversation, agent="bob")
    bob.send(f"accept {guest.conversation}")
    bob.expect("ok")
    bob.event("accepted")
    bob.event("message", from_="customer", text="are you there?")  # the backlog, from the snapshot or journal
    server.stop()  # SIGTERM: a snapshot, nothing ended
    state = dump(data, agents)
    conversation = state["conversations"][guest.conversation]
    if conversation.get("assignee") != "bob" or conversation["status"] != "active":
        fail(f"unexpected state after the restart: {state}")
    if state["agents"]["ann"]["spaces"]["desk"] is not False:
        fail(f"ann's missed offer did not make her unavailable: {state}")
    if float(reoffer["at"]) <= float(offer["expires_at"]):
        fail("bob's offer came before ann's expired")
    return (f"an offer due while the server was down timed out on start (expired at {offer['expires_at']}); "
            f"token, backlog and conversation restored; {state['commands']} commands held")


# ---- Crash test ----

CRASH_KILLS = 50
AGENTS = ("a1", "a2", "a3")
# The uninterrupted reference run keeps every customer's connection open, and the server
# takes 256 connections at once (--max-connections): stay well below, however fast the
# machine runs the traffic between kills.
CRASH_CONVERSATIONS = 200


class Traffic:
    """Scripted traffic: random steps from a seeded generator, each one command of one actor."""

    def __init__(self, seed):
        self.random = random.Random(seed)
        self.conversations = []  # names started (tokens kept by the driver)

    def step(self, tokens):
        r = self.random.random()
        live = [name for name in self.conversations if name in tokens]
        agent = self.random.choice(AGENTS)
        if (r < 0.15 and len(self.conversations) < CRASH_CONVERSATIONS) or not self.conversations:
            return ("new", self.random.choice(["desk", "sales"]))
        name = self.random.choice(self.conversations)
        if r < 0.35 and live:
            return (self.random.choice(live), f"say hello {self.random.randrange(1000)}")
        if r < 0.40 and live:
            return (self.random.choice(live), self.random.choice(["typing", "bye"]))
        if r < 0.60:
            return (agent, f"accept {name}")
        if r < 0.65:
            return (agent, f"decline {name}")
        if r < 0.75:
            return (agent, f"{self.random.choice(['say', 'note'])} {name} reply {self.random.randrange(1000)}")
        if r < 0.80:
            return (agent, f"end {name}")
        if r < 0.85:
            return (agent, f"resolve {name} Done")
        return (agent, self.random.choice(["available", "away", "available desk", "away sales"]))


class Desk:
    """The driver's connections to one running server."""

    def __init__(self, port, tokens):
        self.clients = {agent: login(port, agent) for agent in AGENTS}
        for name, token in tokens.items():
            if token:
                client = Client(name, port)
                client.send(f"resume {name} {token}")
                if client.answer().startswith("ok conversation"):
                    self.clients[name] = client
                else:  # closed since: the desk forgot it
                    tokens[name] = None
                    client.close()
        self.port = port

    def run(self, step):
        """Sends one step, returns (answer, conversation, token); raises Closed if the server died."""
        actor, line = step
        if actor == "new":
            client = Client("customer", self.port)
            client.send(f"customer {line}")
            answer = client.answer()
            if answer.startswith("ok conversation"):
                _, _, name, token = answer.split(" ")
                self.clients[name] = client
                return answer, name, token
            return answer, None, None
        client = self.clients[actor]
        client.send(line)
        answer = client.answer()
        for other in self.clients.values():  # nobody falls behind
            other.drain()
        return answer, None, None

    def close(self):
        for client in self.clients.values():
            client.close()


def journaled(step, answer):
    """Whether an answered step was a journaled command: every `ok` but a resume or login."""
    return answer.startswith("ok")


def dump(data, agents):
    result = subprocess.run([CHATDESK, "--data", data, "--agents", agents, "--dump"], capture_output=True,
                            text=True, timeout=30)
    if result.returncode != 0:
        fail(f"--dump failed: {result.stderr}")
    return json.loads(result.stdout)


def case_crash():
    agents = agents_file(("a1", ["desk"]), ("a2", ["desk", "sales"]), ("a3", ["sales"]))
    flags = ["--snapshot-every", "13", *QUIET_TIMINGS]
    data = tempfile.mkdtemp(dir=TMP)
    seed = int(os.environ.get("CHATDESK_CRASH_SEED", random.randrange(1 << 30)))
    print(f"chatdesk crash: seed {seed} (CHATDESK_CRASH_SEED to repeat its traffic)", file=sys.stderr)
    traffic = Traffic(seed)
    tokens = {}        # conversation -> token (None: started, but its answer died with the server)
    applied = []       # (step, answer or None): what the server holds, in order
    expected = None    # commands the server must hold at its next start
    inflight = None
    kills = 0
    started_at = time.monotonic()
    rng = random.Random(seed + 1)
    while kills < CRASH_KILLS:
        server = Server(*flags, agents=agents, data=data)
        if expected is not None:
            if inflight is not None and server.commands == expected + 1:
                step = inflight
                applied.append((step, None))  # it was journaled; its answer was lost
                if step[0] == "new":
                    name = f"c{len(traffic.conversations) + 1}"
                    traffic.conversations.append(name)
                    tokens[name] = None
                inflight = None
            elif server.commands != expected:
                fail(f"restart {kills}: the server holds {server.commands} commands, {expected} were "
                     f"acknowledged (+1 in flight: {inflight})")
        expected = server.commands
        killed = threading.Event()

        def kill(server=server, killed=killed):
            killed.set()
            server.kill()

        killer = threading.Timer(rng.uniform(0.0, 0.12), kill)
        try:
            desk = Desk(server.port, tokens)
            if inflight is not None and inflight[0] != "new" and inflight[0] not in desk.clients:
                # Not journaled (the server holds `expected`), and its customer's conversation
                # closed before the kill: the customer is gone, so the step is dropped.
                inflight = None
            killer.start()
            while True:
                step = inflight or traffic.step({k: v for k, v in tokens.items() if v})
                inflight = step
                answer, name, token = desk.run(step)
                inflight = None
                applied.append((step, answer))
                if journaled(step, answer):
                    expected += 1
                if name:
                    traffic.conversations.append(name)
                    tokens[name] = token
        except (Closed, OSError, AssertionError):
            if not killed.is_set():  # only the killer may cut the traffic short
                raise
        killer.cancel()
        server.kill()
        kills += 1
        try:
            desk.close()
        except NameError:
            pass
    crashed = dump(data, agents)
    crash_seconds = time.monotonic() - started_at
    if crashed["commands"] != expected + (1 if inflight else 0) and crashed["commands"] != expected:
        fail(f"after the last kill the journal holds {crashed['commands']} commands, expected {expected}")
    if inflight and crashed["commands"] == expected + 1:
        applied.append((inflight, None))

    # The same commands, uninterrupted, in a fresh data directory.
    reference_data = tempfile.mkdtemp(dir=TMP)
    server = Server(*flags, agents=agents, data=reference_data)
    desk = Desk(server.port, {})
    for index, (step, answer) in enumerate(applied):
        got, _, _ = desk.run(step)
        if answer is not None:
            same = got.split(" ")[:3] == answer.split(" ")[:3]  # tokens differ: another key
            if not same:
                fail(f"step {index} {step}: {answer!r} with crashes, {got!r} without")
    server.kill()
    desk.close()
    reference = dump(reference_data, agents)
    if crashed != reference:
        fail(f"state after {kills} kills differs from the uninterrupted run (seed {seed}):\n"
             f"{json.dumps(crashed, sort_keys=True)}\n{json.dumps(reference, sort_keys=True)}")
    lost = sum(1 for _, answer in applied if answer is None)
    return (f"{kills} kill -9s survived (seed {seed}): {len(applied)} commands, {crashed['commands']} journaled, "
            f"{lost} answers lost in flight but their commands kept; {len(crashed['conversations'])} live "
            f"conversations equal to an uninterrupted run; {crash_seconds:.1f} s")


CASES = {name[len("case_"):]: function for name, function in globals().items() if name.startswith("case_")}


def main():
    global CHATDESK, TMP
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    CHATDESK = sys.argv[1]
    signal.signal(signal.SIGALRM, lambda *_: fail(f"gave up after {TEST_TIMEOUT_S} s"))
    signal.alarm(TEST_TIMEOUT_S)
    with tempfile.TemporaryDirectory(prefix="chatdesk-test-") as tmp:
        TMP = tmp
        try:
            figures = CASES[sys.argv[2]]()
        finally:
            for server in SERVERS:
                if server.process.poll() is None:
                    server.process.kill()
                    server.process.wait()
    print(f"chatdesk {sys.argv[2]}: {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
