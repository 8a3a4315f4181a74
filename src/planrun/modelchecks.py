"""The checks a plan element carries, as pydantic models: a verify command (``VerifyCommand``)
and must_haves (``Truth``, ``Artifact``, ``KeyLink``, ``MustHaves``); and ``Located``, the base
of every plan element (strict keys, the line where it was written; see ``model``).
"""

from __future__ import annotations

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

from planrun import lazyre
from planrun.linedata import LineDict
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


# Files named without an extension that plans link from: a key_link ``from: Makefile`` is
# that file, never a symbol to look for in every file of the plan.
_FILE_NAMES = frozenset(
    {
        "Makefile",
        "makefile",
        "GNUmakefile",
        "Dockerfile",
        "Containerfile",
        "Procfile",
        "Jenkinsfile",
        "Gemfile",
        "Rakefile",
        "Vagrantfile",
        "Brewfile",
        "Podfile",
        "Fastfile",
        "Pipfile",
        "Justfile",
        "justfile",
        "Caddyfile",
        "Tiltfile",
        "Earthfile",
        "Snakefile",
        "Guardfile",
        "Capfile",
        "Berksfile",
        "Dangerfile",
        "CODEOWNERS",
        "LICENSE",
        "README",
        "CHANGELOG",
    }
)
# A file extension: letters, then letters or digits (``.prisma``, ``.graphql``, ``.mp4``).
# A camel hump (``Store.getUser``) is a member of code, never an extension.
_EXTENSION = lazyre.compile(r"\.[A-Za-z][A-Za-z0-9]*$")
_HUMP = lazyre.compile(r"[a-z][A-Z]")


class KeyLink(Located):
    """A connection between two pieces of code, found by a regex in the ``from`` file."""

    from_: FileStr = Field(alias="from")
    to: str
    via: str | None = None
    pattern: str | None = None

    @property
    def from_code(self) -> bool:
        """Whether ``from`` names code (``StreamingExporter.open()``, ``useAuth``), not a file:
        where no such file is there, the files the plan declares are searched for the link
        instead. A name with a slash, a file extension (``schema.prisma``, ``.gitignore``) or
        a file's well-known name (``Makefile``, ``Dockerfile``) is a file: missing, it fails as
        missing. Were it a symbol, its pattern would be looked for in every declared file of
        the plan, and any of them would pass it."""
        ref = self.from_.strip()
        if "/" in ref or "\\" in ref or ref in _FILE_NAMES:
            return False
        extension = _EXTENSION.search(ref)
        return extension is None or _HUMP.search(extension.group(0)) is not None


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
