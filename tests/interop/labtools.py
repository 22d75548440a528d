"""Helpers the interop tests share: the lab record, polling, and the lab's daemons."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List
from urllib.parse import urlsplit

LAB_SH = Path(__file__).resolve().parents[2] / "lab" / "lab.sh"

#: The lab's daemons by host (the namespace suffix), as /proc/PID/comm names them (15 chars).
DAEMONS = {"gw": "miniupnpd", "dms": "minidlnad", "lt": "gupnp-network-l", "gw2": "miniupnpd"}

#: Run in another namespace of the lab by :meth:`Lab.connect_from_wan`: one TCP connection,
#: the bytes given sent, then everything read until the peer closes; the outcome as JSON.
_WAN_CLIENT = """
import json, socket, sys
host, port, timeout, data = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
try:
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data.encode("latin-1"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    print(json.dumps({"received": received.decode("latin-1")}))
except OSError as exc:
    print(json.dumps({"error": type(exc).__name__, "errno": exc.errno, "message": str(exc)}))
"""


@dataclass(frozen=True)
class Lab:
    folder: str
    client_ns: str
    gw_ns: str
    client_ip: str
    gw_ip: str
    dms_ip: str
    light_ip: str
    wan_ip: str
    gw_url: str
    dms_url: str
    light_url: str
    tracks: int
    #: The first gateway's WAN side ("the internet"): its namespace, and its address there
    #: (the source address a connection from it shows once forwarded through a mapping).
    inet_ns: str
    inet_ip: str
    #: The second gateway: miniupnpd as InternetGatewayDevice:1 behind carrier-grade NAT (its WAN
    #: address 100.64.0.2, towards the carrier's namespace ``cgn_ns``). Its daemon runs on
    #: demand (:meth:`running`) unless the lab was built with ``UPNPY_LAB_GW2=1``.
    gw2_ns: str
    gw2_ip: str
    gw2_url: str
    gw2_wan_ip: str
    cgn_ns: str

    def nft_nat_rules(self, host: str = "gw") -> str:
        """A gateway's miniupnpd NAT chain, as ``nft`` lists it (``gw`` or ``gw2``)."""
        return subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.namespace(host),
                "nft",
                "list",
                "chain",
                "inet",
                "filter",
                "prerouting_miniupnpd",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout

    # --- the daemons, for fault tests. Only this lab's namespaces are ever touched: their
    # --- names come from this lab's prefix, and only processes listed in them are signalled.

    @property
    def prefix(self) -> str:
        """The lab's unique prefix (its namespaces are ``<prefix>-gw``, ``<prefix>-dms``...)."""
        return self.gw_ns[: -len("-gw")]

    def namespace(self, host: str) -> str:
        """The namespace of *host* (``gw``, ``gw2``, ``dms`` or ``lt``)."""
        if host not in DAEMONS:
            raise ValueError(f"no daemon host {host!r} in the lab (one of {sorted(DAEMONS)})")
        return f"{self.prefix}-{host}"

    def daemon_pids(self, host: str) -> List[int]:
        """The pids of *host*'s daemon, found among the processes of its namespace."""
        listed = subprocess.run(
            ["ip", "netns", "pids", self.namespace(host)],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.split()
        pids = []
        for pid in listed:
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except OSError:  # gone meanwhile
                continue
            if comm == DAEMONS[host]:
                pids.append(int(pid))
        return pids

    def signal_daemon(self, host: str, sig: int) -> List[int]:
        """Send *sig* to *host*'s daemon; return the pids signalled (at least one)."""
        pids = self.daemon_pids(host)
        assert pids, f"no {DAEMONS[host]} runs in {self.namespace(host)}"
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        return pids

    @contextlib.contextmanager
    def frozen(self, host: str) -> Iterator[List[int]]:
        """*host*'s daemon stopped (SIGSTOP) inside the block, continued (SIGCONT) after it.

        A frozen daemon's kernel still completes TCP handshakes and queues requests; it just
        never answers. Its address and description URL survive, unlike a restart.
        """
        pids = self.signal_daemon(host, signal.SIGSTOP)
        try:
            yield pids
        finally:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def restart(self, host: str) -> None:
        """Restart a gateway (``gw``, ``gw2``) or the media server (``dms``) as ``lab.sh`` does.

        ``lab.sh restart`` stops the daemon if it still runs, starts it with the same command
        line, and returns once it answers (its description; for ``gw2`` an M-SEARCH for
        InternetGatewayDevice:1), or fails after 15 s. The light has no restart: its
        description URL changes at every start.
        """
        self._lab_sh("restart", host)

    def start(self, host: str) -> None:
        """Start *host*'s daemon (``gw``, ``gw2``, ``dms``) unless it runs; wait till it answers."""
        self._lab_sh("start", host)

    def stop(self, host: str) -> None:
        """Stop *host*'s daemon (``gw``, ``gw2``, ``dms``); return once it is gone."""
        self._lab_sh("stop", host)

    @contextlib.contextmanager
    def running(self, host: str) -> Iterator[None]:
        """*host*'s daemon running inside the block; stopped after it if it was started here.

        For the second gateway (``gw2``), which runs on demand: outside such a block discovery
        finds the lab's three usual devices. In a lab built with ``UPNPY_LAB_GW2=1`` it runs
        all along and is left running.
        """
        started = not self.daemon_pids(host)
        if started:
            self.start(host)
        try:
            yield
        finally:
            if started:
                self.stop(host)

    def _lab_sh(self, action: str, host: str) -> None:
        self.namespace(host)
        done = subprocess.run(
            [str(LAB_SH), action, self.folder, host],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"lab.sh {action} {host} failed: {done.stderr.strip()}")

    def connect_from_wan(
        self, port: int, data: bytes = b"", host: str = "", timeout: float = 5.0
    ) -> dict:
        """One TCP connection from the first gateway's WAN side (the ``inet`` namespace).

        Connects to *host* (by default the gateway's WAN address, :attr:`wan_ip`) on *port*,
        sends *data*, reads until the peer closes. Returns ``{"received": bytes}``, or
        ``{"error": "ConnectionRefusedError", "errno": 111, "message": ...}`` when the
        connection fails. The client is a Python process run with ``ip netns exec``: only this
        lab's namespace, which has no route beyond the gateway's WAN link.
        """
        done = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.inet_ns,
                sys.executable,
                "-c",
                _WAN_CLIENT,
                host or self.wan_ip,
                str(port),
                str(timeout),
                data.decode("latin-1"),
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout + 30,
        )
        outcome = json.loads(done.stdout)
        if "received" in outcome:
            outcome["received"] = outcome["received"].encode("latin-1")
        return dict(outcome)

    def unread_requests(self, host: str, port: int) -> int:
        """Bytes waiting unread in *host*'s TCP connections on local *port* (``ss``)."""
        listed = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.namespace(host),
                "ss",
                "-Htn",
                "state",
                "established",
                "sport",
                "=",
                f":{port}",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        return sum(int(line.split()[0]) for line in listed.splitlines() if line.strip())

    def wait_quiet(self, sub, timeout: float = 10.0) -> None:
        """Wait until miniupnpd has no NOTIFY in flight to *sub*: it drops a state change that
        happens while one is (never evented; see its upnp_event_var_change_notify)."""
        assert wait_for(lambda: self.connections_to("gw", sub.callback_url) == 0, timeout)

    def connections_to(self, host: str, url: str) -> int:
        """TCP connections *host*'s namespace has open (not yet closed on its side) to *url*.

        For a GENA callback URL: the NOTIFYs the device has in flight. miniupnpd drops a state
        change that happens while a NOTIFY to the same subscriber is in flight (the change is
        never evented), so a test that triggers one waits for this to be 0 first.
        """
        parts = urlsplit(url)
        peers = {f"{parts.hostname}:{parts.port}", f"[::ffff:{parts.hostname}]:{parts.port}"}
        states = ["state", "syn-sent", "state", "established", "state", "close-wait"]
        listed = subprocess.run(
            ["ip", "netns", "exec", self.namespace(host), "ss", "-Htn", *states],
            check=True,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        rows = [line.split() for line in listed.splitlines()]
        return sum(1 for row in rows if row and row[-1] in peers)  # the peer comes last


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.1):
    """Poll *predicate* until it returns something truthy or *timeout* passes; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def next_event(sub, accept, timeout: float = 10.0):
    """The next event of *sub* for which *accept* is true; the others are skipped."""
    deadline = time.monotonic() + timeout
    while True:
        event = sub.get(timeout=max(deadline - time.monotonic(), 0.01))
        if accept(event):
            return event


def next_with(sub, name: str, value, timeout: float = 10.0):
    """The next event of *sub* in which *name* equals *value*; other events are skipped."""
    return next_event(sub, lambda event: event.variables.get(name) == value, timeout)


def add_mapping(wan, lab: Lab, port: int, description: str, protocol: str = "TCP") -> None:
    """Map *port* of the gateway to the same port of the lab's client, for an hour."""
    wan.AddPortMapping(
        NewRemoteHost="",
        NewExternalPort=port,
        NewProtocol=protocol,
        NewInternalPort=port,
        NewInternalClient=lab.client_ip,
        NewEnabled=True,
        NewPortMappingDescription=description,
        NewLeaseDuration=3600,
    )


class TcpServer:
    """A TCP server in the client namespace: answers each connection with the peer's address."""

    def __init__(self, address, port):
        self.sock = socket.create_server((address, port))
        self.sock.settimeout(0.1)
        self.peers = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="wan-target")
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(5)
                conn.recv(100)
                self.peers.append(peer[0])
                conn.sendall(f"hello {peer[0]}".encode())

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()
