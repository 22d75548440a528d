"""Helpers the interop tests share: the lab record, polling, and the lab's daemons."""

import contextlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List, Optional
from urllib.parse import urlsplit

LAB_SH = Path(__file__).resolve().parents[2] / "lab" / "lab.sh"

#: The lab's daemons by host (the namespace suffix), as /proc/PID/comm names them (15 chars).
DAEMONS = {
    "gw": "miniupnpd",
    "dms": "minidlnad",
    "lt": "gupnp-network-l",
    "gw2": "miniupnpd",
    "dmr": "gmediarender",
}

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
    #: The renderer: gmediarender 0.1, MediaRenderer:1 "Lab Renderer" (AVTransport,
    #: RenderingControl, ConnectionManager; description ``http://10.77.0.8:49494/description.xml``).
    #: Its daemon runs on demand (``with lab.running("dmr"):``) unless the lab was built with
    #: ``UPNPY_LAB_DMR=1``.
    dmr_url: str
    #: The title (and file name, less ``.wav``) of the media server's 60 s silent track
    #: (8 kHz mono 16-bit), listed besides the :attr:`tracks` short ones ``upnpy-track-N``.
    long_track: str

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
        """The namespace of *host* (``gw``, ``gw2``, ``dms``, ``lt`` or ``dmr``)."""
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
        """Restart a gateway (``gw``, ``gw2``), the media server (``dms``) or the renderer
        (``dmr``) as ``lab.sh`` does.

        ``lab.sh restart`` stops the daemon if it still runs, starts it with the same command
        line, and returns once it answers (its description; for ``gw2`` an M-SEARCH for
        InternetGatewayDevice:1), or fails after 15 s. The light has no restart: its
        description URL changes at every start.
        """
        self._lab_sh("restart", host)

    def start(self, host: str) -> None:
        """Start *host*'s daemon (``gw``, ``gw2``, ``dms``, ``dmr``) unless it runs; wait till
        it answers."""
        self._lab_sh("start", host)

    def stop(self, host: str) -> None:
        """Stop *host*'s daemon (``gw``, ``gw2``, ``dms``, ``dmr``); return once it is gone."""
        self._lab_sh("stop", host)

    @contextlib.contextmanager
    def running(self, host: str) -> Iterator[None]:
        """*host*'s daemon running inside the block; stopped after it if it was started here.

        For the second gateway (``gw2``) and the renderer (``dmr``), which run on demand:
        outside such a block discovery finds the lab's three usual devices. In a lab built
        with ``UPNPY_LAB_GW2=1`` (``UPNPY_LAB_DMR=1``) it runs all along and is left running.
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

    # --- IPv6 and emulated devices (lab/responder.py). Read from the environment (lab.env),
    # --- so that these need no field of their own.

    @property
    def lan_if(self) -> str:
        """The name of every lab host's LAN interface (``lan0``), the client's too."""
        return lab_env("LAN_IF")

    @property
    def gw_ip6(self) -> str:
        """The gateway's IPv6 ULA address (``fd77::1``); every host N has ``fd77::N``."""
        return lab_env("GW_IP6")

    @property
    def client_ip6(self) -> str:
        return lab_env("CLIENT_IP6")

    @property
    def dms_ip6(self) -> str:
        return lab_env("DMS_IP6")

    @property
    def light_ip6(self) -> str:
        return lab_env("LIGHT_IP6")

    @property
    def dmr_ip(self) -> str:
        """The renderer's address (10.77.0.8; ``fd77::8`` is :attr:`dmr_ip6`)."""
        return lab_env("DMR_IP")

    @property
    def dmr_ip6(self) -> str:
        return lab_env("DMR_IP6")

    @property
    def emu_ns(self) -> str:
        """The emulated devices' namespace (10.77.0.6, ``fd77::6``); empty at ``up``."""
        return lab_env("EMU_NS")

    @property
    def emu_ip(self) -> str:
        return lab_env("EMU_IP")

    @property
    def emu_crowd_ns(self) -> str:
        """The emulated crowd's namespace (10.77.0.7), holding :meth:`emu_crowd_addresses`."""
        return lab_env("EMU_CROWD_NS")

    def emu_crowd_addresses(self, count: int) -> List[str]:
        """The first *count* addresses of the crowd's pool (10.77.16.1, ...; at most
        ``UPNPY_LAB_EMU_CROWD``, 2000 by default), routed from the client via 10.77.0.7."""
        pool = Path(lab_env("EMU_CROWD_FILE")).read_text(encoding="ascii").split()
        if count > len(pool):
            raise ValueError(f"the lab's crowd pool has {len(pool)} addresses, not {count}")
        return pool[:count]

    def responder(
        self,
        addresses: Optional[List[str]] = None,
        namespace: str = "",
        **options: Any,
    ) -> "contextlib.AbstractContextManager[Responder]":
        """Emulated devices (lab/responder.py) running inside a ``with`` block.

        ``with lab.responder(max_age=3) as emu:`` runs one BinaryLight:1 at :attr:`emu_ip`
        in :attr:`emu_ns`; ``lab.responder(lab.emu_crowd_addresses(300),
        lab.emu_crowd_ns)`` runs 300 in one process. *options* are those of
        :func:`responder` (``port``, ``max_age``, ``bootid``, ``configid``, ``name_prefix``,
        ``notify_interval``, ``nofile``, ``timeout``). Two responders in one namespace would
        share port 1900 and the HTTP port: run one per namespace.
        """
        if addresses is None:
            addresses = [self.emu_ip]
        return responder(namespace or self.emu_ns, addresses, **options)


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


