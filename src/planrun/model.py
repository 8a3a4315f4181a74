"""The plan model: Plan, Task, VerifyCommand, MustHaves (Artifact, KeyLink, Truth), Milestone.

These pydantic models are both the in-memory plan every reader produces and the schema of the
canonical frontmatter (``planrun schema``). Where each element was written is kept in a plain
instance attribute, filled from the line-aware YAML containers during validation, so it never
appears in the schema and a plan cannot set it. (Not a pydantic PrivateAttr: initialising
private attributes costs a third of validation time on a 20,000-task plan.)
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PositiveInt,
    PrivateAttr,
    model_validator,
)

from planrun.yamlio import LineDict, LineList

CHECKS_ID = "@checks"
"""Task id of a plan's own checks (plan ``verify`` and ``must_haves``); '@' keeps it unique."""

Claimed = Literal["todo", "in_progress", "done", "blocked"]
Kind = Literal["auto", "manual"]

_ID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _check_id(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise ValueError(
            f'"{value}" is not a valid id: use letters, digits, "_", "." and "-" '
            '(no spaces or "/"; "/" joins plan and task in a full id)'
        )
    return value


def _check_dep(value: str) -> str:
    plan, sep, task = value.partition("/")
    if sep:
        _check_id(plan)
        _check_id(task)
    else:
        _check_id(value)
    return value


_EXPECT_OUTPUT = re.compile(r"empty|count\s*(==|>=|<=|>|<|!=)?\s*\d+")


def _check_expect_output(value: str) -> str:
    value = " ".join(value.split()).lower()
    if not _EXPECT_OUTPUT.fullmatch(value):
        raise ValueError(
            f'"{value}" is not an output expectation: use "empty", "count N" or "count >= N"'
        )
    return value


Id = Annotated[str, AfterValidator(_check_id)]
DepId = Annotated[str, AfterValidator(_check_dep)]

MAX_TIMEOUT = 1_000_000.0
"""The longest timeout, in seconds (11.5 days): beyond it the OS cannot wait that long."""
NAME_MAX = 255
"""The longest file name (one path component, in bytes) the usual file systems allow."""
PATH_MAX = 4096


def check_timeout(value: float) -> float:
    """A timeout must be a finite number of seconds in (0, MAX_TIMEOUT]."""
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        shown = str(value).replace("inf", "infinity")
        raise ValueError(
            f"a timeout is a number of seconds greater than 0 and at most {MAX_TIMEOUT:.0f}, "
            f"got {shown}"
        )
    return value


def _check_exit(value: int) -> int:
    if not 0 <= value <= 255:
        raise ValueError(f"an exit code is from 0 to 255, got {value}")
    return value


def _shown(text: str, limit: int = 60) -> str:
    """``text`` for a message: NUL written as \\0, cut to ``limit`` characters."""
    text = text.replace("\0", "\\0")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _no_nul(value: str) -> str:
    if "\0" in value:
        raise ValueError(
            f'"{_shown(value)}" contains a NUL character (\\0), which no command, path or '
            "environment variable can hold"
        )
    return value


def _check_path(value: str) -> str:
    """A path planrun will open: no NUL, no component longer than a file name can be."""
    _no_nul(value)
    encoded = value.encode("utf-8", "surrogateescape")
    if len(encoded) > PATH_MAX:
        raise ValueError(f"the path is {len(encoded)} bytes long; the most is {PATH_MAX}")
    for part in encoded.replace(b"\\", b"/").split(b"/"):
        if len(part) > NAME_MAX:
            shown = part[:20].decode("utf-8", "replace")
            raise ValueError(
                f'the path component "{shown}..." is {len(part)} bytes long; a file name can '
                f"be at most {NAME_MAX}"
            )
    return value


def _check_file(value: str) -> str:
    if not value.strip():
        raise ValueError("empty path: name a file relative to the root")
    return _check_path(value)


Timeout = Annotated[float, AfterValidator(check_timeout)]
FileStr = Annotated[str, AfterValidator(_check_file)]
ExitCode = Annotated[int, AfterValidator(_check_exit)]
Script = Annotated[str, AfterValidator(_no_nul)]
PathStr = Annotated[str, AfterValidator(_check_path)]


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


def _string_to_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return [value]
    return value


_SCALARS = (str, int, float)  # bool is an int


def _is_scalar(value: Any) -> bool:
    return isinstance(value, _SCALARS)


def _scalar_text(value: Any) -> str:
    # YAML reads `verify: true` as a boolean; in a shell, `true` is the command.
    return str(value).lower() if isinstance(value, bool) else str(value)


def _script(value: Any) -> Any:
    return _scalar_text(value) if _is_scalar(value) else value


def _wrap_strings(key: str) -> Any:
    """Normalize a string, or a list mixing strings and mappings, into mappings ``{key: s}``.

    Strings inside a list keep their own line, so a diagnostic on them points at that item.
    """

    def normalize(value: Any) -> Any:
        if value is None:
            return []
        if _is_scalar(value):
            return [LineDict({key: _scalar_text(value)})]
        if isinstance(value, dict):
            return [value]
        if not isinstance(value, list):
            return value
        lines = value.item_lines if isinstance(value, LineList) else []
        out = LineList(line=getattr(value, "line", 0))
        for i, item in enumerate(value):
            if _is_scalar(item):
                line = lines[i] if i < len(lines) else 0
                item = LineDict({key: _scalar_text(item)}, line=line)  # noqa: PLW2901
            out.append(item)
        out.item_lines = lines
        return out

    return normalize


def _env_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
            if isinstance(v, str | int | float | bool) or v is None
            else v
            for k, v in value.items()
        }
    return value


