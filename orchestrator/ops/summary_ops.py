"""Kernels of this family: see orchestrator/ops/__init__.py (module being written)."""
