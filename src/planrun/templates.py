"""Finding and rendering planrun's jinja2 templates (StrictUndefined: a typo is an error)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2


@cache
def templates_dir() -> Path:
    """The bundled templates: package data in an installed wheel, ``templates/`` in a checkout."""
    packaged = Path(str(resources.files("planrun"))) / "templates"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("planrun's templates are missing from this installation")


def environment(
    extra_dir: Path | None = None, finalize: Callable[[Any], Any] | None = None
) -> jinja2.Environment:
    search = [str(extra_dir)] if extra_dir else []
    search.append(str(templates_dir()))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - markdown and YAML: escaped by ``finalize``, not as HTML
        finalize=finalize,
    )


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
