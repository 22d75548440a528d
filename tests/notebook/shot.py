"""Render an exported notebook (a local HTML file) to a PNG with headless Chromium, offline.

    python tests/notebook/shot.py PAGE.html SHOT.png [--width 1100] [--height 2600]

Chromium loads only the ``file://`` page. It runs in a network namespace of its own with no
interface up (``unshare --net``, as root), and is also pointed at a proxy on a closed loopback
port with name resolution off: a device's icon (``http://10.77.0.x/...``) or a theme's web font
is not fetched, it just fails. Without root (no ``unshare``) only the second guard applies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List

#: Flags that keep Chromium quiet on the network and independent of the machine's profile.
OFFLINE = [
    "--proxy-server=http://127.0.0.1:9",  # port 9 (discard) is closed: every fetch fails
    "--proxy-bypass-list=<-loopback>",  # loopback goes through that proxy too
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("shot.py: no chromium found (apt-get install -y chromium)")


def command(page: Path, shot: Path, width: int, height: int, profile: str) -> List[str]:
    browser = [
        chromium(),
        "--headless",
        "--disable-gpu",
        "--no-sandbox",  # root, and a namespace of its own anyway
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        f"--screenshot={shot}",
        *OFFLINE,
        page.resolve().as_uri(),
    ]
    if os.geteuid() == 0 and shutil.which("unshare"):
        return ["unshare", "--net", "--", *browser]
    return browser


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the exported notebook (.html)")
    parser.add_argument("shot", type=Path, help="the PNG to write")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=2600)
    args = parser.parse_args()
    if not args.page.is_file():
        sys.exit(f"shot.py: no such page: {args.page}")
    args.shot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="upnpy-shot-") as profile:
        run = subprocess.run(
            command(args.page, args.shot.resolve(), args.width, args.height, profile),
            capture_output=True,
            text=True,
            timeout=120,
        )
    if run.returncode != 0 or not args.shot.is_file():
        sys.stderr.write(run.stderr)
        return run.returncode or 1
    print(f"shot.py: {args.shot} ({args.width}x{args.height}) from {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
