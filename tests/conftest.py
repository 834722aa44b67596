"""Shared test setup.

Optional references: torch (parity tests) and Chromium (browser tests). Each test that needs one
calls `need_torch()` / uses the `torch_ref` fixture, which skips when it is missing, unless CI set
VIZGRAD_REQUIRE_TORCH=1 (or VIZGRAD_REQUIRE_BROWSER=1), where a missing reference fails the test.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads: see app.py

import pytest


def need_torch():
    """Import and return real torch (single-threaded), or skip (fail under VIZGRAD_REQUIRE_TORCH=1)."""
    try:
        import torch
    except ImportError:
        if os.environ.get("VIZGRAD_REQUIRE_TORCH") == "1":
            pytest.fail("torch is required (VIZGRAD_REQUIRE_TORCH=1) but is not installed")
        pytest.skip("torch not installed: parity test skipped (pip install torch==2.13.0 to run it)")
    torch.set_num_threads(1)
    return torch


@pytest.fixture
def torch_ref():
    return need_torch()
