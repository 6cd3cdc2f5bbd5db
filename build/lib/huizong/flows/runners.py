"""Where a pass's per-batch work runs: in threads of this process (the default), or on Dask.

With Dask, each read-and-validate batch is a task on the cluster's workers; loading, the models
and publishing stay in the flow's process, the one writer of the warehouse. Workers must see the
inbox and warehouse folders at the same paths (a shared file system).
"""
from __future__ import annotations

LOCAL = "local"


def with_runner(flow_fn, dask: str | None):
    """`flow_fn` as is, or running its tasks on Dask: `dask` is a scheduler address such as
    tcp://10.0.0.5:8786, or "local" for a LocalCluster of two single-threaded worker processes."""
    if not dask:
        return flow_fn
    from prefect_dask import DaskTaskRunner

    if dask == LOCAL:
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1,
                                                "processes": True, "dashboard_address": None})
    else:
        runner = DaskTaskRunner(address=dask)
    return flow_fn.with_options(task_runner=runner)
