"""SOAP 1.1 control: build the envelope, send it, turn the answer into out-arguments or a fault.

:func:`build_envelope` and :func:`parse_response` are pure; :func:`call` adds the HTTP
exchange through a :class:`~upnpy.transport.Transport` (see that module for why the
default one is not requests).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _xml
from ._errors import translate
from ._exceptions import ActionError, TransportError, ValidationError
from ._http import Timeout, as_timeout
from ._transport import Reply, Transport, as_transport

if TYPE_CHECKING:
    import requests

__all__ = ["MAX_RESPONSE", "build_envelope", "parse_response", "call", "Caller"]

#: The largest SOAP response accepted, in bytes.
MAX_RESPONSE = 1 << 20

_ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_ENCODING_NS = "http://schemas.xmlsoap.org/soap/encoding/"
_HEAD = (
    f'<?xml version="1.0"?><s:Envelope xmlns:s="{_ENVELOPE_NS}" '
    f's:encodingStyle="{_ENCODING_NS}"><s:Body>'
)
_TAIL = "</s:Body></s:Envelope>"
_CONTENT_TYPE = 'text/xml; charset="utf-8"'

_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\r": "&#13;"}
)
# Characters XML 1.0 cannot carry at all, even escaped (lone surrogates cannot be UTF-8).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NAME = re.compile(r"[^\W\d][\w.-]*\Z")


def _escape(value: str, argument: Optional[str] = None) -> str:
    bad = _NOT_XML.search(value)
    if bad:
        message = f"character U+{ord(bad.group()):04X} cannot be sent in XML"
        raise ValidationError(message, argument=argument, value=value)
    return value.translate(_ESCAPES)


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise ValidationError(f"{name!r} is not a valid XML element name for {what}", argument=name)


def build_envelope(service_type: str, action: str, arguments: Sequence[Tuple[str, str]]) -> bytes:
    """The SOAP request body for one action, as compact UTF-8 XML.

    :param service_type: the exact ``serviceType`` of the description, version included.
    :param action: the action name.
    :param arguments: ``(name, value)`` pairs of every in-argument, in SCPD order; the values
        are already UPnP text (an empty string is sent as ``<Name></Name>``).
    :returns: the envelope; its ``len`` is the Content-Length.
    :raises ValidationError: for a name that is not an XML name, or a value holding a
        character XML cannot carry (NUL and most other control characters).
    """
    return _envelope(*_wrapping(service_type, action), arguments).encode("utf-8")


def _envelope(opening: str, closing: str, arguments: Sequence[Tuple[str, str]]) -> str:
    parts = [opening]
    for name, value in arguments:
        _check_name(name, "an argument")
        parts.append(f"<{name}>{_escape(value, name)}</{name}>")
    parts.append(closing)
    return "".join(parts)


@functools.lru_cache(maxsize=256)
def _wrapping(service_type: str, action: str) -> Tuple[str, str]:
    """What an envelope for *action* has before and after its arguments (cached: a device's
    actions repeat; a refused name or type raises again every time)."""
    _check_name(action, "an action")
    opening = f'{_HEAD}<u:{action} xmlns:u="{_escape(service_type)}">'
    return opening, f"</u:{action}>{_TAIL}"


def _elements(node: Any) -> Dict[str, Any]:
    """The child elements of an xmltodict node (attributes and text left out)."""
    if not isinstance(node, dict):
        return {}
    return {key: value for key, value in node.items() if not key.startswith(("@", "#"))}


def _raw_text(node: Any) -> str:
    """An out-argument's text; markup a device forgot to escape is serialised back."""
    if isinstance(node, list):  # the same out-argument twice: the first wins
        node = node[0]
    inner = _elements(node)
    if inner:
        import xmltodict  # loaded by _xml already

        return xmltodict.unparse(inner, full_document=False)
    return _xml.text(node, strip=False) or ""


def _find_holder(node: Any, name: str) -> Optional[Mapping[str, Any]]:
    """The first mapping, depth first, that has a child called *name*."""
    if isinstance(node, list):
        for item in node:
            found = _find_holder(item, name)
            if found is not None:
                return found
    elif isinstance(node, dict):
        if name in node:
            return node
        for key, value in node.items():
            if not key.startswith(("@", "#")):
                found = _find_holder(value, name)
                if found is not None:
                    return found
    return None


