"""Delivery: get the lock's verdicts into the folders real agents read.

``sync`` writes the loadable skills into agent folders and removes what stopped being
loadable (``targets`` knows each agent's folders, ``manifest`` what skillctl wrote there);
``agents`` shows what each installed agent would load right now; ``importer`` brings existing
agent folders under management; ``index`` and ``search`` keep the FTS index behind
``skillctl search``; ``mcp`` serves the same gate to agents that speak MCP.
"""
