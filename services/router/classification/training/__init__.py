"""Training (`make train`): never imported by the router's serving path (tests/unit/test_boundaries.py)."""
