"""Text made safe for a terminal: escape sequences and control characters removed.

Article text, file names and model output can carry ANSI/OSC escape sequences
(colours, cursor moves, window titles, hyperlinks, clipboard writes). ``printable``
drops whole CSI/OSC/other ESC sequences, then every remaining C0/C1 control
character and DEL, keeping newlines and tabs. Used by every line the CLI prints
for people; JSON output needs nothing (its encoder escapes controls).
"""

from __future__ import annotations

import re

_SEQUENCES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"  # other two-character escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without terminal escape sequences or control characters (newlines and tabs kept)."""
    return _CONTROLS.sub("", _SEQUENCES.sub("", text))