def _check_env(value: dict[str, str]) -> dict[str, str]:
    for key, text in value.items():
        if not key or "=" in key or "\0" in key:
            raise ValueError(
                f'"{_shown(key)}" is not an environment variable name (empty, or holds "=" or NUL)'
            )
        if "\0" in text:
            raise ValueError(
                f"the value of {key} contains a NUL character (\\0), which no environment "
                "variable can hold"
            )
    return value


class Located(BaseModel):
    """Base of every plan element: strict keys, and the line where it was written."""

    model_config = ConfigDict(
        extra="forbid",
        coerce_numbers_to_str=True,
        populate_by_name=True,
        validate_default=False,
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

    run: Annotated[Script, BeforeValidator(_script)] = Field(
        min_length=1, description="Shell script, run with bash -c (sh -c fallback)."
    )
    timeout: Timeout | None = Field(default=None, description="Seconds before it is killed.")
    expect_exit: ExitCode = Field(default=0, description="Exit code that means success.")
    cwd: PathStr | None = Field(
        default=None, description="Directory to run in, relative to the root."
    )
    expect_output: Annotated[str, AfterValidator(_check_expect_output)] | None = Field(
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
    BeforeValidator(_wrap_strings("run"), json_schema_input_type=str | list[str | VerifyCommand]),
]
StrList = Annotated[
    list[str], BeforeValidator(_none_to_list, json_schema_input_type=list[str] | None)
]
DepList = Annotated[
    list[DepId],
    BeforeValidator(_string_to_list, json_schema_input_type=str | list[str] | None),
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


TruthList = Annotated[
    list[Truth],
    BeforeValidator(_wrap_strings("truth"), json_schema_input_type=list[str | Truth] | None),
]
ArtifactList = Annotated[
    list[Artifact], BeforeValidator(_none_to_list, json_schema_input_type=list[Artifact] | None)
]
KeyLinkList = Annotated[
    list[KeyLink], BeforeValidator(_none_to_list, json_schema_input_type=list[KeyLink] | None)
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


class Task(Located):
    id: Id
    name: str = ""
    depends_on: DepList = Field(default_factory=list)
    files: StrList = Field(default_factory=list)
    inputs: StrList | None = Field(
        default=None,
        description="Globs (relative to the root) whose content decides whether a recorded "
        "pass can be reused; default: files.",
    )
    verify: VerifyList = Field(default_factory=list)
    must_haves: MustHavesField = Field(default_factory=MustHaves)
    claimed: Claimed = "todo"
    owner: str | None = None
    effort: str | None = None
    kind: Kind = "auto"
    timeout: Timeout | None = None

    @model_validator(mode="after")
    def _default_name(self) -> Task:
        if not self.name:
            self.name = self.id
        return self

    @property
    def has_checks(self) -> bool:
        return bool(self.verify) or self.must_haves.check_count() > 0

    @property
    def derived(self) -> bool:
        """Whether its checks were derived by planrun from its text (weaker than a verify)."""
        return any(v.derived for v in self.verify) or any(
            a.derived for a in self.must_haves.artifacts
        )

    @property
    def source(self) -> str | None:
        """The file this task was written in, when a plan spans several files (Backlog.md)."""
        source: str | None = self.__dict__.get("_source")
        return source

    def set_source(self, source: str) -> None:
        object.__setattr__(self, "_source", source)


class Milestone(Located):
    id: Id
    name: str = ""
    tasks: Annotated[list[DepId], BeforeValidator(_string_to_list)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _default_name(self) -> Milestone:
        if not self.name:
            self.name = self.id
        return self


TaskList = Annotated[
    list[Task], BeforeValidator(_none_to_list, json_schema_input_type=list[Task] | None)
]
MilestoneList = Annotated[
    list[Milestone],
    BeforeValidator(_none_to_list, json_schema_input_type=list[Milestone] | None),
]
EnvMap = Annotated[
    dict[str, str],
    BeforeValidator(_env_values, json_schema_input_type=dict[str, str | int | float | bool]),
    AfterValidator(_check_env),
]


class Plan(Located):
    planrun: Literal[1] = Field(default=1, description="Format version; marks a canonical plan.")
    id: Annotated[str, AfterValidator(lambda v: _check_id(v) if v else v)] = Field(
        default="", description="Plan id; defaults to the file name without .md."
    )
    title: str = ""
    depends_on: DepList = Field(default_factory=list, description="Plans that must pass first.")
    wave: PositiveInt | None = Field(default=None, description="Declared wave (checked).")
    root: PathStr | None = Field(default=None, description="Root directory, relative to the plan.")
    env: EnvMap = Field(default_factory=dict)
    timeout: Timeout | None = None
    shell: Script | None = Field(
        default=None,
        description="Command line each verify script is appended to (default: bash "
        "--noprofile --norc -eo pipefail -c; `bash` alone means plain bash -c).",
    )
    milestones: MilestoneList = Field(default_factory=list)
    tasks: TaskList = Field(default_factory=list)
    must_haves: MustHavesField = Field(default_factory=MustHaves)
    verify: VerifyList = Field(default_factory=list)
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Free-form data kept from other formats."
    )

    _source: str = PrivateAttr(default="")
    _format: str = PrivateAttr(default="planrun")
    # Other names a reader knows this plan by in depends_on (GSD: "07-01-PLAN", the file stem).
    _aliases: list[str] = PrivateAttr(default_factory=list)
    # Loaded only as context for a plan named on its own (a GSD sibling): never selected.
    _context: bool = PrivateAttr(default=False)
    # Loaded on its own: a plan dependency not loaded is outside the run, not an error.
    _standalone: bool = PrivateAttr(default=False)
    # Its tasks are done in order by one agent (GSD): no file conflicts among them.
    _one_agent: bool = PrivateAttr(default=False)
    # Plan dependencies the reader knows may lie outside what was loaded (another GSD phase).
    _outside: set[str] = PrivateAttr(default_factory=set)
    # Files the plan says it touches beyond its tasks' (GSD's files_modified).
    _declared: list[str] = PrivateAttr(default_factory=list)
    _path: str = PrivateAttr(default="")
    _id_declared: bool = PrivateAttr(default=True)
    # How to give this plan another id, where its format writes it elsewhere (GSD: phase/plan).
    _id_hint: str = PrivateAttr(default="")
    _skipped: frozenset[str] = PrivateAttr(default=frozenset())

    def set_origin(self, source: str, fmt: str, path: Path | None = None) -> None:
        self._source = source
        self._format = fmt
        self._path = str((path or Path(source)).absolute())

    @property
    def path(self) -> str:
        """The plan file's absolute path: what its recorded results are keyed by."""
        return self._path or str(Path(self._source).absolute())

    @property
    def results_key(self) -> str:
        """What its recorded results are filed under: the plan file, and its id when a user
        (or the format) wrote one, since one file may hold several plans (a Task Master
        tasks.json with tags). A derived id is left out: it may change with the run."""
        return f"{self.path}#{self.id}" if self.id_declared else self.path

    @property
    def id_declared(self) -> bool:
        """Whether a user wrote the id (else it was derived from the path, and may change)."""
        return self._id_declared

    @property
    def skipped(self) -> frozenset[str]:
        """Ids of tasks kept only for graph checks: their schema errors are reported."""
        return self._skipped

    def mark_skipped(self, task_ids: list[str]) -> None:
        self._skipped = frozenset(task_ids)

    @property
    def id_hint(self) -> str:
        """How to give this plan another id (the hint of a duplicate-id); its reader may say."""
        return self._id_hint or f'write a different "id:" in the frontmatter of {self.source}'

    def set_id_hint(self, hint: str) -> None:
        self._id_hint = hint

    def derive_id(self, plan_id: str) -> None:
        self.id = plan_id
        self._id_declared = False

    @property
    def source(self) -> str:
        return self._source

    @property
    def aliases(self) -> list[str]:
        return self._aliases

    def add_aliases(self, names: list[str]) -> None:
        self._aliases.extend(n for n in names if n and n != self.id and n not in self._aliases)

    @property
    def context(self) -> bool:
        return self._context

    @property
    def standalone(self) -> bool:
        return self._standalone

    def may_be_outside(self, dep: str) -> bool:
        """Whether an unresolved plan dependency ``dep`` is outside the run, not an error."""
        return self._standalone or dep in self._outside

    def allow_outside(self, deps: list[str]) -> None:
        self._outside.update(deps)

    @property
    def declared_files(self) -> list[str]:
        return self._declared

    def declare_files(self, files: list[str]) -> None:
        self._declared.extend(files)

    @property
    def one_agent(self) -> bool:
        return self._one_agent

    def mark(
        self,
        *,
        context: bool | None = None,
        standalone: bool | None = None,
        one_agent: bool | None = None,
    ) -> None:
        if context is not None:
            self._context = context
        if standalone is not None:
            self._standalone = standalone
        if one_agent is not None:
            self._one_agent = one_agent

    @property
    def format(self) -> str:
        return self._format

    def source_of(self, task: Task | None) -> str:
        """Where ``task`` was written: its own file in a multi-file plan, else the plan's."""
        return (task.source if task is not None else None) or self._source

    @property
    def has_checks(self) -> bool:
        """Whether the plan has checks of its own, run after its tasks."""
        return bool(self.verify) or not self.must_haves.empty


def json_schema() -> dict[str, Any]:
    """JSON Schema of the canonical frontmatter."""
    schema = Plan.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "planrun plan (canonical frontmatter)"
    schema["required"] = ["planrun"]
    return schema