def _fault_error(fault: Any, action: str) -> ActionError:
    upnp_error = _find_holder(fault, "errorCode")  # detail/UPnPError, whatever its prefix
    if upnp_error is None:
        return ActionError(None, _xml.text(fault, "faultstring", "") or "", action=action)
    raw_code = _xml.text(upnp_error, "errorCode") or ""
    try:
        code: Optional[int] = int(raw_code)
    except ValueError:
        code = None
    return ActionError(code, _xml.text(upnp_error, "errorDescription", "") or "", action=action)


def _plain_out_arguments(
    body: bytes, action: str, holes: Optional[List[Optional[Tuple[int, int]]]] = None
) -> Optional[List[Tuple[str, str]]]:
    """The out-arguments of a plain, well-formed response in one expat pass, else ``None``.

    The hot path of every call: a well-formed ``Envelope/Body/<action>Response/<arg>text``
    document (any prefixes) is read straight from expat's events, about four times faster
    than building the whole tree. Anything else — a fault, a DTD or comment, nested markup,
    another response name, garbage — returns ``None``, and :func:`parse_response` takes the
    lenient path, which has the last word. *holes*: see :func:`upnpy._xml.leaf_texts`.
    """
    if b"<!" in body:  # DOCTYPE, CDATA, comments: leave them to the lenient parser
        return None
    wanted = action + "Response"
    return _xml.leaf_texts(body, ("Envelope", "Body", wanted), markup=False, holes=holes)


def _by_name(texts: List[Tuple[str, str]]) -> Dict[str, Optional[str]]:
    """Out-arguments by name, in the device's order; a repeated one: the first wins."""
    out: Dict[str, Optional[str]] = {}
    for name, value in texts:
        out.setdefault(name, value)
    return out


def parse_response(
    body: bytes, action: str, *, url: str = "", status: int = 200
) -> Dict[str, Optional[str]]:
    """The out-arguments of a SOAP response, by name, as raw text.

    The response element is found by its local name ``<action>Response`` whatever its prefix,
    namespace or case; failing that the first child of Body is used, unless it is the
    response to another action (``<OtherResponse>``): that is an error naming both.
    Unknown out-arguments are kept; missing ones are simply absent; an empty one is ``""``.

    :param body: the HTTP body; BOM, NUL bytes and trailing garbage are tolerated.
    :param action: the action name.
    :param url: the control URL, for error messages.
    :param status: the HTTP status, carried by a :class:`TransportError`.
    :returns: ``{name: text}`` in the order the device sent them.
    :raises ActionError: when Body holds a Fault (whatever *status* is).
    :raises TransportError: when *body* is not a SOAP envelope with a response in it.
    """
    fast = _plain_out_arguments(body, action)
    if fast is not None:
        return _by_name(fast)
    where = url or None
    with translate(where, status=status):
        envelope = _xml.parse_xml(body, url=where, strip_whitespace=False).get("Envelope")
    if not isinstance(envelope, dict) or "Body" not in envelope:
        raise TransportError("not a SOAP envelope", url=where, status=status)
    soap_body = _xml.child(envelope, "Body")
    if isinstance(soap_body, dict) and "Fault" in soap_body:
        raise _fault_error(_xml.child(soap_body, "Fault"), action)
    elements = _elements(soap_body)
    if not elements:
        raise TransportError("the SOAP Body holds no response element", url=where, status=status)
    wanted = action + "Response"
    name = wanted if wanted in elements else None  # exact, else in another case
    name = name or next((key for key in elements if key.lower() == wanted.lower()), None)
    if name is None:  # another element: the first will do, unless it answers another action
        name = next(iter(elements))
        if name.lower().endswith("response"):
            raise TransportError(
                f"the answer is {name!r}, not {wanted!r}: a reply to another action",
                url=where,
                status=status,
            )
    with translate(where, status=status):
        parents = ("Envelope", "Body", name)
        exact = _xml.leaf_texts(_xml.prepare(body, url=where), parents, markup=True)
    if exact is not None:  # markup a device forgot to escape stays where it was
        return _by_name(exact)
    out_args = _elements(_xml.child(soap_body, name))
    return {key: _raw_text(value) for key, value in out_args.items()}


def _interpret(reply: Reply, action: str, url: str) -> Dict[str, Optional[str]]:
    """Out-arguments for a 2xx; otherwise the fault in the body, or else the HTTP status."""
    status = reply.status
    if 200 <= status < 300:
        return parse_response(reply.body, action, url=url, status=status)
    try:
        parse_response(reply.body, action, url=url, status=status)
    except TransportError:
        pass  # no fault in the body: the HTTP status is all there is
    raise TransportError(f"HTTP {status} {reply.reason}".rstrip(), url=url, status=status)


