"""Devices, services and actions as Python objects, built at run time from descriptions.

A :class:`Device` wraps a parsed :class:`~upnpy.DeviceInfo`; its services are
attributes (``router.WANIPConnection``); a :class:`Service` reads its SCPD on first use and
turns each action into an :class:`Action`, a callable with a real signature and docstring.
"""

from __future__ import annotations

import datetime
import difflib
import inspect
import keyword
import logging
import threading
import types
import warnings
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Protocol,
    Tuple,
    Union,
)

from . import _datatypes, _http, _soap
from ._description import index_scpd, parse_device, parse_scpd
from ._exceptions import DescriptionError, UPnPError, UPnPWarning
from ._gena import DEFAULT_DURATION
from ._reader import Unusual
from ._records import (
    ActionInfo,
    ArgumentInfo,
    DeviceInfo,
    IconInfo,
    ScpdInfo,
    ServiceInfo,
    StateVariableInfo,
)
from ._transport import Transport, as_transport, fetch

if TYPE_CHECKING:
    import requests

    from ._subscription import Event, Subscription

__all__ = ["Device", "Service", "Action"]

log = logging.getLogger("upnpy")

#: The largest device description or SCPD accepted, in bytes.
MAX_DESCRIPTION = 2 << 20


class Documents(Protocol):
    """Where a device finds SCPDs it has already seen (the discovery cache), by absolute URL."""

    def get(self, url: str) -> Optional[bytes]:
        """The stored document, or ``None``."""

    def put(self, url: str, data: bytes) -> None:
        """Remember a document just fetched."""


def _short_type(urn: str) -> Tuple[str, str]:
    """``urn:...:service:WANIPConnection:2`` → ``("WANIPConnection", "2")``."""
    parts = urn.split(":")
    if len(parts) >= 5 and parts[0].lower() == "urn":
        return parts[3], parts[4]
    if len(parts) >= 2 and parts[-1].isdigit():
        return parts[-2], parts[-1]
    return urn, ""


def _service_id_name(service_id: str) -> str:
    """The id after ``:serviceId:`` (``SwitchPower:1`` for GUPnP, ``WANIPConn1`` for IGD)."""
    _, sep, tail = service_id.partition(":serviceId:")
    return tail if sep else service_id.rpartition(":")[2]


