"""upnpy's main job, on the built-in test LAN: discover, describe, call.

Run by `make demo`, inside the lab's client namespace (lab/lab.sh exports UPNPY_LAB_*).
"""

import os
import subprocess
import sys
import time

import upnpy

BOLD, PLAIN = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")  # colour: a terminal only


def title(text):
    print(f"\n{BOLD}== {text}{PLAIN}")


def show(expr, value):
    print(f">>> {expr}\n{value!r}")


def nat_rules():
    gw_ns = os.environ["UPNPY_LAB_GW_NS"]
    out = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            gw_ns,
            "nft",
            "list",
            "chain",
            "inet",
            "filter",
            "prerouting_miniupnpd",
        ],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return [line.strip() for line in out.splitlines() if "dnat" in line] or ["(no DNAT rules)"]


def main():
    client = os.environ.get("UPNPY_LAB_CLIENT_IP")
    if not client:
        sys.exit("run me through `make demo` (inside the lab's client namespace)")

    title("Discover every device on the LAN (SSDP, 3 s)")
    devices = upnpy.discover(timeout=3)
    for device in devices:
        print(f"  {device!r}")

    title("A device is a tree of devices and services")
    router = next(d for d in devices if "InternetGatewayDevice" in d.device_type)

    def tree(device, indent="  "):
        print(f"{indent}{device.friendly_name}  [{device.device_type.split(':')[-2]}]")
        for service in device.services:
            print(f"{indent}  · {service.name}  ({service.service_id})")
        for child in device.devices:
            tree(child, indent + "    ")

    tree(router)

    title("Services are attributes; actions are methods read from the SCPD")
    wan = router.WANIPConnection
    show("router.WANIPConnection", wan)
    show("router.WANIPConnection.AddPortMapping", wan.AddPortMapping)
    print(">>> help(wan.AddPortMapping)  # (the generated docstring)")
    print("    " + wan.AddPortMapping.__doc__.replace("\n", "\n    "))
    show("wan.GetExternalIPAddress()", wan.GetExternalIPAddress())
    show("wan.GetStatusInfo()", wan.GetStatusInfo())

    title("Map a port: the gateway's nftables NAT chain really changes")
    wan.AddPortMapping(
        NewRemoteHost="",
        NewExternalPort=8080,
        NewProtocol="TCP",
        NewInternalPort=8080,
        NewInternalClient=client,
        NewEnabled=True,
        NewPortMappingDescription="upnpy demo <&>",
        NewLeaseDuration=3600,
    )
    print("  nft:", *nat_rules(), sep="\n    ")
    show(
        'wan.GetSpecificPortMappingEntry("", 8080, "TCP")',
        wan.GetSpecificPortMappingEntry("", 8080, "TCP"),
    )
    wan.DeletePortMapping(NewRemoteHost="", NewExternalPort=8080, NewProtocol="TCP")
    print("  after DeletePortMapping, nft:", *nat_rules(), sep="\n    ")

    title("Errors are specific")
    try:
        wan.GetSpecificPortMappingEntry(NewRemoteHost="", NewExternalPort=8080, NewProtocol="TCP")
    except upnpy.ActionError as exc:
        print(f"  ActionError: code={exc.code} description={exc.description!r}")
    try:
        wan.AddPortMapping("", 70000, "TCP", 70000, client, True, "too big", 0)
    except upnpy.ValidationError as exc:
        print(f"  ValidationError (nothing sent): {exc}")

    title("The light (GUPnP) and the media server (minidlna)")
    light = next(d for d in devices if "DimmableLight" in d.device_type)
    light.SwitchPower.SetTarget(newTargetValue=True)
    light.Dimming.SetLoadLevelTarget(newLoadlevelTarget=60)
    show("light.SwitchPower.GetStatus()", light.SwitchPower.GetStatus())
    show("light.Dimming.GetLoadLevelStatus()", light.Dimming.GetLoadLevelStatus())
    media = next(d for d in devices if "MediaServer" in d.device_type)
    reply = media.ContentDirectory.Browse("0", "BrowseDirectChildren", "*", 0, 10, "")
    show('media.ContentDirectory.Browse("0", ...)["NumberReturned"]', reply["NumberReturned"])

    title("Media: a track of the media server, played on the renderer (gmediarender)")
    library = upnpy.MediaServer(media)
    tracks = library.search('upnp:class derivedfrom "object.item.audioItem"')
    for track in tracks:
        res = track.resources[0]
        print(f"  {track.title:<14} {res.duration:>5} s  {res.mime_type}  {res.url}")
    tv = upnpy.MediaRenderer.find("Lab Renderer")
    longest = max(tracks, key=lambda track: track.resources[0].duration or 0)
    with tv.subscribe() as sub:
        tv.play(longest.resources[0].url, title=longest.title)
        for event in sub:  # until the renderer says it plays
            state = event.variables.get("TransportState")
            if state is not None:
                print(f"  event: {event.service} TransportState={state}")
            if state == "PLAYING":
                break
    time.sleep(2)
    show("tv.state, tv.position, tv.duration", (tv.state, tv.position, tv.duration))
    tv.stop()
    show("tv.stop(); tv.state", tv.state)
    tv.close()


if __name__ == "__main__":
    main()
