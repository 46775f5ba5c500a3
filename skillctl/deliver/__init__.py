"""Delivery: get the lock's verdicts into the folders real agents read.

``sync`` writes the loadable skills into agent folders and removes what stopped being
loadable (``targets`` knows each agent's folders, ``manifest`` what skillctl wrote there,
``verdicts`` judges a cold repo on every core); ``agents`` shows what each installed agent
would load right now; ``importer`` brings existing agent folders under management; ``index``
(with ``folders``, which finds and reads skill folders, and ``ranking``, which ranks FTS5
matches in bounded time) and ``search`` keep the FTS index behind ``skillctl search``;
``mcp`` serves the same gate to agents that speak MCP.
"""
