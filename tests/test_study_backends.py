"""Study backends: same results in batch order serially, in a process pool and on a real Dask cluster."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from availability_scenarios import n_copies
from distributed import Client, LocalCluster
from helpers import worker_pid
from typer.testing import CliRunner

from dagsim.availability import availability
from dagsim.cli import app
from dagsim.study import DaskBackend, ProcessPoolBackend, SerialBackend, make_backend


@pytest.fixture(scope="module")
def cluster():
    """A real LocalCluster: two worker processes on the loopback interface."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    """A two-copy scenario with client protocols, 2-day replicas, written as YAML."""
    import yaml

    data = n_copies(2, protocols=True, length="2d").model_dump(mode="json")
    path = tmp_path_factory.mktemp("scenario") / "two-copies.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


BATCHES = [(1, 2), (3, 4, 5), (), (6,)]


def test_serial_backend_maps_in_batch_order():
    """Results come back in batch order and every batch is reported once."""
    seen = []
    results = SerialBackend().map(sum, BATCHES, on_result=lambda i, r: seen.append(i))
    assert results == [3, 12, 0, 6]
    assert sorted(seen) == [0, 1, 2, 3]


def test_process_pool_backend_maps_in_batch_order():
    """A process pool returns the same list, ordered by batch index."""
    seen = []
    with ProcessPoolBackend(2) as backend:
        assert backend.map(sum, BATCHES, on_result=lambda i, r: seen.append(i)) == [3, 12, 0, 6]
    assert sorted(seen) == [0, 1, 2, 3]


def test_dask_backend_maps_in_batch_order(cluster):
    """A Dask cluster returns the same list, ordered by batch index."""
    with Client(cluster) as client:
        assert DaskBackend(client).map(sum, BATCHES) == [3, 12, 0, 6]


def test_make_backend_choice():
    """One worker is serial, several a process pool."""
    assert isinstance(make_backend(1), SerialBackend)
    pool = make_backend(3)
    assert isinstance(pool, ProcessPoolBackend) and pool.workers == 3
    pool.close()


def run_cli(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


def test_availability_csv_is_byte_identical_serial_pool_and_dask(scenario_file, tmp_path, cluster):
    """The CLI writes the same bytes serially, with --workers 2 and on a Dask cluster given by address."""
    serial = _written_alike(["availability", str(scenario_file), "--years", "0.05", "--seed", "11"], tmp_path, cluster)
    assert serial["summary.json"].count(b"\n") > 5


def test_fast_study_files_are_byte_identical_serial_pool_and_dask(scenario_file, tmp_path, cluster):
    """--fast writes the same bytes serially, with --workers 2 and on the Dask cluster: each
    worker builds its own fast runner and a replica depends only on its index."""
    serial = _written_alike(["availability", str(scenario_file), "--fast", "--years", "2", "--seed", "12"], tmp_path, cluster)
    assert serial["replicas.csv"].count(b"\n") == 366  # 365 two-day replicas


def _written_alike(command: list[str], tmp_path, cluster) -> dict[str, bytes]:
    """Runs ``command`` serially, with --workers 2 and on ``cluster``; asserts the files written
    are the same bytes and returns the serial ones."""
    run_cli([*command, "--out", str(tmp_path / "serial")])
    run_cli([*command, "--workers", "2", "--out", str(tmp_path / "pool")])
    run_cli([*command, "--dask", cluster.scheduler_address, "--out", str(tmp_path / "dask")])
    files = {}
    for name in ("availability.csv", "replicas.csv", "summary.json"):
        files[name] = (tmp_path / "serial" / name).read_bytes()
        assert files[name] == (tmp_path / "pool" / name).read_bytes()
        assert files[name] == (tmp_path / "dask" / name).read_bytes()
    return files


def test_killed_dask_worker_loses_nothing(cluster):
    """A worker killed mid-study: its batches run again elsewhere and the result is identical."""
    scenario = n_copies(2, length="5d")
    expected = availability(scenario, replicas=16, seed=3)
    killed: list[int] = []
    with Client(cluster) as client:
        pids = client.run(os.getpid)

        def kill_once(done, planned, estimate):
            if killed:
                return
            busy = [address for address, keys in client.processing().items() if keys]
            if busy:
                pid = pids[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        result = availability(scenario, replicas=16, seed=3, backend=DaskBackend(client), batch_size=1, progress=kill_once)
        client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker
    assert killed, "no worker was busy when the first batch finished"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[0], 0)
    assert result.records == expected.records
    assert result.table.equals(expected.table)


def test_killed_pool_worker_loses_nothing():
    """A process pool worker killed mid-study: the pool restarts, lost batches rerun, the result is identical."""
    scenario = n_copies(2, length="5d")
    expected = availability(scenario, replicas=16, seed=3)
    killed: list[int] = []
    with ProcessPoolBackend(2) as backend:
        pids = sorted(set(backend.map(worker_pid, [None] * 8)))

        def kill_once(done, planned, estimate):
            if not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        result = availability(scenario, replicas=16, seed=3, backend=backend, batch_size=1, progress=kill_once)
    assert killed
    assert result.records == expected.records
    assert result.table.equals(expected.table)


def test_precision_study_stops_at_the_same_round_on_any_backend():
    """--precision runs rounds of 16, 32, ... replicas until the target: the same count serially and in a pool."""
    scenario = n_copies(2)
    serial = availability(scenario, precision=0.3, seed=4)
    pooled = availability(scenario, precision=0.3, seed=4, workers=2)
    assert serial.replicas in (16, 32, 64, 128)
    assert serial.precision_reached
    assert serial.headline.relative_half_width() <= 0.3
    assert pooled.records == serial.records


def test_precision_study_stops_at_max_years():
    """An unreachable precision stops at max_years and says it was not reached."""
    result = availability(n_copies(2), precision=0.001, max_years=20 / 365, seed=4)
    assert result.replicas == 20
    assert result.precision_reached is False
