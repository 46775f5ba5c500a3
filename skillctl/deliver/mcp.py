"""``skillctl mcp``: the loader's gate, served over the Model Context Protocol (stdio).

An agent that speaks MCP gets three tools and nothing else: ``search_skills`` (the index,
loadable skills only), ``load_skill`` (SKILL.md and the file list of a loadable skill; any other
name is an error result carrying the loader's reason) and ``record_outcome`` (evidence for the
synth loop). Every call refreshes from disk and the lock, so a demotion committed while the
server runs is obeyed on the next call. Tool errors are MCP error results, never a crash, and
nothing is written to stdout except the protocol.

The ``mcp`` SDK is imported only here, so no other command pays for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from skillctl import __version__
from skillctl.errors import SkillctlError

INSTRUCTIONS = (
    "Skills managed by skillctl. Call search_skills with what you need to do; call load_skill with a "
    "result's name to read its SKILL.md before following it; after using a skill, call record_outcome. "
    "Only skills whose verification is current are offered; a skill that is refused must not be used."
)


def build_server(root: Path) -> Any:
    """The MCP server for the skills repo at *root* (not yet running)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    root = Path(root).resolve()
    server: Any = MCPServer(name="skillctl", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(description="Search the loadable skills by words in their name, description and body. "
                             "Returns the best matches first.")
    def search_skills(query: Annotated[str, Field(min_length=1, max_length=1000)],
                      limit: Annotated[int, Field(ge=1, le=100)] = 10) -> dict[str, Any]:
        from skillctl.deliver.search import search

        try:
            hits = search(root, query, limit)
        except SkillctlError as exc:
            raise ToolError(str(exc)) from None
        return {"results": [{"name": h.name, "description": h.description, "path": h.path} for h in hits]}

    @server.tool(description="Read a loadable skill: its SKILL.md text and the files beside it. "
                             "A skill that is not loadable now (demoted, quarantined, edited, unknown) is refused "
                             "with the reason.")
    def load_skill(name: Annotated[str, Field(min_length=1, max_length=200)]) -> dict[str, Any]:
        from skillctl.deliver.search import load_skill as load

        try:
            return load(root, name).to_json()
        except SkillctlError as exc:
            raise ToolError(exc.message if exc.path is None else str(exc)) from None

    @server.tool(description="Record whether using a skill worked, as evidence for its owners. "
                             "outcome is success or failure; note says what happened.")
    def record_outcome(name: Annotated[str, Field(min_length=1, max_length=200)],
                       outcome: Literal["success", "failure"],
                       note: Annotated[str | None, Field(max_length=4000)] = None) -> dict[str, Any]:
        from skillctl.synth.outcomes import record_outcome as record

        try:
            record(root, name, outcome, note, source="mcp")
        except SkillctlError as exc:
            raise ToolError(exc.message if exc.path is None else str(exc)) from None
        return {"recorded": True, "name": name, "outcome": outcome}

    return server


def serve(root: Path) -> None:
    """Run the server on stdin/stdout until the client closes the connection."""
    build_server(root).run("stdio")