class Action:
    """One UPnP action of a service, callable like a Python function.

    Calling it checks every argument against its state variable (type, range, allowed
    values), posts the SOAP request, and returns the out-arguments as a dict of Python
    values. Missing or unknown argument names raise :class:`TypeError`; a value rejected
    before sending, :class:`ValidationError`; the device's fault, :class:`ActionError`; a
    failure below UPnP, :class:`TransportError`.

    Each action's docstring and signature are made when first read, not with the action
    (they cost more than a call): the first look at either makes them, and makes the action
    an instance of its own subclass (see :func:`_own_type`), so that introspection finds them
    on its type as well.
    """

    __signature__: inspect.Signature  # made on first read (_Introspected)

    def __init__(
        self, service: Service, info: ActionInfo, variables: Mapping[str, StateVariableInfo]
    ) -> None:
        self.service = service
        self.info = info
        self.name = self.__name__ = info.name
        self.__qualname__ = f"{service.name}.{info.name}"
        self.__module__ = "upnpy"
        self._in = tuple((arg, _variable_for(service, arg, variables)) for arg in info.in_arguments)
        self._params = _parameter_names(self, [arg.name for arg, _ in self._in])
        self._out = tuple(
            (arg, _variable_for(service, arg, variables)) for arg in info.out_arguments
        )
        self._caller: Optional[_soap.Caller] = None  # made on the first call

    def _introspect(self) -> None:
        """Make the action's signature and docstring, and give it its own subclass."""
        state = self.__dict__
        state["__signature__"] = inspect.Signature(
            [
                inspect.Parameter(
                    param,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    annotation=_datatypes.python_type(var),
                )
                for param, (arg, var) in zip(self._params, self._in)
            ],
            return_annotation=Dict[str, Any],
        )
        state["__doc__"] = self._make_doc()
        if type(self) is Action:
            self.__class__ = _own_type(self)

    # pydoc and IPython document "routines" with their signature; a non-data descriptor
    # counts as one (inspect.ismethoddescriptor), so help(action) shows the real docs.
    def __get__(self, obj: Any, objtype: Any = None) -> Action:
        return self

    @property
    def in_arguments(self) -> Tuple[ArgumentInfo, ...]:
        return self.info.in_arguments

    @property
    def out_arguments(self) -> Tuple[ArgumentInfo, ...]:
        return self.info.out_arguments

    def __call__(self, *args: Any, **kwargs: Any) -> Dict[str, Any]:
        # No docstring: the action's own (self.__doc__) says it, and IPython would show
        # this one as a second "Call docstring".
        values = self._bind(args, kwargs)
        sent = [
            (arg.name, _datatypes.encode(values[param], var, argument=arg.name))
            for param, (arg, var) in zip(self._params, self._in)
        ]
        device = self.service.device
        caller = self._caller
        if caller is None:  # the first call (an action name that is no XML name: refused)
            service = self.service
            caller = self._caller = _soap.Caller(
                service.control_url, service.service_type, self.name
            )
        return self._decode(caller(device._transport, sent, timeout=device._timeout))

    def _bind(self, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """The arguments by parameter name; a wrong name is a :class:`TypeError` naming the
        action and the closest real name (checked first: it explains the missing one)."""
        if not args and len(kwargs) == len(self._params) and all(p in kwargs for p in self._params):
            return kwargs  # every argument by name, as UPnP calls are usually written
        parameters = self.__signature__.parameters
        unknown = next((key for key in kwargs if key not in parameters), None)
        if unknown is not None:
            raise TypeError(self._unexpected(unknown, list(parameters)))
        try:
            return self.__signature__.bind(*args, **kwargs).arguments
        except TypeError as exc:  # missing or too many: Python's words, our action's name
            message = f"{self.name}() {exc}"
        raise TypeError(message)

    def _unexpected(self, key: str, names: List[str]) -> str:
        message = f"{self.name}() got an unexpected keyword argument {key!r}"
        by_lower = {name.lower(): name for name in names}
        guess = (
            by_lower.get(key.lower())  # newexternalport
            or by_lower.get("new" + key.lower())  # ExternalPort: IGD names start with New
            or next(iter(difflib.get_close_matches(key, names, n=1)), None)
        )
        return f"{message}; did you mean {guess!r}?" if guess else message

    def _decode(self, raw: Mapping[str, Optional[str]]) -> Dict[str, Any]:
        result: Dict[str, Any] = {}
        for arg, var in self._out:
            if arg.name not in raw:
                warnings.warn(
                    f"{self.__qualname__}: the device left out the out-argument {arg.name}",
                    UPnPWarning,
                    stacklevel=3,
                )
                result[arg.name] = None
                continue
            result[arg.name] = _datatypes.decode(
                raw[arg.name], var, context=f"{self.__qualname__}.{arg.name}", stacklevel=4
            )
        for name, value in raw.items():  # extra out-arguments: kept, raw
            if name not in result:
                log.debug("%s: extra out-argument %s kept raw", self.__qualname__, name)
                result[name] = value
        return result

    def _make_doc(self) -> str:
        # No signature line: pydoc and IPython print __signature__ above the docstring.
        lines = [
            f"Call {self.name} of {self.service.service_type} on the device.",
            "",
        ]
        for arg, var in self._in:
            lines.append(f":param {arg.name}: {_datatypes.describe(var)}")
        if self._out:
            outs = ", ".join(f"{arg.name} ({_datatypes.describe(var)})" for arg, var in self._out)
            lines.append(f":returns: a dict with {outs}")
        else:
            lines.append(":returns: an empty dict")
        lines += [
            ":raises ValidationError: an argument is rejected before anything is sent",
            ":raises ActionError: the device answered with a UPnP fault",
            ":raises TransportError: the exchange failed below UPnP",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        params = ", ".join(arg.name for arg, _ in self._in)
        return f"<Action {self.__qualname__}({params})>"

    def _repr_html_(self) -> str:
        from ._display import action_html

        return action_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from ._display import action_text, pretty

        pretty(printer, self, cycle, lambda: action_text(self))


class _Introspected:
    """An action's ``__doc__`` or ``__signature__``, made on first read (see
    :meth:`Action._introspect`); read on the class, the class's own (its docstring)."""

    def __init__(self, name: str, on_class: Optional[str]) -> None:
        self.name = name
        self.on_class = on_class

    def __get__(self, obj: Optional[Action], owner: Any = None) -> Any:
        if obj is None:
            return self.on_class
        state = obj.__dict__
        if self.name not in state:
            obj._introspect()
        return state[self.name]

    def __set__(self, obj: Action, value: Any) -> None:  # a data descriptor: looked up first
        obj.__dict__[self.name] = value


# Set after the class body, so that Action's own docstring stays where a reader looks for it.
setattr(Action, "__doc__", _Introspected("__doc__", Action.__doc__))  # noqa: B010
setattr(Action, "__signature__", _Introspected("__signature__", None))  # noqa: B010


def _own_type(action: Action) -> type:
    """A subclass of :class:`Action` for *action* alone, with its docstring and signature.

    IPython's ``action?`` shows, besides the object's own docstring and signature, its class's
    docstring and its ``__call__``'s signature when they differ: for one shared class those
    would be the generic text and ``(*args, **kwargs)``. Here they are the action's own, so
    it shows them once; the subclass lives in this module, which is the file it reports.
    """
    signature = action.__signature__
    first = "self"
    while first in signature.parameters:  # an argument may be called self (bound away anyway)
        first += "_"
    self_param = inspect.Parameter(first, inspect.Parameter.POSITIONAL_ONLY)
    # A copy of Action.__call__ (same code: no extra frame, so warnings still point at the
    # caller's line) that can carry this action's signature.
    base = Action.__call__
    call = types.FunctionType(base.__code__, base.__globals__, base.__name__)
    call.__qualname__ = base.__qualname__
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_param, *signature.parameters.values()]
    )
    call.__doc__ = ""  # not None: inspect would fall back to a base class's docstring
    namespace = {
        # The same text plus a newline: IPython compares docstrings cleaned (equal: the class's
        # is not shown again), pydoc compares them raw (different: help() shows the action's
        # own instead of taking it for one inherited from the class and leaving it out).
        "__doc__": f"{action.__doc__}\n",
        "__call__": call,
        "__module__": __name__,
        "__qualname__": "Action",
        "__slots__": (),
    }
    return type("Action", (Action,), namespace)


