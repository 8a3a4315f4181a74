"""The plan model: Plan, Task, Milestone (their checks, VerifyCommand and MustHaves, are in
``modelchecks``).

These pydantic models are both the in-memory plan every reader produces and the schema of the
canonical frontmatter (``planrun schema``). Where each element was written is kept in a plain
instance attribute, filled from the line-aware YAML containers during validation, so it never
appears in the schema and a plan cannot set it. (Not a pydantic PrivateAttr: initialising
private attributes costs a third of validation time on a 20,000-task plan.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PositiveInt,
    PrivateAttr,
    model_validator,
)

from planrun.modelchecks import Located, MustHaves, MustHavesField, StrList, VerifyList
from planrun.modelfields import (
    DepId,
    Id,
    PathStr,
    Script,
    Timeout,
    check_env,
    check_id,
    env_values,
    none_to_list,
    string_to_list,
)

CHECKS_ID = "@checks"
"""Task id of a plan's own checks (plan ``verify`` and ``must_haves``); '@' keeps it unique."""

Claimed = Literal["todo", "in_progress", "done", "blocked"]
Kind = Literal["auto", "manual"]


DepList = Annotated[
    list[DepId],
    BeforeValidator(string_to_list, json_schema_input_type=str | list[str] | None),
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
            # What `self.name = self.id` does (the value, and "name" among the fields set),
            # with the set copied to its size: grown by one in place, a set of five takes
            # 728 bytes, a copy 472 (25 MiB on a 100,000-task plan).
            self.__dict__["name"] = self.id
            fields = self.__pydantic_fields_set__
            fields.add("name")
            object.__setattr__(self, "__pydantic_fields_set__", set(fields))
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
    tasks: Annotated[list[DepId], BeforeValidator(string_to_list)] = Field(default_factory=list)

    @model_validator(mode="after")
    def _default_name(self) -> Milestone:
        if not self.name:
            self.name = self.id
        return self


TaskList = Annotated[
    list[Task], BeforeValidator(none_to_list, json_schema_input_type=list[Task] | None)
]
MilestoneList = Annotated[
    list[Milestone],
    BeforeValidator(none_to_list, json_schema_input_type=list[Milestone] | None),
]
EnvMap = Annotated[
    dict[str, str],
    BeforeValidator(env_values, json_schema_input_type=dict[str, str | int | float | bool]),
    AfterValidator(check_env),
]


class Plan(Located):
    planrun: Literal[1] = Field(default=1, description="Format version; marks a canonical plan.")
    id: Annotated[str, AfterValidator(lambda v: check_id(v) if v else v)] = Field(
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
