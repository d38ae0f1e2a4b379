from __future__ import annotations

import pytest

from services.router.classification.decision import Engine
from services.router.settings import RouterSettings
from services.router.tables import load_engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The committed artefact, knowledge base and list, as the router loads them."""
    return load_engine(RouterSettings())
