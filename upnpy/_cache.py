"""The discovery cache: what ``discover(cache=...)`` remembers about root devices between runs.

One JSON file holds, per root device (by UDN): its LOCATION, the SSDP facts it was found
with (responder address, SERVER, BOOTID/CONFIGID, max-age), the description bytes, the types
and UDNs of its tree (to match a search target without parsing), and the SCPDs fetched so
far. The file is untrusted like any device: read with size caps, every field checked, and a
corrupt or foreign file is ignored with a :class:`~upnpy.UPnPWarning`, never an exception.
Writes go to a temporary file renamed over the old one (atomic), merged with what another
process may have written meanwhile, and bounded in size.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tempfile
import threading
import warnings
from dataclasses import field, replace
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple, Union

from ._exceptions import UPnPWarning
from ._http import url_problem
from ._records import Record, record
from ._ssdp import answers_search

__all__ = ["Entry", "Store", "cache_path", "configid_of"]

#: The file's ``format`` and ``version``; anything else is a foreign file.
FORMAT = "upnpy-device-cache"
VERSION = 1
#: Name of the file inside the cache folder.
FILE_NAME = "devices.json"
#: Root devices kept; the ones confirmed longest ago go first.
MAX_ENTRIES = 256
#: The largest cache file read or written, in bytes.
MAX_FILE = 16 << 20
#: SCPDs kept per device, and the largest description or SCPD kept.
MAX_SCPDS = 64
MAX_DOCUMENT = 1 << 20

CachePath = Union[bool, str, "os.PathLike[str]"]

_CONFIGID = re.compile(rb"<(?:\w+:)?root\b[^>]*?\bconfigId\s*=\s*[\"']\s*([0-9]{1,10})\s*[\"']")


def configid_of(description: bytes) -> Optional[int]:
    """The ``configId`` attribute of a description's root element (UDA 1.1), or ``None``."""
    match = _CONFIGID.search(description[:4096])
    if match is None:
        return None
    number = int(match.group(1))
    return number if number < 2**31 else None


def cache_path(cache: CachePath) -> Optional[Path]:
    """The cache file for discover's *cache* argument, or ``None`` for no cache.

    ``True`` is ``$XDG_CACHE_HOME/upnpy/devices.json`` (``~/.cache/upnpy/...`` without
    it); a path names the file, or a folder to hold ``devices.json``.
    """
    if cache is False or cache is None:
        return None
    if cache is True:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        return Path(base, "upnpy", FILE_NAME)
    if isinstance(cache, (str, os.PathLike)):
        path = Path(cache)
        return path / FILE_NAME if path.is_dir() else path
    raise TypeError(f"cache must be a bool or a path, not {type(cache).__name__}")


@record
class Entry(Record):
    """One root device as the cache remembers it.

    :ivar udn: the root device's UDN.
    :ivar location: the description URL.
    :ivar address: the IP address that answered the search (``""`` when unknown).
    :ivar server: the ``SERVER`` header.
    :ivar bootid: ``BOOTID.UPNP.ORG``, or ``None``.
    :ivar configid: ``CONFIGID.UPNP.ORG`` (or the description's ``configId``), or ``None``.
    :ivar max_age: the announcement's max-age in seconds, or ``None``.
    :ivar description: the description document, as fetched.
    :ivar types: every deviceType and serviceType in the tree.
    :ivar udns: every UDN in the tree.
    :ivar scpds: the SCPDs fetched so far, by absolute URL.
    :ivar seen: when the device was last confirmed (``time.time()``).
    """

    udn: str
    location: str
    address: str
    server: str
    bootid: Optional[int]
    configid: Optional[int]
    max_age: Optional[int]
    description: bytes = field(repr=False)
    types: Tuple[str, ...] = field(repr=False)
    udns: Tuple[str, ...] = field(repr=False)
    scpds: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    seen: float = 0.0

    def matches(self, st: str) -> bool:
        """Whether this device answers an M-SEARCH for *st*."""
        return answers_search(st, self.types, self.udns)

    def to_json(self) -> Dict[str, Any]:
        data = {name: getattr(self, name) for name in _SCALARS}
        data["description"] = _b64(self.description)
        data["types"] = list(self.types)
        data["udns"] = list(self.udns)
        data["scpds"] = {url: _b64(doc) for url, doc in self.scpds.items()}
        return data


_SCALARS = ("udn", "location", "address", "server", "bootid", "configid", "max_age", "seen")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str) or len(text) > MAX_DOCUMENT * 4 // 3 + 4:
        raise ValueError("not a stored document")
    return base64.b64decode(text, validate=True)


