"""The process inside a submission's sandbox: run the notebook, then answer the grader's calls (README, "Grade labs").

Started by `grading.sandbox` as ``python worker.py READ_FD WRITE_FD CELL_TIMEOUT`` inside bubblewrap, as an
unprivileged user, with the library's answers replaced by stubs. It reads the notebook from the first message,
runs its code cells in an IPython shell (each cell with a time limit; a failing cell does not stop the others),
reports which cells failed, and then, for every request ``{"id", "call", "args", "kwargs"}``, calls the student's
function of that name and replies ``{"id", "value"}`` or ``{"id", "error"}``. Everything here runs with the
student's code, so nothing here is trusted: the grader decodes every reply strictly and scores it itself.
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import codec  # noqa: E402

CHECK_CELL = re.compile(r"\s*grader\.check\(\s*[\"']q\d+[\"']\s*\)\s*")
MAX_MESSAGE = 256 * 1024 * 1024


def read_message(fd: int) -> bytes | None:
    header = _read_exactly(fd, 4)
    if header is None:
        return None
    (size,) = struct.unpack(">I", header)
    if size > MAX_MESSAGE:
        raise ValueError("message too large")
    return _read_exactly(fd, size)


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def write_message(fd: int, payload: bytes) -> None:
    data = struct.pack(">I", len(payload)) + payload
    while data:
        data = data[os.write(fd, data):]


class CellTimeout(BaseException):
    """Raised in a cell that runs past its time limit."""


def _alarm(signum, frame):
    raise CellTimeout("the cell ran past its time limit")


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def main() -> None:
    read_fd, write_fd, cell_timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    hello = json.loads(read_message(read_fd).decode("utf-8"))
    notebook, skip = hello["notebook"], set(hello["skip"])
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    signal.signal(signal.SIGALRM, _alarm)
    report = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code" or index in skip:
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if CHECK_CELL.fullmatch(source):
            continue  # the in-notebook public checks: the grader runs the tests itself
        signal.setitimer(signal.ITIMER_REAL, cell_timeout)
        try:
            result = shell.run_cell(source, store_history=False, silent=True)
            failure = result.error_before_exec or result.error_in_exec
        except BaseException as error:  # noqa: BLE001  (a timeout raised outside the cell's own code)
            failure = error
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if failure is not None:
            report.append({"cell": index, "error": _error(failure)})
    write_message(write_fd, json.dumps({"ready": True, "failed_cells": report}).encode("utf-8"))
    namespace = shell.user_ns
    while True:
        message = read_message(read_fd)
        if message is None:
            return
        request = json.loads(message.decode("utf-8"))
        reply: dict = {"id": request["id"]}
        function = namespace.get(request["call"])
        try:
            if not callable(function):
                raise NameError(f"the notebook defines no function {request['call']}")
            args = codec.decode(request["args"], plain=False)
            kwargs = codec.decode(request["kwargs"], plain=False)
            reply["value"] = codec.encode(function(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001  (everything the student's code raises is the reply)
            reply = {"id": request["id"], "error": _error(error)}
        try:
            payload = json.dumps(reply, allow_nan=True, separators=(",", ":")).encode("utf-8")
        except (TypeError, ValueError) as error:
            payload = json.dumps({"id": request["id"], "error": _error(error)}).encode("utf-8")
        write_message(write_fd, payload)


if __name__ == "__main__":
    main()
