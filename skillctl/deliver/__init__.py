"""Delivery: getting the lock's verdicts to the agents people use.

``sync`` writes the loadable skills into agent folders and removes what stopped being
loadable (``targets`` knows each agent's folders, ``manifest`` what skillctl wrote there);
``agents`` shows what each installed agent would load right now; ``importer`` brings existing
agent folders under management; ``index``/``search`` and ``mcp`` serve agents that ask.
"""
