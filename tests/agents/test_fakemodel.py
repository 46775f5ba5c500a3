"""The fake model speaks each wire format well enough for the official SDK clients to parse it."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.agents.fakemodel import FakeModel, Reply


def test_chat_completions_stream_and_script() -> None:
    script = [{"tool": ["Bash", "terminal"], "arguments": {"terminal": {"command": "ls"}}}, "done"]
    with FakeModel(script=script) as fm:
        client = openai.OpenAI(base_url=f"{fm.url}/v1", api_key="x")
        tools = [{"type": "function", "function": {"name": "terminal", "parameters": {"type": "object"}}}]
        first = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}],
                                               tools=tools)  # type: ignore[arg-type]
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        assert call.function.name == "terminal" and json.loads(call.function.arguments) == {"command": "ls"}
        stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}],
                                                tools=tools, stream=True)  # type: ignore[arg-type]
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == "done"
        # the script is used up: a final answer from now on
        again = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}], tools=tools)
        assert again.choices[0].message.content == "ok"
        assert [r.body["messages"][0]["content"] for r in fm.model_requests()] == ["hi", "hi", "x"]


def test_responses_stream() -> None:
    with FakeModel(script=[{"tool": "exec_command", "arguments": {"cmd": "pwd"}}]) as fm:
        client = openai.OpenAI(base_url=f"{fm.url}/v1", api_key="x")
        tools = [{"type": "function", "name": "exec_command", "parameters": {"type": "object"}}]
        events = list(client.responses.create(model="m", input="hi", tools=tools, stream=True))  # type: ignore[arg-type]
        done = events[-1]
        assert done.type == "response.completed"
        item = done.response.output[0]
        assert item.type == "function_call" and json.loads(item.arguments) == {"cmd": "pwd"}
        plain = client.responses.create(model="m", input="hi")
        assert plain.output_text == "ok"


def test_anthropic_sse_is_well_formed() -> None:
    with FakeModel(script=[{"tool": "Bash", "arguments": {"command": "id"}}]) as fm:
        body = {"model": "c", "max_tokens": 5, "stream": True, "messages": [{"role": "user", "content": "hi"}],
                "tools": [{"name": "Bash", "input_schema": {"type": "object"}}]}
        resp = httpx.post(f"{fm.url}/v1/messages?beta=true", json=body)
        events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")]
        assert next(e["type"] for e in events) == "message_start"
        assert events[-2]["delta"]["stop_reason"] == "tool_use"
        assert json.loads(events[2]["delta"]["partial_json"]) == {"command": "id"}
        assert fm.model_requests()[0].body == body


def test_side_requests_do_not_consume_the_script() -> None:
    with FakeModel(script=["scripted"]) as fm:
        untooled = httpx.post(f"{fm.url}/v1/messages", json={"messages": [], "max_tokens": 1}).json()
        assert untooled["content"][0]["text"] == "ok"
        tooled = httpx.post(f"{fm.url}/v1/messages", json={"messages": [], "tools": [{"name": "Bash"}]}).json()
        assert tooled["content"][0]["text"] == "scripted"
        assert httpx.get(f"{fm.url}/api/show").status_code == 404


def test_bad_script_entry_is_refused() -> None:
    with pytest.raises(ValueError):
        Reply.parse(42)
