"""Loaded by Python at start-up in test subprocesses (via PYTHONPATH): block the network."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import netguard  # noqa: E402

netguard.install()
