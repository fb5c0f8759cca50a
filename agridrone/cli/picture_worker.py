"""preview.png and dose.png of ``agridrone plan`` drawn, and its ISOXML TASKDATA.zip
rendered, in a forked second process, so that a 2-core machine plans and draws at once.

Forked when ``plan`` starts, the worker imports the drawing modules (Pillow,
:mod:`agridrone.raster_canvas`) and the ISOXML library (75 ms of the parent's critical path
when it rendered TASKDATA.zip itself) while the parent plans; it then receives the field, plan.json
document, dose and title (pickled through a pipe), draws the two pictures (0.2-0.35 s on
111 ha; 0.7 s when they were drawn with matplotlib) and renders TASKDATA.zip while the
parent writes plan.json, the mission files and dose.tif, and sends the bytes back (the
dose raster already averaged down to the picture's size: a tenth of the bytes). They are
the bytes :func:`worker_files` makes in one process; nothing is written to disk until the
parent has every file, so an error or Ctrl-C in either process leaves no half-written
folder. When forking is not possible or useful (no ``os.fork``, one core, or threads
already running, which a fork could leave holding a lock) or the worker fails, the parent
makes them itself.
"""

from __future__ import annotations

import os
import pickle
import struct
import threading
from dataclasses import replace

HEADER = struct.Struct("<Q")  # length in bytes of the pickle that follows


def fork_useful() -> bool:
    """Whether a drawing process can run beside this one: ``os.fork`` exists, this
    process may use more than one core and it runs no other thread."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return len(cores) > 1


class PictureWorker:
    """The drawing process; use as a context manager around planning, then :meth:`draw`.
    Leaving the ``with`` block (normally or by an exception) ends and reaps the worker."""

    def __init__(self) -> None:
        self._pid: int | None = None
        self._to_child: int | None = None
        self._from_child: int | None = None

    def __enter__(self) -> PictureWorker:
        if not fork_useful():
            return self
        child_in, parent_out = os.pipe()
        parent_in, child_out = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            os.close(parent_out)
            os.close(parent_in)
            _serve(child_in, child_out)
        os.close(child_in)
        os.close(child_out)
        self._pid, self._to_child, self._from_child = pid, parent_out, parent_in
        return self

    def draw(self, field, document: dict, dose, title: str, meanwhile,
             isoxml: bool = False) -> tuple[dict[str, bytes], object]:
        """preview.png and dose.png (name -> bytes) of the plan, with TASKDATA.zip when
        ``isoxml``, and what ``meanwhile()`` returns, called while the worker works. Done
        here when there is no worker or the worker failed."""
        from agridrone.dose_map import drawing_raster

        if self._pid is None:
            return worker_files(field, document, dose, title, isoxml), meanwhile()
        drawn = replace(dose, raster=drawing_raster(dose.raster))  # a tenth of the bytes to send
        payload = pickle.dumps((field, document, drawn, title, isoxml),
                               protocol=pickle.HIGHEST_PROTOCOL)
        sender = threading.Thread(target=_send, args=(self._to_child, payload), daemon=True)
        sender.start()  # the worker may still be importing: the pipe fills, this thread waits
        result = meanwhile()
        sender.join()
        self._to_child = None  # closed by _send
        made = self._receive()
        if made is None:
            made = worker_files(field, document, dose, title, isoxml)
        return made, result

    def _receive(self) -> dict[str, bytes] | None:
        """The worker's files, or None if it failed; reaps it."""
        try:
            with os.fdopen(self._from_child, "rb") as stream:
                self._from_child = None
                data = stream.read()
        except OSError:
            data = b""
        status = self._reap()
        if status != 0 or len(data) < HEADER.size:
            return None
        (length,) = HEADER.unpack_from(data)
        if len(data) != HEADER.size + length:
            return None
        return pickle.loads(data[HEADER.size:])

    def _reap(self) -> int | None:
        """Wait for the worker to exit; its exit status (None if there was none)."""
        if self._pid is None:
            return None
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return os.waitstatus_to_exitcode(status)

    def __exit__(self, *exc_info) -> None:
        for fd in (self._to_child, self._from_child):
            if fd is not None:
                os.close(fd)  # the worker reads end-of-file and exits without drawing
        self._to_child = self._from_child = None
        self._reap()


def worker_files(field, document: dict, dose, title: str, isoxml: bool) -> dict[str, bytes]:
    """The files the worker makes, name -> bytes: the pictures
    (:func:`agridrone.planner.plan_pictures`) and, when ``isoxml``, TASKDATA.zip."""
    from agridrone.planner import plan_pictures
    from missions.files import plan_exports

    return {**plan_pictures(field, document, dose, title), **plan_exports(document, isoxml=isoxml)}


def _send(fd: int, payload: bytes) -> None:
    """Write the length-prefixed ``payload`` to ``fd`` and close it (a dead reader: ignored,
    the parent then draws itself)."""
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(HEADER.pack(len(payload)))
            stream.write(payload)
    except OSError:
        pass


def _serve(read_fd: int, write_fd: int) -> None:
    """The worker's whole life: import the drawing and ISOXML modules, read the plan, make
    its files, send them, exit (status 0 only when the files were sent)."""
    status = 1
    try:
        import agridrone.preview  # noqa: F401 - the drawing modules, imported while the parent plans
        import missions.formats.isoxml_task  # noqa: F401 - and the ISOXML library
        with os.fdopen(read_fd, "rb") as stream:
            data = stream.read()
        if len(data) >= HEADER.size:
            made = worker_files(*pickle.loads(data[HEADER.size:]))
            payload = pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_fd, "wb") as stream:
                stream.write(HEADER.pack(len(payload)))
                stream.write(payload)
            status = 0
    except BaseException:  # noqa: BLE001 - any failure: the parent draws instead
        status = 1
    finally:
        os._exit(status)
