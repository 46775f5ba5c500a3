"""Pin resolvers, one module per datasource behind one interface (see base.py)."""