def _variable_for(
    service: Service, arg: ArgumentInfo, variables: Mapping[str, StateVariableInfo]
) -> StateVariableInfo:
    """The state variable that types *arg*; an unknown one is treated as a string."""
    var = variables.get(arg.related_state_variable)
    if var is None:
        warnings.warn(
            f"{service.name}: argument {arg.name} names an unknown state variable "
            f"{arg.related_state_variable!r}; treated as string",
            UPnPWarning,
            stacklevel=4,
        )
        var = StateVariableInfo(name=arg.related_state_variable or arg.name, data_type="string")
    return var


def _parameter_name(name: str) -> str:
    """A Python parameter name for a UPnP argument name (``from`` → ``from_``)."""
    if not name.isidentifier():
        name = "".join(c if ("_" + c).isidentifier() else "_" for c in name)
        name = "_" + name if not name or name[0].isdigit() else name
    return name + "_" if keyword.iskeyword(name) else name


def _parameter_names(action: Action, names: List[str]) -> Tuple[str, ...]:
    """Distinct parameter names for the in-arguments, in order: two arguments whose names
    meet after cleaning (``New-Value``, ``New_Value``) or repeat get ``_2``, ``_3``... and a
    :class:`UPnPWarning`, so that a hostile or sloppy SCPD still gives a callable action."""
    taken: List[str] = []
    for name in names:
        param = base = _parameter_name(name)
        number = 1
        while param in taken:
            number += 1
            param = f"{base}_{number}"
        if param != base:
            warnings.warn(
                f"{action.__qualname__}: argument {name!r} is called {param} in Python "
                f"({base} is taken)",
                UPnPWarning,
                stacklevel=5,
            )
        taken.append(param)
    return tuple(taken)


