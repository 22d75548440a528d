"""AV ``LastChange`` values (RenderingControl, AVTransport events) expanded per variable."""

from __future__ import annotations

import re
from typing import Any, Dict, Mapping, Optional, Union

from . import _datatypes
from ._exceptions import XMLError
from ._records import StateVariableInfo
from ._xml import children, parse_xml, text

__all__ = ["parse_last_change"]


def parse_last_change(
    value: Union[str, bytes], state_variables: Optional[Mapping[str, StateVariableInfo]] = None
) -> Dict[Any, Dict[str, Any]]:
    """Expand an AV ``LastChange`` value into ``{InstanceID: {variable: value}}``.

    ``<Event><InstanceID val="0"><Volume channel="Master" val="10"/>
    <TransportState val="PLAYING"/></InstanceID></Event>`` gives
    ``{0: {"Volume": {"Master": "10"}, "TransportState": "PLAYING"}}``: a variable with a
    ``channel`` attribute becomes ``{channel: value}``. Values stay text unless
    *state_variables* (``service.state_variables``) is given to convert them.

    :param value: the ``LastChange`` text of an event (or its bytes).
    :raises ValueError: when *value* is not a LastChange document.
    """
    try:
        if isinstance(value, str):  # already decoded: drop a declaration naming another encoding
            value = re.sub(r"^\s*<\?xml[^>]*\?>", "", value).encode("utf-8")
        doc = parse_xml(value)
    except UnicodeEncodeError as exc:  # a lone surrogate: not text a device could have sent
        raise ValueError(f"LastChange: not Unicode text: {exc.reason}") from None
    except XMLError as exc:  # a ValueError, as documented, without the internal class
        raise ValueError(f"LastChange: {exc}") from None
    name, root = next(iter(doc.items()))
    if name != "Event":
        raise ValueError(f"LastChange: root element is {name!r}, not Event")
    result: Dict[Any, Dict[str, Any]] = {}
    for instance in children(root, "InstanceID"):
        if not isinstance(instance, dict):
            continue
        key = str(instance.get("@val", "")).strip()
        number = key.isascii() and key.isdigit() and len(key) <= 10  # a ui4, else kept as text
        variables = result.setdefault(int(key) if number else key, {})
        for var, nodes in instance.items():
            if var.startswith(("@", "#")):
                continue
            for node in nodes if isinstance(nodes, list) else [nodes]:
                raw = node.get("@val", text(node)) if isinstance(node, dict) else text(node)
                info = (state_variables or {}).get(var)
                decoded = _datatypes.decode(raw, info, context="LastChange") if info else raw
                channel = node.get("@channel") if isinstance(node, dict) else None
                if channel is None:
                    variables[var] = decoded
                else:
                    held = variables.get(var)
                    variables[var] = {**(held if isinstance(held, dict) else {}), channel: decoded}
    return result