# --- emulated devices (lab/responder.py) ----------------------------------------------------

RESPONDER = Path(__file__).resolve().parents[2] / "lab" / "responder.py"


def lab_env(name: str) -> str:
    """The lab variable ``UPNPY_LAB_<name>`` (``lab.env``, exported by ``lab.sh exec``)."""
    try:
        return os.environ[f"UPNPY_LAB_{name}"]
    except KeyError:
        raise RuntimeError(
            f"UPNPY_LAB_{name} is not set: a lab.env from an older lab.sh?"
        ) from None


def emulated_udn(address: str) -> str:
    """The UDN lab/responder.py gives the device at IPv4 *address* (stable, from the address)."""
    number = int.from_bytes(socket.inet_aton(address), "big")
    return f"uuid:00000000-0000-4000-8000-{number:012x}"


class Responder:
    """A running lab/responder.py: one emulated BinaryLight:1 root device per address.

    Made by :func:`responder` (or :meth:`Lab.responder`). Each device has a stable UDN derived
    from its address (:func:`emulated_udn`), friendlyName ``"<name_prefix> <address>"``, its
    description at ``http://<address>:<port>/desc.xml`` and one SwitchPower:1 service
    (GetStatus, GetTarget, SetTarget). It answers M-SEARCH from its own address and sends
    NOTIFY ssdp:alive at start and every *notify_interval* seconds.

    :ivar addresses: the devices' IPv4 addresses, in order.
    :ivar udns: their UDNs, in the same order; :attr:`udn` is the first one.
    :ivar locations: their description URLs; :attr:`location` is the first one.
    :ivar pid: the responder process's pid (in the namespace it runs in).
    :ivar port: the HTTP port of every device.
    :ivar namespace: the network namespace it runs in.
    """

    def __init__(
        self, process: subprocess.Popen, addresses: List[str], port: int, namespace: str
    ) -> None:
        self.process = process
        self.pid = process.pid
        self.addresses = list(addresses)
        self.port = port
        self.namespace = namespace
        self.udns = [emulated_udn(address) for address in addresses]
        self.locations = [f"http://{address}:{port}/desc.xml" for address in addresses]
        self.udn = self.udns[0]
        self.location = self.locations[0]

    @property
    def running(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def stop(self, clean: bool = True, timeout: float = 30.0) -> int:
        """Stop the responder and return its exit status (idempotent).

        :param clean: ``True``: SIGTERM, after which every device multicasts ``ssdp:byebye``
            and the process exits 0; ``False``: SIGKILL, gone without a byebye (a device that
            lost power). Either way, return once the process is gone.
        :param timeout: seconds to wait for a clean exit before killing it.
        """
        if self.running:
            self.process.send_signal(signal.SIGTERM if clean else signal.SIGKILL)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def __repr__(self) -> str:
        return (
            f"<Responder pid {self.pid}: {len(self.addresses)} device(s) from"
            f" {self.addresses[0]} in {self.namespace}>"
        )


@contextlib.contextmanager
def responder(
    namespace: str,
    addresses: List[str],
    *,
    port: int = 8300,
    max_age: int = 1800,
    bootid: int = 1,
    configid: int = 1,
    name_prefix: str = "upnpy emu",
    notify_interval: float = 0.0,
    nofile: int = 0,
    folder: str = "",
    timeout: float = 30.0,
) -> Iterator[Responder]:
    """lab/responder.py running in *namespace* for *addresses* inside the block.

    Returns once every socket is bound and the first NOTIFY ssdp:alive burst is out (its ready
    file). After the block the process is SIGKILLed unless :meth:`Responder.stop` ran; an
    ``atexit`` hook kills it too should the interpreter leave otherwise.

    :param namespace: a namespace of this lab holding *addresses* (``lab.emu_ns``,
        ``lab.emu_crowd_ns``).
    :param addresses: IPv4 addresses of that namespace, one device each.
    :param port: the HTTP port of every device.
    :param max_age: CACHE-CONTROL max-age, seconds.
    :param bootid: BOOTID.UPNP.ORG; *configid*: CONFIGID.UPNP.ORG.
    :param notify_interval: seconds between ssdp:alive rounds; 0: *max_age* / 2.
    :param nofile: the process's RLIMIT_NOFILE (soft and hard); 0 leaves it.
    :param folder: where its ready file and log go (``responder-<pid>.log``); by default the
        lab's folder.
    :param timeout: seconds to wait for it to be ready.
    :raises RuntimeError: when it exits or is not ready in time (with its log's end).
    """
    import atexit
    import functools
    import tempfile

    folder = folder or os.environ.get("UPNPY_LAB") or tempfile.gettempdir()
    ready = os.path.join(folder, f"responder-{os.urandom(6).hex()}.ready")
    command = [
        "ip", "netns", "exec", namespace, sys.executable, str(RESPONDER),
        "--addresses", ",".join(addresses), "--http-port", str(port),
        "--max-age", str(max_age), "--bootid", str(bootid), "--configid", str(configid),
        "--name-prefix", name_prefix, "--notify-interval", str(notify_interval),
        "--ready-file", ready,
    ]  # fmt: skip
    if len(",".join(addresses)) > 4096:  # a long list goes through a file
        listing = ready.replace(".ready", ".addresses")
        Path(listing).write_text("\n".join(addresses) + "\n", encoding="ascii")
        command[command.index("--addresses") + 1] = "@" + listing

    def limit() -> None:
        if nofile:
            import resource

            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    log_path = ready.replace(".ready", ".log")
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, preexec_fn=limit if nofile else None
        )
    hook = functools.partial(_kill_quietly, process)
    atexit.register(hook)
    try:
        deadline = time.monotonic() + timeout
        while not os.path.exists(ready):
            if process.poll() is not None or time.monotonic() > deadline:
                state = "exited" if process.poll() is not None else "not ready in time"
                text = Path(log_path).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"responder {state} ({' '.join(command[:12])}...):\n{text}")
            time.sleep(0.02)
        yield Responder(process, addresses, port, namespace)
    finally:
        hook()
        atexit.unregister(hook)
        with contextlib.suppress(OSError):
            os.unlink(ready)


