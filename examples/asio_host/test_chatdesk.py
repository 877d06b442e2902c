#!/usr/bin/env python3
"""Walks one conversation through chatdesk over TCP, from start to closed.

Usage: test_chatdesk.py <path to chatdesk>

Starts the server on a free loopback port with a 1 s offer timeout, connects two agents
(ann, then bob) and a customer. Ann misses the offer (R13): it times out, she turns
unavailable and the conversation goes to bob, who accepts, talks, writes a note that
must reach the team but never the customer, ends the conversation and resolves it.
Every read is bounded; the whole test gives up after 45 s; the server is always stopped.
"""

import select
import signal
import socket
import subprocess
import sys
import time

READ_TIMEOUT_S = 5.0
TEST_TIMEOUT_S = 45


class Client:
    """One connection: sends lines, reads lines, checks them."""

    def __init__(self, name, port):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT_S)
        self.buffer = b""

    def send(self, line):
        self.sock.sendall((line + "\n").encode())

    def line(self, timeout=READ_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                fail(f"{self.name}: nothing within {timeout} s")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                fail(f"{self.name}: nothing within {timeout} s")
            if not chunk:
                fail(f"{self.name}: connection closed")
            self.buffer += chunk
        text, _, self.buffer = self.buffer.partition(b"\n")
        return text.decode()

    def expect(self, wanted):
        got = self.line()
        if got != wanted:
            fail(f"{self.name}: expected {wanted!r}, got {got!r}")

    def expect_prefix(self, wanted):
        got = self.line()
        if not got.startswith(wanted):
            fail(f"{self.name}: expected a line starting {wanted!r}, got {got!r}")

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

    def quiet(self, wait_s=0.3):
        """Nothing more arrives for this connection."""
        if self.buffer:
            fail(f"{self.name}: unexpected {self.buffer!r}")
        ready, _, _ = select.select([self.sock], [], [], wait_s)
        if ready:
            data = self.sock.recv(4096)
            if data:
                fail(f"{self.name}: unexpected {data!r}")

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


def fail(message):
    raise AssertionError(message)


def start_server(path):
    server = subprocess.Popen(
        [path, "--port", "0", "--offer-timeout", "1", "--accept-window", "60",
         "--inactivity-warning", "60", "--inactivity-grace", "60", "--max-duration", "120"],
        stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([server.stdout], [], [], READ_TIMEOUT_S)
    if not ready:
        fail("the server did not say which port it listens on")
    banner = server.stdout.readline().strip()
    if not banner.startswith("chatdesk listening on 127.0.0.1:"):
        fail(f"unexpected banner {banner!r}")
    return server, int(banner.rsplit(":", 1)[1])


def walk(port):
    ann = Client("ann", port)
    ann.send("agent ann")
    ann.expect("ok agent ann")
    bob = Client("bob", port)
    bob.send("agent bob")
    bob.expect("ok agent bob")
    for agent in (ann, bob):  # ann gained the role first: round robin offers to her first (R9)
        agent.send("available")
        agent.expect("ok")
        agent.event("availability_changed", agent=agent.name, available="true", reason="agent")

    customer = Client("customer", port)
    customer.send("customer")
    customer.expect("ok conversation c1")
    customer.event("conversation_started", conversation="c1", space="desk", handoff="false")
    offer = ann.event("offered", conversation="c1", agent="ann")
    customer.send("say hello, is anyone there?")
    customer.expect("ok")
    customer.event("message", conversation="c1", from_="customer", audience="conversation",
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
    customer.event("accepted", conversation="c1", agent="bob")
    bob.event("accepted", conversation="c1", agent="bob")
    bob.event("message", conversation="c1", from_="customer", text="hello, is anyone there?")  # the backlog
    bob.event("status_changed", conversation="c1", from_="waiting_for_agent", to="active")

    customer.send("typing")
    customer.expect("ok")
    bob.event("typing", conversation="c1", from_="customer", audience="agent")
    bob.send("say c1 Hi, I am Bob. How can I help?")
    bob.expect("ok")
    bob.event("message", from_="agent", agent="bob", text="Hi, I am Bob. How can I help?")
    customer.event("message", from_="agent", agent="bob", audience="conversation",
                   text="Hi, I am Bob. How can I help?")

    # A note goes to the team (both agents hold the role), never to the customer (R16).
    bob.send("note c1 customer asks about invoice 42")
    bob.expect("ok")
    bob.event("note", conversation="c1", agent="bob", audience="team", text="customer asks about invoice 42")
    ann.event("note", conversation="c1", agent="bob", audience="team", text="customer asks about invoice 42")
    customer.send("say thanks!")
    customer.expect("ok")  # the customer's next line is its own answer, not the note
    customer.event("message", from_="customer", text="thanks!")
    bob.event("message", from_="customer", text="thanks!")

    bob.send("end c1")
    bob.expect("ok")
    customer.event("conversation_ended", conversation="c1", reason="agent")
    bob.event("conversation_ended", conversation="c1", reason="agent")
    bob.event("status_changed", conversation="c1", from_="active", to="wrapping_up")
    customer.send("say still there?")
    customer.expect_prefix("error conversation_ended")

    bob.send("resolve c1 Won't do")  # free text runs to the end of the line
    bob.expect("ok")
    bob.event("resolved", conversation="c1", resolution="Won't do")
    bob.event("status_changed", conversation="c1", from_="wrapping_up", to="closed")
    bob.event("slot_released", conversation="c1", agent="bob")
    customer.send("bye")
    customer.expect_prefix("error work_item_closed")

    for client in (ann, bob, customer):
        client.quiet()
        client.close()


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, lambda *_: fail(f"gave up after {TEST_TIMEOUT_S} s"))
    signal.alarm(TEST_TIMEOUT_S)
    server, port = start_server(sys.argv[1])
    try:
        walk(port)
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if server.returncode not in (0, -signal.SIGTERM):
        fail(f"the server exited with {server.returncode}")
    print("chatdesk: one conversation walked from start to closed, with a missed offer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
