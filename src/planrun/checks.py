"""must_haves checks, run by planrun itself (no shell): artifacts and key_links.

Every path resolves under the root; an absolute path, or one that escapes the root (also
through a symlink), fails its check and is never read. Each result says what was found.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from planrun.model import Artifact, KeyLink

_MAX_READ = 64 * 1024 * 1024  # a must_haves file larger than this is not source code


@dataclass(frozen=True)
class CheckResult:
    kind: str  # "artifact", "key_link" or "truth"
    label: str
    ok: bool | None  # None: manual (a truth nobody can check automatically)
    message: str
    derived: bool = False  # planrun derived it from the task's text (weaker than a verify)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CheckResult:
        status = data.get("status")
        ok = None if status == "manual" else status == "passed"
        return cls(
            str(data.get("kind")),
            str(data.get("label")),
            ok,
            str(data.get("message")),
            derived=data.get("derived") is True,
        )

    def to_json(self) -> dict[str, object]:
        status = "manual" if self.ok is None else "passed" if self.ok else "failed"
        out: dict[str, object] = {
            "kind": self.kind,
            "label": self.label,
            "status": status,
            "message": self.message,
        }
        if self.derived:
            out["derived"] = True
        return out


class _OutsideRootError(Exception):
    pass


def resolve_under(root: Path, rel: str) -> Path:
    """``root/rel``, refusing absolute paths and anything that ends up outside ``root``."""
    if not rel or Path(rel).is_absolute() or rel.startswith("~"):
        raise _OutsideRootError(
            f'"{rel}" is an absolute path; must_haves paths are relative to the root'
        )
    real_root = root.resolve()
    target = (real_root / rel).resolve()
    if not target.is_relative_to(real_root):
        raise _OutsideRootError(f'"{rel}" resolves outside the root ({target}); it was not read')
    return target


def _read(path: Path) -> str:
    with path.open("rb") as fh:
        data = fh.read(_MAX_READ)
    return data.decode("utf-8", errors="replace")


def check_artifact(art: Artifact, root: Path) -> CheckResult:
    found = _check_artifact(art, root)
    return replace(found, derived=True) if art.derived else found


def _check_artifact(art: Artifact, root: Path) -> CheckResult:
    label = art.path
    try:
        path = resolve_under(root, art.path)
    except _OutsideRootError as exc:
        return CheckResult("artifact", label, ok=False, message=str(exc))
    if not path.exists():
        # Said of each requirement, so "exists" and "contains" on one path read apart.
        also = f', so it does not contain "{art.contains}"' if art.contains is not None else ""
        return CheckResult("artifact", label, ok=False, message=f"{art.path} does not exist{also}")
    wants_content = art.min_lines is not None or art.contains is not None or bool(art.exports)
    if path.is_dir():
        if wants_content:
            return CheckResult(
                "artifact", label, ok=False, message=f"{art.path} is a directory, not a file"
            )
        return CheckResult("artifact", label, ok=True, message=f"{art.path} exists (directory)")
    try:
        text = _read(path) if wants_content else ""
    except OSError as exc:
        return CheckResult(
            "artifact", label, ok=False, message=f"{art.path} cannot be read: {exc.strerror}"
        )
    found = [f"{art.path} exists"]
    if art.min_lines is not None:
        lines = len(text.splitlines())
        if lines < art.min_lines:
            return CheckResult(
                "artifact",
                label,
                ok=False,
                message=f"{art.path} has {lines} lines, needs at least {art.min_lines}",
            )
        found.append(f"{lines} lines")
    if art.contains is not None:
        if art.contains not in text:
            return CheckResult(
                "artifact", label, ok=False, message=f'{art.path} does not contain "{art.contains}"'
            )
        found.append(f'contains "{art.contains}"')
    missing = [name for name in art.exports if not re.search(rf"\b{re.escape(name)}\b", text)]
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        return CheckResult(
            "artifact", label, ok=False, message=f"{art.path} does not define {names}"
        )
    if art.exports:
        found.append("defines " + ", ".join(art.exports))
    return CheckResult("artifact", label, ok=True, message=", ".join(found))


def _is_symbol(ref: str) -> bool:
    """A key_links ``from`` that names code (``StreamingExporter.open()``), not a file."""
    return "/" not in ref and not re.search(r"\.[A-Za-z]{1,5}$", ref.strip())


def check_key_link(link: KeyLink, root: Path, declared: Sequence[str] = ()) -> CheckResult:
    """GSD's key_links: the ``pattern`` (a regex over the whole file) in the ``from`` file,
    else in the ``to`` file; without a pattern, ``from`` mentions ``to``. When ``from`` is a
    symbol or a call, not a file, the plan's ``declared`` files are searched instead."""
    label = f"{link.from_} -> {link.to}"
    try:
        source = resolve_under(root, link.from_)
    except _OutsideRootError as exc:
        return CheckResult("key_link", label, ok=False, message=str(exc))
    except (OSError, ValueError):
        source = root / "\0"
    if not source.is_file() and _is_symbol(link.from_):
        return _search_declared(link, root, declared, label)
    if not source.is_file():
        return CheckResult("key_link", label, ok=False, message=f"{link.from_} does not exist")
    try:
        text = _read(source)
    except OSError as exc:
        return CheckResult(
            "key_link", label, ok=False, message=f"{link.from_} cannot be read: {exc.strerror}"
        )
    if link.pattern is None:
        if link.to in text:
            return CheckResult(
                "key_link", label, ok=True, message=f'{link.from_} mentions "{link.to}"'
            )
        return CheckResult(
            "key_link", label, ok=False, message=f'{link.from_} does not mention "{link.to}"'
        )
    try:
        regex = re.compile(link.pattern)
    except re.error as exc:
        return CheckResult(
            "key_link",
            label,
            ok=False,
            message=f"pattern /{link.pattern}/ is not a valid regular expression: {exc.msg}",
        )
    found = _search(regex, text, link.from_)
    if found:
        return CheckResult("key_link", label, ok=True, message=f"/{link.pattern}/ {found}")
    where = [link.from_]
    target = _maybe_file(root, link.to)
    if target is not None:
        try:
            other = _read(target)
        except OSError:
            other = ""
        found = _search(regex, other, link.to)
        if found:
            return CheckResult("key_link", label, ok=True, message=f"/{link.pattern}/ {found}")
        where.append(link.to)
    return CheckResult(
        "key_link",
        label,
        ok=False,
        message=f"/{link.pattern}/ not found in {' or '.join(where)}",
    )


