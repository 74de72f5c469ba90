"""Running many independent model runs: backends behind one small interface.

A study splits its work into batches (a batch is a few replicas) and asks a backend to
``map(batch_fn, batches)``: the results come back as a list ordered by batch index, whatever
the order in which workers finished, so a study's output does not depend on its backend.

* :class:`SerialBackend` — in this process.
* :class:`ProcessPoolBackend` — a local process pool (``--workers K``); if a worker dies, the
  pool is restarted and the batches whose results never arrived run again.
* :class:`DaskBackend` — a ``dask.distributed`` cluster (``--dask local`` or an address);
  batches of a worker that dies are recomputed by the scheduler.
"""

from dagsim.study.backend import Backend, BatchCallback, make_backend
from dagsim.study.dask_backend import DaskBackend
from dagsim.study.pool import ProcessPoolBackend, WorkerLost
from dagsim.study.serial import SerialBackend

__all__ = ["Backend", "BatchCallback", "DaskBackend", "ProcessPoolBackend", "SerialBackend", "WorkerLost", "make_backend"]
