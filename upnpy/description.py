"""Device descriptions and SCPDs: bytes in, immutable records out.

Nothing here touches the network: :func:`parse_device` and :func:`parse_scpd` take the
document bytes and the URL they came from and return frozen dataclasses. The proxy layer
(:mod:`upnpy.proxy`) wraps these records with behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional, Tuple, Union

__all__ = [
    "IconInfo",
    "ServiceInfo",
    "DeviceInfo",
    "ArgumentInfo",
    "ActionInfo",
    "StateVariableInfo",
    "ScpdInfo",
    "parse_device",
    "parse_scpd",
]

Number = Union[int, float]


@dataclass(frozen=True)
class IconInfo:
    """One ``<icon>`` of a device; *url* is absolute."""

    mimetype: str
    width: Optional[int]
    height: Optional[int]
    depth: Optional[int]
    url: str


@dataclass(frozen=True)
class ServiceInfo:
    """One ``<service>`` of a device; the URLs are absolute (``""`` when absent)."""

    service_type: str
    service_id: str
    scpd_url: str
    control_url: str
    event_sub_url: str


@dataclass(frozen=True)
class DeviceInfo:
    """One ``<device>``, with its services and embedded devices (a tree)."""

    device_type: str
    friendly_name: str
    manufacturer: str
    model_name: str
    udn: str
    manufacturer_url: Optional[str] = None
    model_description: Optional[str] = None
    model_number: Optional[str] = None
    model_url: Optional[str] = None
    serial_number: Optional[str] = None
    upc: Optional[str] = None
    presentation_url: Optional[str] = None
    icons: Tuple[IconInfo, ...] = ()
    services: Tuple[ServiceInfo, ...] = ()
    devices: Tuple["DeviceInfo", ...] = ()
    #: ``(major, minor)`` of the root's ``specVersion``; ``None`` on embedded devices.
    spec_version: Optional[Tuple[int, int]] = None
    #: the URL that relative URLs were resolved against (URLBase, else the location).
    base_url: str = ""


@dataclass(frozen=True)
class ArgumentInfo:
    """One argument of an action."""

    name: str
    direction: str  # "in" or "out"
    related_state_variable: str
    retval: bool = False


@dataclass(frozen=True)
class ActionInfo:
    """One action: its arguments in SCPD order."""

    name: str
    arguments: Tuple[ArgumentInfo, ...] = ()

    @property
    def in_arguments(self) -> Tuple[ArgumentInfo, ...]:
        return tuple(a for a in self.arguments if a.direction == "in")

    @property
    def out_arguments(self) -> Tuple[ArgumentInfo, ...]:
        return tuple(a for a in self.arguments if a.direction == "out")


@dataclass(frozen=True)
class StateVariableInfo:
    """One state variable: its UPnP type and the constraints on its values.

    *data_type* is lower-cased (``"ui2"``, ``"datetime.tz"`` → see :mod:`upnpy.datatypes`
    for the canonical spellings); *minimum*, *maximum* and *step* are numbers.
    """

    name: str
    data_type: str
    default_value: Optional[str] = None
    allowed_values: Optional[Tuple[str, ...]] = None
    minimum: Optional[Number] = None
    maximum: Optional[Number] = None
    step: Optional[Number] = None
    send_events: bool = True
    multicast: bool = False


@dataclass(frozen=True)
class ScpdInfo:
    """A parsed SCPD: actions and state variables by name, in document order."""

    actions: Mapping[str, ActionInfo] = field(default_factory=lambda: MappingProxyType({}))
    state_variables: Mapping[str, StateVariableInfo] = field(
        default_factory=lambda: MappingProxyType({})
    )


def parse_device(data: bytes, location: str) -> DeviceInfo:
    """Parse a root device description.

    :param data: the description bytes.
    :param location: the URL it was fetched from.
    :raises DescriptionError: when it is not a UPnP device description.
    """
    raise NotImplementedError


def parse_scpd(data: bytes, url: str) -> ScpdInfo:
    """Parse a service description (SCPD).

    :raises DescriptionError: when it is not an SCPD.
    """
    raise NotImplementedError
