"""What a command works on, resolved once: its flags, else the configuration
(``[tool.planrun]`` / ``planrun.toml``, config.py), else the built-in defaults.

The command line and the MCP tools both start from a ``Settings``: the plan paths, the format,
the root, whether to derive checks, where SUMMARY.md goes and with which template, and the
options of a run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from planrun.config import Config, load_config
from planrun.roots import run_root
from planrun.shard import parse_shard

if TYPE_CHECKING:
    from planrun.selection import ExecuteOptions


@dataclass(frozen=True)
class Settings:
    config: Config
    paths: list[Path]  # the plan files and folders
    fmt: str | None = None  # read every file in this format
    root: Path | None = None  # --root
    derive: bool = True  # derive checks for tasks without verify

    @classmethod
    def of(
        cls,
        paths: Sequence[str | Path] | None = None,
        fmt: str | None = None,
        *,
        root: str | Path | None = None,
        no_derive: bool = False,
    ) -> Settings:
        """Flags over the configuration of the current folder: PATH arguments, else the
        configured ``path``, else plans/; ``--format``, else ``format``."""
        config = load_config()
        if paths:
            targets = [Path(p) for p in paths]
        else:
            targets = config.plan_paths() if config.path else [Path("plans")]
        return cls(
            config=config,
            paths=targets,
            fmt=fmt if fmt is not None else config.format,
            root=Path(root) if root else None,
            derive=config.derive and not no_derive,
        )

    def summary_path(self, option: str | Path | None = None) -> Path:
        """``--summary`` / ``--output``, else ``summary``, else beside the (first) plan."""
        from planrun.render.summary import default_path  # noqa: PLC0415 -- loads jinja2

        if option:
            return Path(option)
        return self.config.resolve(self.config.summary) or default_path(self.paths)

    def template(self, option: Path | None = None) -> Path | None:
        """``--template``, else ``summary_template``, else None (the built-in one)."""
        return option or self.config.resolve(self.config.summary_template)

    def output_root(self) -> Path:
        """The root an output may link into, known before the plans are loaded."""
        return run_root([], self.paths, self.root)

    def execute_options(
        self,
        *,
        argv: list[str],
        jobs: int | None = None,
        timeout: float | None = None,
        fresh: bool = False,
        base: str | None = None,
        strict_scope: bool = False,
        shard: str | None = None,
        wave: int | None = None,
        tasks: list[str] | None = None,
        fail_fast: bool = False,
        failed: bool = False,
        force: bool = False,
        avoid_conflicts: bool = False,
        prove: bool = False,
    ) -> ExecuteOptions:
        """A run's options: these flags, the configured ``jobs``, ``timeout``, ``shell``,
        ``reuse`` (``fresh`` turns it off), ``base`` and ``strict_scope`` where a flag is not
        given; derivation as resolved (``--no-derive``, else ``derive``)."""
        from planrun.selection import ExecuteOptions  # noqa: PLC0415 -- only a run needs it

        config = self.config
        return ExecuteOptions(
            paths=self.paths,
            fmt=self.fmt,
            root=self.root,
            wave=wave,
            tasks=tasks or [],
            jobs=jobs or config.jobs,
            timeout=timeout or config.timeout,
            fail_fast=fail_fast,
            failed=failed,
            force=force,
            shell=config.shell,
            avoid_conflicts=avoid_conflicts,
            shard=parse_shard(shard) if shard is not None else None,
            reuse=config.reuse and not fresh,
            argv=argv,
            derive=self.derive,
            base=base or config.base_ref,
            prove=prove,
            strict_scope=strict_scope or config.strict_scope,
        )
