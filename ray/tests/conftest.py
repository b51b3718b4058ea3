"""The agentcat-ray tests' fixtures and hooks, which live in ``ray_cluster`` (a conftest is not
type-checked here: every member's would be a module named ``conftest``)."""

from ray_cluster import anyio_backend, cluster, pytest_pyfunc_call

__all__ = ["anyio_backend", "cluster", "pytest_pyfunc_call"]
