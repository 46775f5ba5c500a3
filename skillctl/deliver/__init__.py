"""Delivery: getting the lock's verdicts to the agents people use (index and search, the MCP server)."""
