"""The backend contract (tests/search/backend_contract.py) is subclassed once per backend."""

import pytest

pytest.register_assert_rewrite("tests.search.backend_contract")
