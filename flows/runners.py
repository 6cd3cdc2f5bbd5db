"""Where a pass's per-batch work runs: in threads of this process (the default), or on Dask.

With Dask, each read-and-validate batch is a task on the cluster's workers; loading, the models
and publishing stay in the flow's process, the one writer of the warehouse. Workers must see the
inbox and warehouse folders at the same paths (a shared file system), and reach the pass's
Prefect API (docs/dask.md).
"""
from __future__ import annotations

from huizong.core.errors import HuizongError

LOCAL = "local"


class DaskNeedsAServer(HuizongError):
    """A pass on an external Dask scheduler without a Prefect server of its own."""


def refusal(address: str) -> str:
    return (f"a pass on the Dask scheduler at {address} needs a Prefect server that its workers reach, "
            "not the temporary one a pass starts (it ends with the pass and listens on 127.0.0.1 only): "
            "run `prefect server start --host 0.0.0.0` on one machine and export "
            "PREFECT_API_URL=http://<that machine>:4200/api here and for every `dask worker`")


def require_a_server(address: str) -> None:
    """DaskNeedsAServer unless PREFECT_API_URL names a Prefect server (the environment, the
    profile), one not started by this process for one pass.

    A Dask worker keeps one sender of Prefect events for its whole life, bound to the API it
    first sent to (Prefect's EventsWorker is one per process, whatever the URL): with a
    temporary server per pass, the workers' task runs of every later pass go to the first
    pass's server, gone by then, and Prefect records none of them. With one real server, the
    URL never changes."""
    from huizong.flows.server import configured_api_url, is_temporary

    url = configured_api_url()
    if not url or is_temporary(url):
        raise DaskNeedsAServer(refusal(address))


def with_runner(flow_fn, dask: str | None):
    """`flow_fn` as is, or running its tasks on Dask: `dask` is a scheduler address such as
    tcp://10.0.0.5:8786, or "local" for a LocalCluster of two single-threaded worker processes,
    started and stopped by the pass (its workers end with it: Prefect's temporary server will
    do). An external scheduler needs a Prefect server (`require_a_server`)."""
    if not dask:
        return flow_fn
    if dask != LOCAL:
        require_a_server(dask)
    from prefect_dask import DaskTaskRunner

    if dask == LOCAL:
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1,
                                                "processes": True, "dashboard_address": None})
    else:
        runner = DaskTaskRunner(address=dask)
    return flow_fn.with_options(task_runner=runner)
