"""Simulated outside parties for the demo and tests: department systems, a window, shared data."""
