"""Moved: the chain-rule step model is vizgrad.graph.steps (`from vizgrad.graph.steps import steps`).

A thin re-export kept only until its last importers (vizgrad/walkthrough_sources.py, now moving to
vizgrad/app/walkthrough.py, vizgrad/playground.py and the walkthrough tests) import
vizgrad.graph.steps; then this file goes.
"""
from vizgrad.graph.format import tex_name as _tex  # noqa: F401  (a test reads the escaper under its old name)
from vizgrad.graph.steps import *  # noqa: F401,F403
from vizgrad.graph.steps import __all__  # noqa: F401