class Caller:
    """One action of one service, ready to be called again and again.

    The parts of its request that do not change are built once: the envelope around the
    arguments, the header fields, and the whole body when the action has no in-arguments.
    The answers are read by :func:`parse_response`'s rules, and the bytes of the last plain
    one are remembered as a :class:`~upnpy._xml.Template`: a device answers an action with
    the same bytes but for the values, and an answer that matches the template is read by
    comparing bytes, without a parse. One is made per :class:`~upnpy.Action`; thread-safe.

    :raises ValidationError: when *action* is not an XML name.
    """

    def __init__(self, control_url: str, service_type: str, action: str) -> None:
        self.control_url = control_url
        self.action = action
        self._opening, self._closing = _wrapping(service_type, action)
        self._soap_action = f'"{service_type}#{action}"'
        self._plain = _headers(self._opening + self._closing, self._soap_action)
        self._template: Optional[_xml.Template] = None

    def __call__(
        self,
        transport: Union[Transport, requests.Session],
        arguments: Sequence[Tuple[str, str]],
        *,
        timeout: Optional[Timeout] = None,
    ) -> Dict[str, Optional[str]]:
        """Invoke the action with *arguments*; see :func:`call`."""
        if arguments:
            envelope = _envelope(self._opening, self._closing, arguments)
            body, headers = _headers(envelope, self._soap_action)
        else:
            body, headers = self._plain
        limits = as_timeout(timeout)
        link = as_transport(transport)
        url = self.control_url
        reply = link.exchange("POST", url, headers, body, limits, MAX_RESPONSE)
        try:
            return self._read(reply)
        except TransportError as exc:
            if exc.status != 405:
                raise
        extension = {"MAN": f'"{_ENVELOPE_NS}"; ns=01', "01-SOAPACTION": self._soap_action}
        fields = {name: value for name, value in headers.items() if name != "SOAPAction"}
        reply = link.exchange("M-POST", url, {**fields, **extension}, body, limits, MAX_RESPONSE)
        return self._read(reply)

    def _read(self, reply: Reply) -> Dict[str, Optional[str]]:
        """Out-arguments for a 2xx; otherwise the fault in the body, or else the HTTP status."""
        if 200 <= reply.status < 300:
            body = reply.body
            template = self._template
            texts = template.read(body) if template is not None else None
            if texts is None:
                holes: List[Optional[Tuple[int, int]]] = []
                texts = _plain_out_arguments(body, self.action, holes)
                if texts is None:
                    url, status = self.control_url, reply.status
                    return parse_response(body, self.action, url=url, status=status)
                self._template = _xml.Template.learn(body, texts, holes)
            return _by_name(texts)
        return _interpret(reply, self.action, self.control_url)


def _headers(envelope: str, soap_action: str) -> Tuple[bytes, Dict[str, str]]:
    """A request's body and header fields, for *envelope*."""
    body = envelope.encode("utf-8")
    headers = {"Content-Type": _CONTENT_TYPE, "Content-Length": str(len(body))}
    return body, {**headers, "SOAPAction": soap_action}


def call(
    transport: Union[Transport, requests.Session],
    control_url: str,
    service_type: str,
    action: str,
    arguments: Sequence[Tuple[str, str]],
    *,
    timeout: Optional[Timeout] = None,
) -> Dict[str, Optional[str]]:
    """Invoke *action* on a device and return its out-arguments as raw text.

    A POST answered with 405 is sent once more as M-POST (UDA 1.0's HTTP Extension
    Framework). The whole exchange ends within about ``connect + 2 * read`` seconds of
    *timeout* (twice that when the M-POST retry happens). To call one action again and
    again, a :class:`Caller` does the same with less work per call.

    :param transport: how to reach the device (a :class:`~upnpy.transport.Transport`, or a
        :class:`requests.Session`, which is wrapped in a
        :class:`~upnpy.transport.RequestsTransport`).
    :param control_url: the absolute controlURL of the service.
    :param service_type: the exact ``serviceType`` of the description.
    :param action: the action name.
    :param arguments: ``(name, value)`` pairs of every in-argument, in SCPD order.
    :param timeout: seconds, or a ``(connect, read)`` pair; default ``(5, 30)``.
    :returns: ``{name: text}``, as :func:`parse_response` gives.
    :raises ValidationError: for a name or value that cannot be put in the envelope.
    :raises ActionError: when the device answers with a UPnP fault (HTTP 500 or even 200).
    :raises TransportError: for a connection failure, a timeout, a body over
        :data:`MAX_RESPONSE` bytes, a status without a fault, or a reply that is not SOAP.
    """
    caller = Caller(control_url, service_type, action)
    return caller(transport, arguments, timeout=timeout)