class _ItemsAsAttributes:
    """``obj.name`` is ``obj["name"]``, as an :class:`AttributeError` when missing.

    Names starting with ``_`` are refused at once, with no lookup and so no network I/O:
    IPython, pickle and copy probe ``_ipython_canary_method_should_not_exist_``,
    ``_repr_html_`` and dunders. So is everything before ``_READY`` is set, so that a
    half-built object (``cls.__new__(cls)``) never recurses.
    """

    _READY = ""

    def __getitem__(self, name: str) -> Any:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or self._READY not in self.__dict__:
            raise _attribute_error(name, name, self)
        try:
            return self[name]
        except KeyError as exc:
            raise _attribute_error(exc.args[0], name, self) from None


class Service(_ItemsAsAttributes):
    """One service of a device; its actions are attributes.

    The SCPD is fetched on first use of :attr:`actions`, :attr:`state_variables`, an
    action attribute or ``dir()``; a failure there raises :class:`DescriptionError` and
    leaves the device's other services usable.
    """

    _READY = "info"

    def __init__(self, info: ServiceInfo, device: Device) -> None:
        self.info = info
        self.device = device
        self.name, self.version = _short_type(info.service_type)
        self._lock = threading.Lock()
        self._scpd: Optional[ScpdInfo] = None
        # The SCPD before it is read whole: its bytes, whether the device's documents have
        # them, and whether the first action was looked for alone (the first call's path).
        self._data: Optional[bytes] = None
        self._stored = False
        self._indexed = False
        self._built: Dict[str, Action] = {}  # by name, as they are first used
        self._actions: Optional[Mapping[str, Action]] = None  # all of them, once listed

    @property
    def service_type(self) -> str:
        """The full serviceType URN."""
        return self.info.service_type

    @property
    def service_id(self) -> str:
        """The serviceId."""
        return self.info.service_id

    @property
    def control_url(self) -> str:
        """The absolute controlURL."""
        return self.info.control_url

    @property
    def event_sub_url(self) -> str:
        """The absolute eventSubURL (``""`` when the service sends no events)."""
        return self.info.event_sub_url

    @property
    def scpd_url(self) -> str:
        """The absolute SCPDURL."""
        return self.info.scpd_url

    def _load(self) -> ScpdInfo:
        """The parsed SCPD, fetched (or taken from the device's documents) on first use."""
        scpd = self._scpd
        if scpd is not None:
            return scpd
        with self._lock:
            if self._scpd is None:
                self._scpd = self._parsed()
                self._data = None  # read: no longer needed
            return self._scpd

    def _first(self, name: str) -> Optional[Action]:
        """The first action used, read alone with the state variables of its arguments from
        a plain SCPD (:class:`~upnpy._description.ScpdIndex`): what a first call needs.
        ``None`` when the SCPD is not plain or has no such action: then it is read whole, as
        it is for the next action (the index, a whole tree, is not kept)."""
        with self._lock:
            if self._scpd is not None or self._indexed:
                return None
            self._indexed = True
            index = index_scpd(self._document(), self.scpd_url)
            if index is not None:
                self._keep()
            try:
                info = index.action(name) if index is not None else None
                if index is None or info is None:
                    return None
                variables = {}
                for arg in info.arguments:
                    variable = index.variable(arg.related_state_variable)
                    if variable is not None:
                        variables[variable.name] = variable
            except Unusual:  # parse_scpd reads it, and warns about what it tolerates
                return None
            action = self._built[name] = Action(self, info, variables)
            return action

    def _action(self, info: ActionInfo, variables: Mapping[str, StateVariableInfo]) -> Action:
        """The :class:`Action` for *info*, built on first use: a first call builds only its
        own action (and a warning about an action comes when that action is used)."""
        action = self._built.get(info.name)
        if action is None:
            with self._lock:
                action = self._built.get(info.name)
                if action is None:
                    action = self._built[info.name] = Action(self, info, variables)
        return action

    def _document(self) -> bytes:
        """The SCPD's bytes, with the lock held: the device's stored copy, else fetched."""
        if self._data is None:
            if not self.scpd_url:
                raise DescriptionError(f"service {self.service_type} has no SCPDURL")
            documents = self.device._documents
            stored = documents.get(self.scpd_url) if documents is not None else None
            self._stored = stored is not None
            self._data = stored if stored is not None else self._fetch()
        return self._data

    def _fetch(self) -> bytes:
        device = self.device
        return fetch(
            device._transport, self.scpd_url, timeout=device._timeout, limit=MAX_DESCRIPTION
        )

    def _parsed(self) -> ScpdInfo:
        """The whole SCPD, with the lock held; a stored copy that no longer parses is fetched."""
        data = self._document()
        try:
            scpd = parse_scpd(data, self.scpd_url)
        except DescriptionError as exc:
            if not self._stored:
                raise
            log.info("stored SCPD of %s not used: %s", self.service_type, exc)
            self._stored, data = False, self._fetch()
            self._data = data
            scpd = parse_scpd(data, self.scpd_url)
        self._keep()
        return scpd

    def _keep(self) -> None:
        """Hand an SCPD just fetched, and read, to the device's documents (the cache)."""
        documents = self.device._documents
        if not self._stored and self._data is not None and documents is not None:
            documents.put(self.scpd_url, self._data)
            self._stored = True

    @property
    def actions(self) -> Mapping[str, Action]:
        """The actions by name (read-only), in SCPD order; fetches the SCPD on first use."""
        actions = self._actions
        if actions is None:
            scpd = self._load()
            variables = scpd.state_variables
            built = {name: self._action(info, variables) for name, info in scpd.actions.items()}
            actions = self._actions = MappingProxyType(built)
        return actions

    @property
    def state_variables(self) -> Mapping[str, StateVariableInfo]:
        """The state variables by name (read-only); fetches the SCPD on first use."""
        return self._load().state_variables

    def subscribe(
        self,
        callback: Optional[Callable[[Event], Any]] = None,
        timeout: Union[float, datetime.timedelta] = DEFAULT_DURATION,
        auto_renew: bool = True,
        *,
        callback_url: Optional[str] = None,
        bind: Optional[Tuple[str, int]] = None,
    ) -> Subscription:
        """Subscribe to this service's events (GENA) and return a :class:`~upnpy.Subscription`.

        Events are read with ``sub.get(timeout=...)`` or ``for event in sub``, and passed
        to *callback* (on a thread of their own) when one is given. Leaving ``with
        service.subscribe() as sub:`` unsubscribes. A callback server is started on first
        use, on the local address that routes to the device.

        :param callback: called as ``callback(event)`` for every :class:`~upnpy.Event`; an
            exception it raises is logged and the subscription goes on.
        :param timeout: the subscription duration to ask for, in seconds (an int is sent;
            the device may grant another, see ``sub.timeout``).
        :param auto_renew: renew in the background at half the granted time.
        :param callback_url: the URL to advertise instead of ours (Docker, NAT); the server
            then listens on that URL's port.
        :param bind: ``(host, port)`` the callback server listens on instead.
        :returns: the live :class:`~upnpy.Subscription` (the initial event is on its way).
        :raises SubscriptionError: when the device refuses or cannot be reached, or the
            callback server cannot listen.
        :raises ValueError: for a *timeout* under 1 s or a malformed *callback_url*.
        """
        from ._subscription import subscribe  # GENA's threads and server load on first use

        device = self.device
        return subscribe(
            self,
            self.event_sub_url,
            device._transport,
            device._timeout,
            self._event_types(),
            callback,
            timeout,
            auto_renew,
            callback_url=callback_url,
            bind=bind,
        )

    def _event_types(self) -> Mapping[str, StateVariableInfo]:
        """The state variables that type event values; none (values kept as text) without SCPD."""
        try:
            return self.state_variables
        except UPnPError as exc:
            log.warning("%r: no SCPD (%s); event values are kept as text", self, exc)
            return MappingProxyType({})

    def __getitem__(self, name: str) -> Action:
        action = self._built.get(name)
        if action is not None:
            return action
        if self._scpd is None:
            action = self._first(name)
            if action is not None:
                return action
        scpd = self._load()
        info = scpd.actions.get(name)
        if info is None:
            raise KeyError(f"{self.name} has no action {name!r}; it has: {', '.join(scpd.actions)}")
        return self._action(info, scpd.state_variables)

    def __dir__(self) -> List[str]:
        names = list(super().__dir__())
        try:
            names += list(self._load().actions)
        except Exception as exc:  # completion must never raise
            log.debug("dir(%r): SCPD unavailable: %s", self, exc)
        return names

    def __repr__(self) -> str:
        return f"<Service {self.name}:{self.version} of {self.device.friendly_name!r}>"

    def _repr_html_(self) -> str:  # reads the SCPD (device timeout); a failure is shown
        from ._display import service_html

        return service_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from ._display import pretty, service_text

        pretty(printer, self, cycle, lambda: service_text(self))


