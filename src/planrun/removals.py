"""A task whose words say it takes something away ("Remove old.cfg", "Drop the legacy flag",
"Rename a.py to b.py"): what its checks find absent may be the work done, not missing.

derive.py makes no check of a path such a task names (it is what goes). A check that only
prints whether something holds (``python3 -c 'print(os.path.exists("old.cfg"))'``, exit 0
either way) says nothing there: ``False`` is the answer when it asks about what was removed,
``True`` when it asks about what is left, and planrun cannot tell which it asks.
"""

from __future__ import annotations

import re

from planrun import lazyre

# Words that say the task removes, replaces or moves something.
GOES = (
    r"\b(?:remov(?:e[sd]?|ing)|delet\w*|drop(?:s|ped|ping)?|renam\w*|mov(?:e|es|ed|ing)|"
    r"deprecat\w*|clean\s*up|uninstall\w*|replac\w*|migrat\w*\s+away|get\s+rid|"
    r"stop(?:s|ped)?\s+(?:calling|running|using))\b"
)
_GONE = lazyre.compile(GOES, re.I)


def removes(text: str) -> str | None:
    """The word of ``text`` that says it takes something away (``Remove``), else None."""
    found = _GONE.search(text)
    return " ".join(found.group(0).split()) if found else None


UNREAD = "it only prints whether what it checks holds, and the task says `"


def printed_value_unread(word: str) -> str:
    """Why the truth value a check printed shows nothing in a task that ``word``s something."""
    return (
        f"{UNREAD}{word}`: planrun cannot tell whether it expects True (what is left) or False "
        "(what is gone) (exit non-zero when it does not hold: `assert not "
        "os.path.exists(...)`)"
    )