def _search_declared(link: KeyLink, root: Path, declared: Sequence[str], label: str) -> CheckResult:
    files = [p for p in dict.fromkeys(declared) if _maybe_file(root, p) is not None]
    if not files:
        return CheckResult(
            "key_link",
            label,
            ok=False,
            message=f"{link.from_} is not a file and the plan declares no existing file to "
            "search for it",
        )
    if link.pattern is not None:
        try:
            regex = re.compile(link.pattern)
        except re.error as exc:
            return CheckResult(
                "key_link",
                label,
                ok=False,
                message=f"pattern /{link.pattern}/ is not a valid regular expression: {exc.msg}",
            )
        what = f"/{link.pattern}/"
    else:
        regex = re.compile(re.escape(link.to))
        what = f'"{link.to}"'
    for name in files:
        path = _maybe_file(root, name)
        try:
            text = _read(path) if path is not None else ""
        except OSError:
            continue
        found = _search(regex, text, name)
        if found:
            return CheckResult("key_link", label, ok=True, message=f"{what} {found}")
    return CheckResult(
        "key_link",
        label,
        ok=False,
        message=f"{what} not found in the plan's files ({', '.join(files[:5])}"
        + (", ..." if len(files) > 5 else "")
        + ")",
    )


def _search(regex: re.Pattern[str], text: str, name: str) -> str | None:
    """ "found in NAME:LINE: match" when ``regex`` matches ``text``."""
    match = regex.search(text)
    if match is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    return f"found in {name}:{line}: {match.group(0)[:80]}"


def _maybe_file(root: Path, ref: str) -> Path | None:
    """``ref`` as a file under the root, when it names one (``to`` may be a symbol instead)."""
    try:
        path = resolve_under(root, ref)
    except (_OutsideRootError, OSError, ValueError):
        return None
    return path if path.is_file() else None
