"""Multivariate drift: changes in how features move together, which one-feature-at-a-time
statistics miss. Pure computation on polars frames and numpy arrays (no I/O)."""