def _kill_quietly(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)


# --- raw SSDP, for what the tests check without upnpy ----------------------------------------

SSDP_GROUP = "239.255.255.250"


def headers_of(data: bytes) -> dict:
    """The header fields of an SSDP datagram, names upper-cased (the first of each), and its
    start line under ``""``."""
    lines = data.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            fields.setdefault(name.strip().upper(), value.strip())
    fields[""] = lines[0]
    return fields


def raw_msearch(
    st: str,
    destination: str = SSDP_GROUP,
    *,
    mx: int = 1,
    seconds: float = 2.5,
    index: int = 0,
    copies: int = 1,
) -> list:
    """``(sender, headers)`` of every answer to an M-SEARCH from a plain socket.

    *destination* is the IPv4 group (the default), a unicast address, or an IPv6 group
    (``ff02::c``), which goes out on the interface numbered *index*.
    """
    ipv6 = ":" in destination
    host = f"[{destination.upper()}]" if ipv6 else SSDP_GROUP
    request = (
        f'M-SEARCH * HTTP/1.1\r\nHOST: {host}:1900\r\nMAN: "ssdp:discover"\r\n'
        f"MX: {mx}\r\nST: {st}\r\n\r\n"
    ).encode()
    answers = []
    with socket.socket(socket.AF_INET6 if ipv6 else socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        if ipv6:
            sock.bind(("::", 0, 0, index))
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 2)
        target = (destination, 1900, 0, index) if ipv6 else (destination, 1900)
        for _ in range(copies):
            sock.sendto(request, target)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, sender = sock.recvfrom(65536)
            except socket.timeout:
                break
            answers.append((sender[0], headers_of(data)))
    return answers


