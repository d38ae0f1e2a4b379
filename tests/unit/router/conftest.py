from __future__ import annotations

import pytest

from services.router.domain.classify import Classifier
from services.router.domain.responsibility import ResponsibilityList
from tests.unit.router._lists import REPO_LIST, load


@pytest.fixture(scope="session")
def repo_list() -> ResponsibilityList:
    return load(REPO_LIST)


@pytest.fixture(scope="session")
def classifier(repo_list: ResponsibilityList) -> Classifier:
    return Classifier(repo_list)
