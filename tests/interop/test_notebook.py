"""The rich display as a person sees it: tests/notebook/upnpy-lab.ipynb run in a real kernel.

nbclient starts an ipykernel from this process, so inside the lab's client namespace (where
``make test`` runs pytest); the notebook describes the lab's light and gateway, maps a port,
subscribes to events, and shows a device whose friendlyName is ``<script>``. The executed
notebook is exported to HTML with nbconvert (light and dark JupyterLab themes) and checked;
``make notebook-shot`` renders those files in headless Chromium (tests/notebook/shot.py).

The files are written to ``$UPNPY_NOTEBOOK_OUT`` when it is set, else to a temporary folder.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebook" / "upnpy-lab.ipynb"
HOSTILE = "<script>alert('pwned')</script>"

pytestmark = pytest.mark.lab


class Scripts(HTMLParser):
    """The text of every <script> element of a page."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.scripts: List[str] = []
        self._inside = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._inside = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.scripts[-1] += data


@pytest.fixture(scope="module")
def executed(lab, tmp_path_factory):
    """The notebook, executed in a kernel inside the lab, and where its HTML exports went."""
    out = Path(os.environ.get("UPNPY_NOTEBOOK_OUT") or tmp_path_factory.mktemp("notebook"))
    out.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=30,
        kernel_name="python3",
        resources={"metadata": {"path": str(out)}},
    )
    client.execute()
    pages = {}
    for theme in ("light", "dark"):
        exporter = HTMLExporter(template_name="lab", theme=theme)
        page, _ = exporter.from_notebook_node(notebook)
        suffix = "" if theme == "light" else "-dark"
        (out / f"upnpy-lab{suffix}.html").write_text(page, encoding="utf-8")
        pages[theme] = page
    nbformat.write(notebook, out / "upnpy-lab.ipynb")
    return notebook, pages


def outputs(notebook) -> Dict[str, List[dict]]:
    return {cell["id"]: cell.get("outputs", []) for cell in notebook.cells}


def html_of(notebook, cell_id: str) -> str:
    (rich,) = [
        out["data"]["text/html"]
        for out in outputs(notebook)[cell_id]
        if out["output_type"] == "execute_result"
    ]
    return rich


def test_every_cell_ran_without_an_error(executed):
    notebook, _ = executed
    for cell_id, cell_outputs in outputs(notebook).items():
        for out in cell_outputs:
            assert out["output_type"] != "error", f"{cell_id}: {out.get('evalue')}"
            assert out.get("name") != "stderr", f"{cell_id}: {out.get('text')}"


def test_the_light_is_a_device_tree_with_its_icon(executed, lab):
    notebook, _ = executed
    rich = html_of(notebook, "light")
    for words in ("upnpy lab light", "DimmableLight:1", "SwitchPower:1", "Dimming:1", "uuid:"):
        assert words in rich
    icon = re.search(r'<img src="([^"]+)"', rich)
    assert icon and icon.group(1).startswith(f"http://{lab.light_ip}:")


def test_a_service_action_and_gateway(executed):
    notebook, _ = executed
    service = html_of(notebook, "service")
    assert "SetTarget" in service and "newTargetValue" in service and "Evented" in service
    action = html_of(notebook, "action")
    assert "Dimming.SetLoadLevelTarget(newLoadlevelTarget: int) -&gt; dict" in action
    assert "0..100" in action
    router = html_of(notebook, "router")
    assert "InternetGatewayDevice:2" in router and "WANIPConnection:2" in router


def test_port_mappings_are_a_table_with_escaped_descriptions(executed, lab):
    notebook, _ = executed
    rich = html_of(notebook, "mappings")
    assert "<table" in rich and f"{lab.wan_ip}:28771" in rich
    assert f"{lab.client_ip}:28771" in rich
    assert "notebook &lt;b&gt;test&lt;/b&gt;" in rich and "<b>test</b>" not in rich


def test_subscription_and_event(executed):
    notebook, _ = executed
    assert "active" in html_of(notebook, "subscription")
    event = html_of(notebook, "event")
    assert "SEQ 0" in event and "Status" in event
    assert "cancelled" in html_of(notebook, "unsubscribe")


def test_markup_from_a_device_stays_text_in_the_exported_page(executed):
    notebook, pages = executed
    rich = html_of(notebook, "hostile")
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in rich
    assert HOSTILE not in rich
    for page in pages.values():
        assert HOSTILE not in page
        assert not [s for s in Scripts(page).scripts if "pwned" in s]
        assert "upnpy lab light" in page and "upnpy-device" in page


def test_a_browse_result_is_a_table_of_tracks(executed, lab):
    notebook, _ = executed
    rich = html_of(notebook, "media")
    assert "<table" in rich and lab.long_track in rich and "0:01:00" in rich
    assert f'href="http://{lab.dms_ip}:8200/MediaItems/' in rich