class GroupListener:
    """A raw socket on 239.255.255.250:1900 joined to the group on the client's LAN interface:
    it hears the devices' NOTIFYs, and (multicast loopback) this host's own M-SEARCHes."""

    def __init__(self, lab: Lab) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((SSDP_GROUP, 1900))
        membership = struct.pack(
            "4s4si", socket.inet_aton(SSDP_GROUP), bytes(4), socket.if_nametoindex(lab.lan_if)
        )
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)

    def collect(self, source: str, seconds: float, until=None, start: bytes = b"NOTIFY") -> list:
        """Headers of the datagrams from *source* whose start line begins with *start*, within
        *seconds* (sooner once *until(got)* is true)."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, sender = self.sock.recvfrom(65536)
            except socket.timeout:
                break
            if sender[0] == source and data.startswith(start + b" "):
                got.append(headers_of(data))
                if until is not None and until(got):
                    break
        return got

    def close(self) -> None:
        self.sock.close()


def raw_items(server: Any, containers: int = 50) -> List[dict]:
    """Every item of a media server (a ``upnpy.Device``), found through the core API only: a
    raw ContentDirectory Browse of each container, breadth first from the root (at most
    *containers* of them), its Result parsed with xmltodict (``dc:title``, ``res`` a list of
    ``{"#text": url, "@duration": ...}``). NumberReturned and TotalMatches must come back as
    ints (ui4)."""
    import xmltodict

    found: List[dict] = []
    queue, seen = ["0"], set()
    while queue and len(seen) < containers:
        object_id = queue.pop(0)
        seen.add(object_id)
        reply = server.ContentDirectory.Browse(
            ObjectID=object_id,
            BrowseFlag="BrowseDirectChildren",
            Filter="*",
            StartingIndex=0,
            RequestedCount=0,
            SortCriteria="",
        )
        assert isinstance(reply["NumberReturned"], int) and isinstance(reply["TotalMatches"], int)
        force = ("container", "item", "res")
        didl = xmltodict.parse(reply["Result"], force_list=force)["DIDL-Lite"]
        queue += [c["@id"] for c in didl.get("container", []) if c["@id"] not in seen]
        found += didl.get("item", [])
    return found
