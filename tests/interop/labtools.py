"""Helpers the interop tests share: the lab record and polling."""

import subprocess
import time
from dataclasses import dataclass


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

    def nft_nat_rules(self) -> str:
        """The gateway's miniupnpd NAT chain, as ``nft`` lists it."""
        return subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                self.gw_ns,
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


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.1):
    """Poll *predicate* until it returns something truthy or *timeout* passes; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
