"""The register of Vault's controls as the admin shows them ("Controls in force"): each app
registers its own in its AppConfig.ready (core names none), with who acts, how it is enforced,
and the setting that configures it with its value now. docs/controls.md has the whole list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    name: str
    who: str
    enforced_by: str
    setting: str = ""  # the setting that configures it, if any
    value: Callable[[], object] = lambda: "always on"


CONTROLS: dict[str, Control] = {}


def control_register(control: Control) -> None:
    """Add (or replace, on a second ready()) a control of the register."""
    CONTROLS[control.name] = control


def controls_in_force() -> list[tuple[Control, str]]:
    """Every registered control with its value now, in the order registered."""
    return [(control, str(control.value())) for control in CONTROLS.values()]
