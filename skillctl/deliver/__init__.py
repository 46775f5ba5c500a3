"""Delivery: get the lock's verdicts into the folders real agents read.

``sync`` writes the loadable skills into agent folders and removes what stopped being
loadable (``targets`` knows each agent's folders, ``manifest`` what skillctl wrote there);
``agents`` shows what each installed agent would load right now; ``importer`` brings existing
agent folders under management.
"""
