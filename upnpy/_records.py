"""The immutable records that descriptions and SCPDs are parsed into (a leaf module).

:mod:`upnpy._description` builds them from bytes; :mod:`upnpy._proxy` wraps them with
behaviour; :mod:`upnpy._datatypes` reads :class:`StateVariableInfo` to check and convert values.
upnpy's frozen records are made with :func:`record`, defined here: a frozen dataclass to the
outside, created without compiling code (the public named tuple ``DeviceChange`` and the
classes compared by identity stay as they were).
"""

from __future__ import annotations

import dataclasses
from dataclasses import FrozenInstanceError, field
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ClassVar,
    Dict,
    FrozenSet,
    Mapping,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
)

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**kwargs: Any) -> Callable[[Any], Any]:
        return lambda decorated: decorated


__all__ = [
    "Record",
    "record",
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


_R = TypeVar("_R", bound=type)
_MISSING = dataclasses.MISSING


class Record:
    """What a :func:`record` class does: the methods a frozen dataclass generates, written
    once here, so that creating a record class compiles no code (``import upnpy`` creates
    a dozen of them, and :func:`dataclasses.dataclass` compiles six functions for each)."""

    __slots__ = ()
    _names: ClassVar[Tuple[str, ...]]
    _known: ClassVar[FrozenSet[str]]
    _shown: ClassVar[Tuple[str, ...]]
    _defaults: ClassVar[Dict[str, Any]]
    _factories: ClassVar[Dict[str, Callable[[], Any]]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._names
        if kwargs:  # every field by name is the usual call, and the fast one
            if args or len(kwargs) != len(names) or not self._known.issuperset(kwargs):
                kwargs = self._complete(args, kwargs)
            self.__dict__.update(kwargs)
        elif len(args) == len(names):
            self.__dict__.update(zip(names, args))
        else:
            self.__dict__.update(self._complete(args, kwargs))

    @classmethod
    def _complete(cls, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """Every field's value by name, as the generated ``__init__`` would take them."""
        names = cls._names
        if len(args) > len(names):
            raise TypeError(
                f"{cls.__name__}() takes {len(names)} arguments but {len(args)} were given"
            )
        values = dict(zip(names, args))
        for name in kwargs:
            if name not in cls._known:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
        values.update(kwargs)
        for name in names:
            if name not in values:
                if name in cls._defaults:
                    values[name] = cls._defaults[name]
                elif name in cls._factories:
                    values[name] = cls._factories[name]()
                else:
                    raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
        return values

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def _values(self) -> Tuple[Any, ...]:
        state = self.__dict__
        return tuple(state[name] for name in self._names)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: _R) -> _R:
    """Make *cls* (a subclass of :class:`Record`) an immutable record: a frozen dataclass to
    :func:`dataclasses.fields`, :func:`~dataclasses.replace`, :func:`~dataclasses.asdict` and
    type checkers, with equality, hashing and a repr by its fields, created without
    compiling code. Fields are declared as for a dataclass (defaults, ``field(repr=False)``,
    ``field(default_factory=...)``)."""
    made: Type[Any] = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(made)
    made._names = tuple(f.name for f in fields)
    made._known = frozenset(made._names)
    made._shown = tuple(f.name for f in fields if f.repr)
    made._defaults = {f.name: f.default for f in fields if f.default is not _MISSING}
    made._factories = {
        f.name: f.default_factory for f in fields if f.default_factory is not _MISSING
    }
    return cls


@record
class IconInfo(Record):
    """One ``<icon>`` of a device; *url* is absolute."""

    mimetype: str
    width: Optional[int]
    height: Optional[int]
    depth: Optional[int]
    url: str


@record
class ServiceInfo(Record):
    """One ``<service>`` of a device; the URLs are absolute (``""`` when absent)."""

    service_type: str
    service_id: str
    scpd_url: str
    control_url: str
    event_sub_url: str


@record
class DeviceInfo(Record):
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


@record
class ArgumentInfo(Record):
    """One argument of an action."""

    name: str
    direction: str  # "in" or "out"
    related_state_variable: str
    retval: bool = False


@record
class ActionInfo(Record):
    """One action: its arguments in SCPD order."""

    name: str
    arguments: Tuple[ArgumentInfo, ...] = ()

    @property
    def in_arguments(self) -> Tuple[ArgumentInfo, ...]:
        return tuple(a for a in self.arguments if a.direction == "in")

    @property
    def out_arguments(self) -> Tuple[ArgumentInfo, ...]:
        return tuple(a for a in self.arguments if a.direction == "out")


@record
class StateVariableInfo(Record):
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


@record
class ScpdInfo(Record):
    """A parsed SCPD: actions and state variables by name, in document order."""

    actions: Mapping[str, ActionInfo] = field(default_factory=lambda: MappingProxyType({}))
    state_variables: Mapping[str, StateVariableInfo] = field(
        default_factory=lambda: MappingProxyType({})
    )
