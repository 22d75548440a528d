"""The immutable records that descriptions and SCPDs are parsed into (a leaf module).

:mod:`upnpy._description` builds them from bytes; :mod:`upnpy._proxy` wraps them with
behaviour; :mod:`upnpy._datatypes` reads :class:`StateVariableInfo` to check and convert values.
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
    "Number",
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
    """One ``<device>``, with its services and embedded devices (a tree).

    Required texts are ``""`` when the device omits them; optional ones are ``None`` when
    absent or empty. Every URL is absolute (resolved against :attr:`base_url`).
    """

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
    devices: Tuple[DeviceInfo, ...] = ()
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

    *data_type* is the canonical spelling (``"ui2"``, ``"dateTime.tz"``; see
    :func:`upnpy.datatypes.canonical_type`), or an unknown type as written (treated as
    ``string``); *minimum*, *maximum* and *step* are numbers (int when written as one).
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
