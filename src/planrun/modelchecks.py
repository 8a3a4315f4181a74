"""The checks a plan element carries, as pydantic models: a verify command (``VerifyCommand``)
and must_haves (``Truth``, ``Artifact``, ``KeyLink``, ``MustHaves``); and ``Located``, the base
of every plan element (strict keys, the line where it was written; see ``model``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    model_validator,
)

from planrun.modelfields import (
    ExitCode,
    FileStr,
    PathStr,
    Script,
    Timeout,
    as_script,
    check_expect_output,
    none_to_list,
    wrap_strings,
)
from planrun.yamlio import LineDict


class Located(BaseModel):
    """Base of every plan element: strict keys, and the line where it was written."""

    model_config = ConfigDict(
        extra="forbid",
        coerce_numbers_to_str=True,
        populate_by_name=True,
        validate_default=False,
        # Built on first use: a plan from the plan cache is unpickled, never validated, so
        # `next` and `status` on an unchanged plan skip building the validators.
        defer_build=True,
    )

    @model_validator(mode="wrap")
    @classmethod
    def _remember_line(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        obj = handler(data)
        if isinstance(data, LineDict) and data.line:
            object.__setattr__(obj, "_line", data.line)
        return obj

    @property
    def line(self) -> int | None:
        line: int | None = self.__dict__.get("_line")
        return line


class VerifyCommand(Located):
    """A shell script run with bash -c in the root; passes when it exits ``expect_exit``."""

    run: Annotated[Script, BeforeValidator(as_script)] = Field(
        min_length=1, description="Shell script, run with bash -c (sh -c fallback)."
    )
    timeout: Timeout | None = Field(default=None, description="Seconds before it is killed.")
    expect_exit: ExitCode = Field(default=0, description="Exit code that means success.")
    cwd: PathStr | None = Field(
        default=None, description="Directory to run in, relative to the root."
    )
    expect_output: Annotated[str, AfterValidator(check_expect_output)] | None = Field(
        default=None,
        description='What its output must be: "empty", or "count N" ("count >= N", ...) for a '
        "count it prints (grep -c, wc -l). Then the output decides, and exit 1 (grep's "
        '"no match") is not a failure.',
    )
    derived: bool = Field(
        default=False,
        description="Set by planrun on a check derived from the task's text, not written "
        "as a verify.",
    )
    description: str | None = Field(
        default=None, description="What the check shows, in the plan's words (not run)."
    )


VerifyList = Annotated[
    list[VerifyCommand],
    BeforeValidator(wrap_strings("run"), json_schema_input_type=str | list[str | VerifyCommand]),
]
StrList = Annotated[
    list[str], BeforeValidator(none_to_list, json_schema_input_type=list[str] | None)
]


class Truth(Located):
    """A statement that must hold; checked only when it carries a verify."""

    truth: str
    verify: VerifyList = Field(default_factory=list)


class Artifact(Located):
    """A file that must exist, with optional size and content requirements."""

    path: FileStr
    provides: str | None = None
    min_lines: Annotated[int, Field(ge=0)] | None = None
    contains: str | None = None
    exports: StrList = Field(default_factory=list)
    derived: bool = Field(
        default=False, description="Set by planrun on a check derived from the task's text."
    )


class KeyLink(Located):
    """A connection between two pieces of code, found by a regex in the ``from`` file."""

    from_: FileStr = Field(alias="from")
    to: str
    via: str | None = None
    pattern: str | None = None

    @property
    def from_code(self) -> bool:
        """Whether ``from`` names code (``StreamingExporter.open()``), not a file: where no such
        file is there, the files the plan declares are searched for the link instead."""
        return "/" not in self.from_ and not re.search(r"\.[A-Za-z]{1,5}$", self.from_.strip())


TruthList = Annotated[
    list[Truth],
    BeforeValidator(wrap_strings("truth"), json_schema_input_type=list[str | Truth] | None),
]
ArtifactList = Annotated[
    list[Artifact], BeforeValidator(none_to_list, json_schema_input_type=list[Artifact] | None)
]
KeyLinkList = Annotated[
    list[KeyLink], BeforeValidator(none_to_list, json_schema_input_type=list[KeyLink] | None)
]


class MustHaves(Located):
    """GSD must_haves: truths, artifacts and key_links, checked by planrun itself."""

    truths: TruthList = Field(default_factory=list)
    artifacts: ArtifactList = Field(default_factory=list)
    key_links: KeyLinkList = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.truths or self.artifacts or self.key_links)

    def check_count(self) -> int:
        """Checks planrun can run itself (truths count only with a verify)."""
        return len(self.artifacts) + len(self.key_links) + sum(1 for t in self.truths if t.verify)


def _none_to_must_haves(value: Any) -> Any:
    return {} if value is None else value


MustHavesField = Annotated[
    MustHaves, BeforeValidator(_none_to_must_haves, json_schema_input_type=MustHaves | None)
]