def _optional_int(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise ValueError(f"not a 31-bit number: {value!r}")
    return value


def _text(value: Any, limit: int = 2048) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError("not a short string")
    return value


def _strings(value: Any) -> Tuple[str, ...]:
    if not isinstance(value, list) or len(value) > 4096:
        raise ValueError("not a list of strings")
    return tuple(_text(item) for item in value)


def _entry(data: Any) -> Entry:
    """An :class:`Entry` from its JSON form; :class:`ValueError` for anything off."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    location = _text(data.get("location"))
    problem = url_problem(location)
    if problem is not None or not location.lower().startswith(("http://", "https://")):
        raise ValueError(f"bad location {location[:80]!r}")
    scpds = data.get("scpds", {})
    if not isinstance(scpds, dict) or len(scpds) > MAX_SCPDS:
        raise ValueError("bad scpds")
    seen = data.get("seen", 0.0)
    if isinstance(seen, bool) or not isinstance(seen, (int, float)):
        raise ValueError("bad seen")
    udn = _text(data.get("udn"))
    if not udn:
        raise ValueError("no udn")
    return Entry(
        udn=udn,
        location=location,
        address=_text(data.get("address", "")),
        server=_text(data.get("server", "")),
        bootid=_optional_int(data.get("bootid")),
        configid=_optional_int(data.get("configid")),
        max_age=_optional_int(data.get("max_age")),
        description=_unb64(data.get("description")),
        types=_strings(data.get("types", [])),
        udns=_strings(data.get("udns", [])),
        scpds={_text(url): _unb64(doc) for url, doc in scpds.items()},
        seen=float(seen),
    )


def _read(path: Path) -> Tuple[Dict[str, Entry], Optional[str]]:
    """The entries of the file at *path*, and what was wrong with it (``None``: nothing)."""
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_FILE + 1)
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"cannot be read ({exc})"
    if len(raw) > MAX_FILE:
        return {}, f"is over {MAX_FILE} bytes"
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return {}, f"is not JSON ({exc})"
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}, "is not an upnpy device cache"
    if data.get("version") != VERSION:
        return {}, f"has version {data.get('version')!r}, not {VERSION}"
    devices = data.get("devices")
    if not isinstance(devices, list):
        return {}, "has no device list"
    entries: Dict[str, Entry] = {}
    bad, problem = 0, ""
    for item in devices[:MAX_ENTRIES]:
        try:
            entry = _entry(item)
        except (ValueError, binascii.Error) as exc:
            bad += 1
            problem = str(exc)
            continue
        entries[entry.udn] = entry
    return entries, (f"has {bad} unusable entries (e.g. {problem})" if bad else None)


def _write(path: Path, entries: Iterable[Entry]) -> None:
    """Write *entries* (newest first, cut to the size caps) atomically to *path*."""
    ordered = sorted(entries, key=lambda entry: entry.seen, reverse=True)[:MAX_ENTRIES]
    while True:
        document = {"format": FORMAT, "version": VERSION, "devices": [e.to_json() for e in ordered]}
        text = json.dumps(document, separators=(",", ":")).encode("utf-8")
        if len(text) <= MAX_FILE or not ordered:
            break
        ordered = ordered[: len(ordered) * 3 // 4]  # drop the oldest quarter and try again
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".devices-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class Store:
    """The cache file of one ``discover()`` call: read once, changed in memory, saved once.

    Devices built from it keep using it (as their :class:`~upnpy._proxy.Documents`): an
    SCPD fetched later is added to the file then.

    :param path: the cache file (see :func:`cache_path`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        entries, problem = _read(path)
        if problem is not None:
            _warn(f"device cache {path} {problem}; it is ignored")
        self._entries = entries
        self._changed: Set[str] = set()
        self._forgotten: Set[str] = set()

    def matching(self, st: str) -> List[Entry]:
        """The cached root devices that answer a search for *st*, newest first."""
        with self._lock:
            found = [entry for entry in self._entries.values() if entry.matches(st)]
        return sorted(found, key=lambda entry: entry.seen, reverse=True)

    def get_entry(self, udn: str) -> Optional[Entry]:
        with self._lock:
            return self._entries.get(udn)

    def remember(self, entry: Entry) -> None:
        """Add or replace the entry for ``entry.udn`` (saved by :meth:`save`)."""
        if len(entry.description) > MAX_DOCUMENT:
            return
        with self._lock:
            self._entries[entry.udn] = entry
            self._changed.add(entry.udn)
            self._forgotten.discard(entry.udn)

    def forget(self, udn: str) -> None:
        with self._lock:
            if self._entries.pop(udn, None) is not None:
                self._forgotten.add(udn)
                self._changed.discard(udn)

    def documents(self, udn: str) -> _Documents:
        """The SCPD store for the device *udn* (see :class:`~upnpy._proxy.Documents`)."""
        return _Documents(self, udn)

    def _add_scpd(self, udn: str, url: str, data: bytes) -> None:
        with self._lock:
            entry = self._entries.get(udn)
            if entry is None or len(data) > MAX_DOCUMENT or len(entry.scpds) >= MAX_SCPDS:
                return
            self._entries[udn] = replace(entry, scpds={**entry.scpds, url: data})
            self._changed.add(udn)

    def save(self) -> None:
        """Write the changes, merged into the file as it is now; a failure is a warning."""
        with self._lock:
            if not self._changed and not self._forgotten:
                return
            current, _ = _read(self.path)  # another process may have written meanwhile
            for udn in self._forgotten:
                current.pop(udn, None)
            for udn in self._changed:
                current[udn] = self._entries[udn]
            self._changed.clear()
            self._forgotten.clear()
            try:
                _write(self.path, current.values())
            except OSError as exc:
                _warn(f"device cache {self.path} not written: {exc}")


class _Documents:
    """One device's SCPDs in a :class:`Store`; a new one is saved to the file at once."""

    def __init__(self, store: Store, udn: str) -> None:
        self._store = store
        self._udn = udn

    def get(self, url: str) -> Optional[bytes]:
        entry = self._store.get_entry(self._udn)
        return None if entry is None else entry.scpds.get(url)

    def put(self, url: str, data: bytes) -> None:
        self._store._add_scpd(self._udn, url, data)
        self._store.save()


def _warn(message: str) -> None:
    warnings.warn(message, UPnPWarning, stacklevel=4)
