"""``planrun mcp``: the tools, their schemas and documents, progress, cancellation and the
resources, in process with the SDK's client; once over stdio with a real subprocess; and the
SDK stays optional and unimported by the other commands."""

from __future__ import annotations

import json
import re
import selectors
import sqlite3
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from conftest import run_cli
from planrun import docmodels
from planrun.mcp_server import build_server
from test_proc import alive, wait_for

REPO = Path(__file__).resolve().parents[1]
TOOLS = {"validate", "waves", "next", "execute", "status", "summary"}


def write_plan(root: Path, tasks: str, name: str = "plans/p.md") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\nplanrun: 1\ntasks:\n" + textwrap.dedent(tasks).strip("\n") + "\n---\n")
    return path


PLAN = """
  - {id: a, verify: "test $PLANRUN_WAVE", files: [a.py]}
  - {id: b, depends_on: [a], claimed: done, verify: "echo broken; exit 1"}
  - {id: c, depends_on: [a], verify: "test $PLANRUN_WAVE"}
"""


def with_client(body: Callable[[Client], Awaitable[None]], **kw: Any) -> None:
    async def main() -> None:
        async with Client(build_server(), **kw) as client:
            await body(client)

    anyio.run(main)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_plan(tmp_path, PLAN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_tools_hints_and_output_schemas(project: Path) -> None:
    async def body(client: Client) -> None:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == TOOLS
        for name in ("validate", "waves", "next", "status"):
            hints = tools[name].annotations
            assert hints is not None and hints.read_only_hint is True
        for name in ("execute", "summary"):
            hints = tools[name].annotations
            assert hints is not None
            assert (hints.read_only_hint, hints.destructive_hint) == (False, False)
        models = {
            "validate": docmodels.ValidateDocument,
            "waves": docmodels.WavesDocument,
            "next": docmodels.NextDocument,
            "status": docmodels.RunDocument,
            "execute": docmodels.RunDocument,
            "summary": docmodels.SummaryDocument,
        }
        for name, model in models.items():
            schema = tools[name].output_schema
            assert schema is not None
            assert set(schema["properties"]) == set(model.model_fields)
            assert "schema_version" in schema["required"]
        execute = tools["execute"].input_schema["properties"]
        assert {"paths", "format", "wave", "tasks", "failed", "jobs", "timeout", "root"} <= set(
            execute
        )
        assert {"paths", "format"} <= set(tools["validate"].input_schema["properties"])

    with_client(body)


def cli_json(*args: str) -> dict[str, Any]:
    run = run_cli(*args, "--json")
    doc: dict[str, Any] = json.loads(run.stdout)
    return doc


def test_each_tool_returns_the_cli_json_document(project: Path) -> None:
    async def body(client: Client) -> None:
        async def call(name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
            result = await client.call_tool(name, args or {})
            assert not result.is_error, result.content
            doc = result.structured_content
            assert doc is not None
            text = result.content[0]
            assert text.type == "text" and json.loads(text.text) == doc
            return doc

        assert await call("validate", {"paths": ["plans"], "strict": True}) == cli_json(
            "validate", "plans", "--strict"
        )
        assert await call("waves") == cli_json("waves", "plans")
        assert await call("next") == cli_json("next", "plans")
        ran = await call("execute", {"paths": ["plans/p.md"], "jobs": 2})
        assert ran["status"] == "failed"
        assert {t["id"]: t["status"] for t in ran["tasks"]} == {
            "p/a": "passed",
            "p/b": "failed",
            "p/c": "passed",
        }
        assert ran["tasks"][1]["tail"].endswith("broken")
        assert await call("status") == cli_json("status", "plans")
        assert await call("next") == cli_json("next", "plans")
        summary = await call("summary")
        assert summary["path"] == "plans/SUMMARY.md"
        assert summary["markdown"] == (project / "plans" / "SUMMARY.md").read_text()
        assert summary["status"] == "failed"
        only = await call("execute", {"tasks": ["p/c"], "no_summary": True})
        assert [t["id"] for t in only["tasks"]] == ["p/c"]

    with_client(body)


def test_the_models_describe_every_key_of_the_documents(project: Path) -> None:
    """A key jsondoc writes that the models do not declare would be missing from the schemas."""
    run_cli("execute", "plans", "--no-summary")
    docs = {
        "validate": cli_json("validate", "plans"),
        "waves": cli_json("waves", "plans"),
        "run": cli_json("status", "plans"),
        "next": cli_json("next", "plans"),
    }
    for kind, doc in docs.items():
        model = docmodels.DOCUMENTS[kind].model_validate(doc)
        assert not model.model_extra, (kind, model.model_extra)
        for name, value in model:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, docmodels.BaseModel):
                    assert not item.model_extra, (kind, name, item.model_extra)
                    for sub_name, sub in item:
                        for entry in sub if isinstance(sub, list) else [sub]:
                            if isinstance(entry, docmodels.BaseModel):
                                assert not entry.model_extra, (kind, sub_name, entry.model_extra)


def test_errors_are_tool_errors_with_the_plan_diagnostics(project: Path) -> None:
    write_plan(
        project,
        '  - {id: x, depends_on: [nope], verify: "test $PLANRUN_WAVE"}',
        name="bad/p.md",
    )

    async def body(client: Client) -> None:
        result = await client.call_tool("execute", {"paths": ["bad"]})
        assert result.is_error
        text = result.content[0]
        assert text.type == "text"
        assert "the plan has 1 error" in text.text
        assert 'bad/p.md:4: error[unknown-dependency] task "x" depends on "nope"' in text.text
        missing = await client.call_tool("waves", {"paths": ["nowhere"]})
        assert missing.is_error
        bad_shard = await client.call_tool("execute", {"shard": "5/2"})
        assert bad_shard.is_error
        text = bad_shard.content[0]
        assert text.type == "text" and "--shard 5/2: K must be between 1 and N" in text.text
        no_jobs = await client.call_tool("execute", {"jobs": 0})
        assert no_jobs.is_error
        text = no_jobs.content[0]
        assert text.type == "text" and "greater than or equal to 1" in text.text
        # validate reports an invalid plan in its document, like the CLI.
        valid = await client.call_tool("validate", {"paths": ["bad"]})
        assert not valid.is_error and valid.structured_content is not None
        assert valid.structured_content["ok"] is False

    with_client(body)


def test_execute_reports_progress_per_finished_task(project: Path) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async def body(client: Client) -> None:
        result = await client.call_tool("execute", {"jobs": 1}, progress_callback=progress)
        assert not result.is_error

    with_client(body)
    assert sorted(seen) == [
        (1.0, 3.0, "p/a: passed"),
        (2.0, 3.0, "p/b: failed"),
        (3.0, 3.0, "p/c: passed"),
    ]


def test_cancelling_execute_kills_the_process_groups_and_keeps_finished_results(
    project: Path,
) -> None:
    marker, pidfile = project / "ready", project / "pid"
    write_plan(
        project,
        f"""
  - {{id: quick, verify: "test $PLANRUN_WAVE"}}
  - id: slow
    depends_on: [quick]
    verify: "sleep 1000 & echo $! > {pidfile}; echo up > {marker}; wait"
""",
    )

    db = project / ".planrun" / "state.db"

    def stopped() -> None:
        grandchild = int(pidfile.read_text())
        end = time.monotonic() + 20
        while alive(grandchild) or run_statuses(db) != ["interrupted"]:
            if time.monotonic() > end:
                raise AssertionError("the run was not stopped")
            time.sleep(0.01)

    async def body(client: Client) -> None:
        async with anyio.create_task_group() as group:

            async def call() -> None:
                await client.call_tool("execute", {})

            group.start_soon(call)
            await anyio.to_thread.run_sync(wait_for, marker)
            group.cancel_scope.cancel()
        # Still connected: the cancellation itself stopped the run.
        await anyio.to_thread.run_sync(stopped)
        status = await client.call_tool("status", {})
        assert status.structured_content is not None
        assert {t["id"]: t["status"] for t in status.structured_content["tasks"]} == {
            "p/quick": "passed",
            "p/slow": "not_run",
        }
        assert status.structured_content["status"] == "interrupted"

    with_client(body, mode="legacy")


def run_statuses(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT status FROM runs")]
    finally:
        conn.close()


def test_resources_schema_and_last_summary(project: Path) -> None:
    async def body(client: Client) -> None:
        schema = (await client.read_resource("planrun://schema")).contents[0]
        assert getattr(schema, "text", None) == run_cli("schema").stdout
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["planrun://summary/{plan}"]
        with pytest.raises(MCPError, match=re.escape("no SUMMARY.md at plans/SUMMARY.md")):
            await client.read_resource("planrun://summary/plans")
        await client.call_tool("execute", {"paths": ["plans/p.md"]})
        last = (await client.read_resource("planrun://summary/plans%2Fp.md")).contents[0]
        assert getattr(last, "text", None) == (project / "plans" / "SUMMARY.md").read_text()
        for outside in ("..%2Fplans", "%2Fetc"):
            with pytest.raises(MCPError, match="Unknown resource"):
                await client.read_resource(f"planrun://summary/{outside}")

    with_client(body)


# -- over stdio, with a real subprocess


class Stdio:
    """A JSON-RPC peer on a child's stdin and stdout, one message per line."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self.stdin = proc.stdin
        self.stdout = proc.stdout
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.stdout, selectors.EVENT_READ)

    def send(self, message: dict[str, Any]) -> None:
        self.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
        self.stdin.flush()

    def response(self, request_id: int, limit: float = 60.0) -> dict[str, Any]:
        """Read messages until the response to ``request_id``; every line must be JSON-RPC."""
        end = time.monotonic() + limit
        while True:
            if not self.selector.select(max(0.0, end - time.monotonic())):
                raise AssertionError(f"no response to request {request_id}")
            line = self.stdout.readline()
            assert line, "the server closed its stdout"
            message: dict[str, Any] = json.loads(line)
            assert message["jsonrpc"] == "2.0", line
            if message.get("id") == request_id:
                return message


def test_stdio_end_to_end(project: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "planrun", "mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=project,
    )
    try:
        peer = Stdio(proc)
        peer.send(
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "test", "version": "1"},
                },
            }
        )
        init = peer.response(1)["result"]
        assert init["serverInfo"]["name"] == "planrun"
        assert "tools" in init["capabilities"] and "resources" in init["capabilities"]
        peer.send({"method": "notifications/initialized"})
        peer.send({"id": 2, "method": "tools/list"})
        tools = peer.response(2)["result"]["tools"]
        assert {t["name"] for t in tools} == TOOLS
        peer.send({"id": 3, "method": "tools/call", "params": {"name": "next", "arguments": {}}})
        result = peer.response(3)["result"]
        assert result["isError"] is False
        assert result["structuredContent"] == cli_json("next", "plans")
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


# -- optional and lazily imported


def imported_after(*argv: str) -> list[str]:
    code = (
        "import json, sys\n"
        "from planrun.cli import main\n"
        f"sys.argv = ['planrun', *{list(argv)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('mcp', 'mcp_types'))), file=sys.stderr)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    found: list[str] = json.loads(run.stderr.splitlines()[-1])
    return found


def test_other_commands_never_import_the_sdk(project: Path) -> None:
    assert imported_after("--version") == []
    assert imported_after("validate", "plans") == []
    assert imported_after("next", "plans", "--json") == []


def test_without_the_sdk_planrun_mcp_says_how_to_install_it() -> None:
    code = (
        "import sys\n"
        "sys.modules['mcp'] = None  # what Python does when the package is not installed\n"
        "from planrun.cli import main\n"
        "sys.argv = ['planrun', 'mcp']\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert "install planrun[mcp]" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_sdk_is_an_extra_not_a_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("mcp") for d in project["dependencies"])
    assert project["optional-dependencies"]["mcp"] == ["mcp>=2.3,<3"]
    assert "mcp>=2.3,<3" in project["optional-dependencies"]["test"]


def test_execute_refuses_a_summary_it_may_not_write_before_running(project: Path) -> None:
    mine = project / "plans" / "SUMMARY.md"
    mine.write_text("# my notes\n")

    async def body(client: Client) -> None:
        result = await client.call_tool("execute", {})
        assert result.is_error
        text = result.content[0]
        assert text.type == "text"
        assert "exists and was not written by planrun" in text.text

    with_client(body)
    assert mine.read_text() == "# my notes\n"
    assert not (project / ".planrun").exists()  # nothing ran, nothing was recorded


def test_the_tools_take_derive_off_from_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # derive = false in the configuration holds for the tools as for the commands: a task
    # without a verify is judged without the checks planrun would derive from its text.
    (tmp_path / "tasks.md").write_text("# Tasks\n\n- [x] T001 Create the model in src/app.py\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("x = 1\n")
    (tmp_path / "planrun.toml").write_text("derive = false\n")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)

    async def body(client: Client) -> None:
        async def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
            result = await client.call_tool(name, args)
            assert not result.is_error, result.content
            assert result.structured_content is not None
            return result.structured_content

        checked = await call("validate", {"paths": ["tasks.md"]})
        assert checked == cli_json("validate", "tasks.md")
        codes = {d["code"] for d in checked["diagnostics"]}
        assert "derived-checks" not in codes
        ran = await call("execute", {"paths": ["tasks.md"], "no_summary": True})
        assert [t["status"] for t in ran["tasks"]] == ["unverified"]
        assert await call("status", {"paths": ["tasks.md"]}) == cli_json("status", "tasks.md")
        assert await call("next", {"paths": ["tasks.md"]}) == cli_json("next", "tasks.md")

    with_client(body)
