"""Peer engines run through the same process as windowsvc, for the comparison benchmarks."""
