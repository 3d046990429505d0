"""How a value is spelled: as typed on the command line (`_text`) and as written in TOML (`_literal`)."""
from __future__ import annotations

import json


def _text(v) -> str:
    """A value as typed on the command line."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)):
        return ",".join(_text(x) for x in v) if v else '""'
    return str(v)


def _literal(v) -> str:
    """A value as written in TOML (None, which TOML lacks, shows as none)."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):  # a JSON string is a TOML basic string, once DEL is escaped
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    return repr(v)
