"""The commands for agents: mcp (planrun's commands as MCP tools), hook (agent hooks)."""

from __future__ import annotations

from typing import Annotated

import typer

from planrun.cli.boundary import boundary
from planrun.errors import EXIT_OK


@boundary
def mcp() -> int:
    """Serve planrun's commands as MCP tools over stdio (needs: pip install 'planrun[mcp]')."""
    from planrun.errors import UsageError

    try:
        from planrun.mcp_server import serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types", "anyio"):
            raise
        raise UsageError(
            "planrun mcp needs the MCP Python SDK, which is not installed: "
            "install planrun[mcp] (pip install 'planrun[mcp]')"
        ) from None
    serve()
    return EXIT_OK


@boundary
def hook(
    adapter: Annotated[
        str | None,
        typer.Argument(help="The agent whose hook this is (run without one to list them)."),
    ] = None,
) -> int:
    """An agent hook that refuses to let the agent stop while a task it claimed done fails.

    Reads the agent's hook input on stdin. claude-code: exit 0 lets the agent stop, exit 2
    refuses, with what to do on stderr (at most hook_max_blocks times in a row)."""
    from planrun import hooks

    return hooks.command(adapter)
