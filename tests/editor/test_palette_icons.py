"""The catalogue gives the palette an icon for each chat service, and every icon is a file the editor serves."""

from __future__ import annotations

from pathlib import Path

from flomation.editor import catalogue

STATIC = Path(catalogue.__file__).parent / "static"


def test_each_chat_service_category_has_an_svg_icon_that_exists():
    icons = catalogue.manifest()["icons"]
    assert set(icons) == {"slack", "microsoft teams", "telegram", "discord", "twilio"}
    for category, path in catalogue.CATEGORY_ICONS.items():
        assert icons[category].endswith(path)
        svg = (STATIC / path).read_text()
        assert svg.startswith("<svg") and "<script" not in svg and "href" not in svg


def test_the_chat_triggers_show_their_services_icon_though_filed_under_trigger():
    data = catalogue.manifest()
    assert "trigger/slack" in data["categories"]["trigger"]
    assert data["node_icons"] == {
        "trigger/slack": data["icons"]["slack"],
        "trigger/telegram": data["icons"]["telegram"],
        "trigger/teams": data["icons"]["microsoft teams"],
    }
