"""The nightly deployment: its schedule as the Prefect server holds it."""
import asyncio
import os
import subprocess
import sys
from pathlib import Path

from prefect.client.orchestration import get_client

from huizong.flows.nightly import nightly_deployment
from huizong.flows.rerun import rerun_deployment


def as_the_server_holds_it(deployment):
    """`deployment` applied to the Prefect server, then read back from it."""
    deployment_id = deployment.apply()

    async def read():
        async with get_client() as client:
            return await client.read_deployment(deployment_id)

    return asyncio.run(read())


def test_the_nightly_deployment_is_scheduled_at_two_in_shanghai(tmp_path: Path, prefect_harness):
    deployment = as_the_server_holds_it(nightly_deployment(tmp_path / "inbox", tmp_path / "warehouse"))
    assert deployment.name == "nightly"
    (schedule,) = deployment.schedules
    assert schedule.active
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert deployment.parameters == {"inbox": str(tmp_path / "inbox"), "warehouse": str(tmp_path / "warehouse")}
    assert deployment.global_concurrency_limit.limit == 1


def test_serve_without_a_server_says_how_to_start_one(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    out = subprocess.run([sys.executable, "-m", "huizong.cli", "serve"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "prefect server start" in out.stdout


def test_the_rerun_deployment_takes_the_reruns_parameters(tmp_path: Path, prefect_harness):
    deployment = as_the_server_holds_it(rerun_deployment(tmp_path / "inbox", tmp_path / "warehouse"))
    assert deployment.name == "rerun" and not deployment.schedules
    assert deployment.parameters == {"inbox": str(tmp_path / "inbox"), "warehouse": str(tmp_path / "warehouse"),
                                     "failed": False, "unit": None, "period": None, "year": None, "force": False}
    # the Run form offers what `huizong rerun` takes
    assert {"unit", "period", "failed", "force"} <= set(deployment.parameter_openapi_schema["properties"])
    assert deployment.global_concurrency_limit.limit == 1