_HAS_NAME_KW = True
try:
    AttributeError("x", name="x", obj=None)
except TypeError:  # Python < 3.10
    _HAS_NAME_KW = False


def _attribute_error(message: str, name: str, obj: Any) -> AttributeError:
    return AttributeError(message, name=name, obj=obj) if _HAS_NAME_KW else AttributeError(message)


class Device(_ItemsAsAttributes):
    """A UPnP device, from its description URL.

    ``Device(url)`` fetches and parses the description at once (SCPDs are fetched per
    service on first use). Services anywhere in the tree are attributes or items::

        router.WANIPConnection
        router["WANIPConnection:2"]
        router["urn:upnp-org:serviceId:WANIPConn1"]

    :param location: the URL of the root device description.
    :param timeout: seconds (or a ``(connect, read)`` pair) for every request to this
        device; default ``(5, 30)``, since UDA gives a device 30 s to answer an action.
    :param session: a :class:`requests.Session` to use for every request — descriptions,
        SOAP and GENA (for auth, TLS, proxies or headers); by default upnpy's own
        keep-alive client is used (see :mod:`upnpy._transport`). It is closed with the device.
    :raises DescriptionError: when the description cannot be fetched or parsed.
    """

    _READY = "services"

    def __init__(
        self,
        location: str,
        *,
        timeout: Optional[_http.Timeout] = None,
        session: Optional[requests.Session] = None,
    ) -> None:
        transport = as_transport(session)
        try:
            data = fetch(transport, location, timeout=timeout, limit=MAX_DESCRIPTION)
            info = parse_device(data, location)
        except BaseException:
            transport.close()
            raise
        self._setup(info, location, transport, timeout)

    @classmethod
    def from_info(
        cls,
        info: DeviceInfo,
        location: str,
        *,
        timeout: Optional[_http.Timeout] = None,
        session: Optional[requests.Session] = None,
        transport: Optional[Transport] = None,
        documents: Optional[Documents] = None,
    ) -> Device:
        """Build a device from an already parsed description (no network I/O).

        *transport* (used by :func:`upnpy.discover`) takes precedence over *session*;
        *documents* hands over SCPDs already known (the discovery cache) and keeps the ones
        fetched later.
        """
        device = cls.__new__(cls)
        device._setup(info, location, transport or as_transport(session), timeout, documents)
        return device

    def _setup(
        self,
        info: DeviceInfo,
        location: str,
        transport: Transport,
        timeout: Optional[_http.Timeout],
        documents: Optional[Documents] = None,
    ) -> None:
        self.info = info
        self.location = location
        self._transport = transport
        self._timeout = timeout
        self._documents = documents
        self.services: Tuple[Service, ...] = tuple(Service(s, self) for s in info.services)
        self.devices: Tuple[Device, ...] = tuple(
            Device.from_info(d, location, timeout=timeout, transport=transport, documents=documents)
            for d in info.devices
        )

    @property
    def friendly_name(self) -> str:
        """The friendlyName (``""`` when the device gives none)."""
        return self.info.friendly_name

    @property
    def device_type(self) -> str:
        """The deviceType URN."""
        return self.info.device_type

    @property
    def udn(self) -> str:
        """The unique device name, ``uuid:...``."""
        return self.info.udn

    @property
    def manufacturer(self) -> str:
        """The manufacturer (``""`` when the device gives none)."""
        return self.info.manufacturer

    @property
    def manufacturer_url(self) -> Optional[str]:
        """The absolute manufacturerURL, or ``None``."""
        return self.info.manufacturer_url

    @property
    def model_name(self) -> str:
        """The modelName (``""`` when the device gives none)."""
        return self.info.model_name

    @property
    def model_number(self) -> Optional[str]:
        """The modelNumber, or ``None``."""
        return self.info.model_number

    @property
    def model_description(self) -> Optional[str]:
        """The modelDescription, or ``None``."""
        return self.info.model_description

    @property
    def model_url(self) -> Optional[str]:
        """The absolute modelURL, or ``None``."""
        return self.info.model_url

    @property
    def serial_number(self) -> Optional[str]:
        """The serialNumber, or ``None``."""
        return self.info.serial_number

    @property
    def presentation_url(self) -> Optional[str]:
        """The absolute presentationURL, or ``None``."""
        return self.info.presentation_url

    @property
    def icons(self) -> Tuple[IconInfo, ...]:
        return self.info.icons

    @property
    def all_services(self) -> Tuple[Service, ...]:
        """This device's services, then every embedded device's, depth first."""
        return self.services + tuple(s for d in self.devices for s in d.all_services)

    def walk(self) -> Iterator[Device]:
        """This device and every embedded device, depth first."""
        yield self
        for device in self.devices:
            yield from device.walk()

    def _matches(self, key: str) -> List[Service]:
        found = []
        for service in self.all_services:
            names = {
                service.service_type,
                f"{service.name}:{service.version}",
                service.name,
                service.service_id,
                _service_id_name(service.service_id),
            }
            if key in names:
                found.append(service)
        return found

    def __getitem__(self, key: str) -> Service:
        """The service called *key* anywhere in the tree.

        *key* may be the serviceType (``urn:...:WANIPConnection:2``), its name with or
        without version (``WANIPConnection:2``, ``WANIPConnection``), the serviceId, or the
        serviceId's id part (``WANIPConn1``).

        :raises KeyError: when no service or more than one matches (candidates named).
        """
        found = self._matches(key)
        if len(found) == 1:
            return found[0]
        if not found:
            known = ", ".join(f"{s.name}:{s.version}" for s in self.all_services) or "none"
            raise KeyError(f"{self.friendly_name!r} has no service {key!r}; services: {known}")
        candidates = "; ".join(
            f"{s.service_id} ({s.service_type}) in {s.device.friendly_name!r} {s.device.udn},"
            f" control {s.control_url}"
            for s in found
        )
        raise KeyError(f"{key!r} is ambiguous in {self.friendly_name!r}; candidates: {candidates}")

    def __dir__(self) -> List[str]:
        """The attributes, and one name per service: its type name (``WANIPConnection``),
        else its serviceId's id part (``WANIPConn1``) when only that one is unambiguous. The
        other aliases still work for lookup; they are left out so that Tab lists each
        service once."""
        names = set(super().__dir__())
        for service in self.all_services:
            for candidate in (service.name, _service_id_name(service.service_id)):
                if candidate.isidentifier() and len(self._matches(candidate)) == 1:
                    names.add(candidate)
                    break
        return sorted(names)

    def __repr__(self) -> str:
        kind, version = _short_type(self.device_type)
        return f"<Device {self.friendly_name!r} {kind}:{version} at {self.location}>"

    def _repr_html_(self) -> str:  # makes no request (the browser fetches the icon)
        from ._display import device_html

        return device_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from ._display import device_text, pretty

        pretty(printer, self, cycle, lambda: device_text(self))

    def close(self) -> None:
        """Close the device's HTTP connections (idempotent)."""
        self._transport.close()  # a session handed in is closed with it

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
