"""A submission's sandbox: bubblewrap, an unprivileged user, limits, and a pipe to the grader (README, "Grade labs").

`Sandbox` starts ``worker.py`` in a bubblewrap sandbox with its own PID, network, IPC and UTS namespaces (so no
network, no view of the grader's processes or command line), a read-only view of the system, the Python
installation, the virtual environment and a *grading copy* of the library in which the functions a lab asks
students to write are stubs (`grading_library`), a size-limited tmpfs as the only writable place, no
environment but a few fixed variables, and limits on address space, CPU seconds, processes and file size (set
with ``prlimit`` before bubblewrap starts). When the grader runs as root, the sandboxed process runs as a fresh
unprivileged uid of its own (``setpriv``), so the process limit counts only the sandbox's processes; otherwise
bubblewrap's user namespace maps the grader's user to an unprivileged id. `Sandbox.close` kills bubblewrap,
whose PID namespace takes every process the student started with it, in any session, and checks that none is
left.
"""

from __future__ import annotations

import ast
import compileall
import json
import os
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAX_REPLY = 256 * 1024 * 1024


class SandboxError(RuntimeError):
    """The sandbox could not be started, or died."""


class CallTimeout(RuntimeError):
    """The student's code did not answer in time."""


@dataclass(frozen=True)
class Limits:
    """What one sandbox may use.

    Args:
        memory: bytes of address space per process.
        cpu: CPU seconds per process.
        processes: processes and threads of the sandbox's user.
        file_size: bytes of the largest file it may write.
        scratch: bytes of its writable tmpfs folders (/scratch and /tmp).
        cell_timeout: seconds one notebook cell may run.
    """

    memory: int = 6 * 1024**3
    cpu: int = 600
    processes: int = 128
    file_size: int = 64 * 1024**2
    scratch: int = 64 * 1024**2
    cell_timeout: float = 60.0

    def __post_init__(self) -> None:
        for name in ("memory", "cpu", "processes", "file_size", "scratch", "cell_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}")


def bwrap_available() -> bool:
    """Whether bubblewrap and prlimit are installed."""
    return shutil.which("bwrap") is not None and shutil.which("prlimit") is not None


# ---------------------------------------------------------------------------------------------- the library copy


def _stub(name: str, indent: str, qualified: str) -> list[str]:
    return [f"{indent}def {name}(*args, **kwargs):\n",
            f"{indent}    raise NotImplementedError({qualified + ' is unavailable while grading: write it yourself'!r})\n"]


def grading_library(package: Path, unavailable: tuple[str, ...], out: Path) -> Path:
    """Copy the library `package` to ``out/dltheory`` with each "module:qualname" of `unavailable` a stub.

    The stub keeps the name and raises NotImplementedError saying the function is unavailable while grading; the
    original source is gone from the copy (and no compiled file of it is left), so it can be neither called,
    reloaded nor read from inside the sandbox.

    Raises:
        ValueError: if an entry of `unavailable` names no function of the library.
    """
    target = out / "dltheory"
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    edits: dict[Path, list[tuple[int, int, list[str]]]] = {}
    for entry in unavailable:
        module, _, qualname = entry.partition(":")
        parts = module.split(".")
        if parts[0] != "dltheory" or not qualname:
            raise ValueError(f"unavailable entries must be 'dltheory.module:name', got {entry!r}")
        path = target.joinpath(*parts[1:]).with_suffix(".py")
        if not path.is_file():
            path = target.joinpath(*parts[1:], "__init__.py")
        if not path.is_file():
            raise ValueError(f"unavailable entry {entry!r}: no module {module}")
        body = ast.parse(path.read_text(encoding="utf-8")).body
        node = None
        for name in qualname.split("."):
            node = next((item for item in body if isinstance(item, (ast.FunctionDef, ast.ClassDef))
                         and item.name == name), None)
            if node is None:
                raise ValueError(f"unavailable entry {entry!r}: {module} defines no {qualname}")
            body = node.body
        if not isinstance(node, ast.FunctionDef):
            raise ValueError(f"unavailable entry {entry!r} is not a function")
        start = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
        indent = " " * node.col_offset
        edits.setdefault(path, []).append((start, node.end_lineno, _stub(node.name, indent, f"{module}.{qualname}")))
    for path, changes in edits.items():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for start, end, replacement in sorted(changes, reverse=True):
            lines[start - 1:end] = replacement
        path.write_text("".join(lines), encoding="utf-8")
    compileall.compile_dir(str(target), quiet=1, workers=1)
    for folder in [out, *out.rglob("*")]:
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    return target


# ---------------------------------------------------------------------------------------------- bubblewrap


def _system_binds() -> list[str]:
    args = []
    for path in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.lexists(path):
            args += ["--ro-bind", path, path] if not os.path.islink(path) else ["--symlink", os.readlink(path), path]
    for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/fonts",
                 "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/mime.types"):
        args += ["--ro-bind-try", path, path]
    return args


def _ancestors(paths: list[Path], covered: list[Path]) -> list[str]:
    args, made = [], set()
    for path in paths:
        for parent in reversed(path.parents):
            if parent in (Path("/"), Path("/tmp")) or parent in made or any(parent == c or c in parent.parents
                                                                              for c in covered):
                continue
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def bwrap_command(library: Path, package: Path, worker_dir: Path, uid: int | None, limits: Limits,
                  fds: tuple[int, int]) -> list[str]:
    """The command line that runs the worker in its sandbox (see the module docstring)."""
    python = Path(sys.executable)
    mounts = sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix)}, key=lambda p: len(p.parts))
    system = [Path(p) for p in ("/usr", "/bin", "/sbin", "/lib", "/lib64")]
    mounts = [m for m in mounts if not any(m == s or s in m.parents for s in system)]
    command = ["prlimit", f"--as={limits.memory}", f"--cpu={limits.cpu}", f"--nproc={limits.processes}",
               f"--fsize={limits.file_size}", "--core=0", "--", "bwrap",
               "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session", "--clearenv", *_system_binds()]
    # The writable tmpfs folders come first, so that a checkout or a venv that lives under /tmp (a CI clone, say)
    # is bound read-only on top of the empty /tmp rather than hidden by it.
    command += ["--perms", "1777", "--size", str(limits.scratch), "--tmpfs", "/tmp",
                "--perms", "1777", "--size", str(limits.scratch), "--tmpfs", "/scratch"]
    command += _ancestors([*mounts, package, Path("/grader")], system)
    for mount in mounts:
        command += ["--ro-bind", str(mount), str(mount)]
    command += ["--ro-bind", str(library), str(package), "--ro-bind", str(worker_dir), "/grader",
                "--proc", "/proc", "--dev", "/dev", "--chdir", "/scratch"]
    environment = {"HOME": "/scratch", "PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
                   "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/scratch/.matplotlib", "IPYTHONDIR": "/scratch/.ipython",
                   "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                   "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    for key, value in environment.items():
        command += ["--setenv", key, value]
    if uid is None:  # not root: bubblewrap's user namespace maps us to an unprivileged id
        command += ["--unshare-user", "--uid", "65534", "--gid", "65534", "--cap-drop", "ALL", "--"]
    else:
        command += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs",
                    "--inh-caps=-all", "--bounding-set=-all", "--"]
    return command + [str(python), "-s", "/grader/worker.py", str(fds[0]), str(fds[1]), str(limits.cell_timeout)]


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status", encoding="utf-8") as stream:
                    for line in stream:
                        if line.startswith("Uid:"):
                            if int(line.split()[1]) == uid:
                                found.append(int(entry))
                            break
            except (OSError, ValueError):
                continue
    return found


class Sandbox:
    """One running worker: started with a notebook, answering `call` until `close`."""

    def __init__(self, notebook: str, library: Path, package: Path, worker_dir: Path, limits: Limits,
                 log_dir: Path) -> None:
        self.notebook, self.library, self.package, self.worker_dir = notebook, library, package, worker_dir
        self.limits, self.log_dir = limits, log_dir
        self.uid = (200_000 + secrets.randbelow(1_000_000_000)) if os.geteuid() == 0 else None
        self.process: subprocess.Popen | None = None
        self._next_id = 0
        self._buffer = b""

    def start(self, timeout: float, skip: list[int] = ()) -> list[dict]:
        """Start the sandbox and run the notebook but the code cells numbered in `skip` (counting code cells from
        0); return the cells that failed (``{"cell", "error"}``).

        Raises:
            CallTimeout: if the notebook did not finish within `timeout` seconds (the sandbox is closed).
            SandboxError: if the sandbox did not start or died (closed too).
        """
        to_child, from_grader = os.pipe()
        to_grader, from_child = os.pipe()
        child_fds = (to_child, from_child)
        self._log = tempfile.TemporaryFile(dir=self.log_dir)
        command = bwrap_command(self.library, self.package, self.worker_dir, self.uid, self.limits, child_fds)
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=self._log, pass_fds=child_fds, start_new_session=True)
        finally:
            os.close(to_child)
            os.close(from_child)
        self._write, self._read = from_grader, to_grader
        try:
            self._send(json.dumps({"notebook": self.notebook, "skip": list(skip)}).encode("utf-8"))
            ready = json.loads(self._receive(time.monotonic() + timeout))
        except (CallTimeout, SandboxError):
            self.close()
            raise
        if type(ready) is not dict or ready.get("ready") is not True or type(ready.get("failed_cells")) is not list:
            self.close()
            raise SandboxError("the notebook's process sent no report")
        return [cell for cell in ready["failed_cells"] if type(cell) is dict][:1000]

    def _send(self, payload: bytes) -> None:
        data = struct.pack(">I", len(payload)) + payload
        try:
            while data:
                data = data[os.write(self._write, data):]
        except (BrokenPipeError, OSError):
            raise SandboxError(self._died()) from None

    def _died(self) -> str:
        code = self.process.poll() if self.process else None
        self._log.seek(0)
        tail = self._log.read()[-600:].decode("utf-8", "replace").strip().splitlines()
        reason = tail[-1] if tail and tail[-1].startswith("bwrap") else ""
        if code is not None and code < 0:
            return f"the notebook's process was killed by signal {-code} {reason}".rstrip()
        return f"the notebook's process died (exit status {code}) {reason}".rstrip()

    def _fill(self, size: int, deadline: float) -> None:
        while len(self._buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CallTimeout("timed out")
            ready, _, _ = select.select([self._read], [], [], left)
            if not ready:
                raise CallTimeout("timed out")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                self.process.wait()
                raise SandboxError(self._died())
            self._buffer += chunk

    def _receive(self, deadline: float) -> bytes:
        self._fill(4, deadline)
        (size,) = struct.unpack(">I", self._buffer[:4])
        if size > MAX_REPLY:
            raise SandboxError(f"the reply is larger than {MAX_REPLY} bytes")
        self._fill(4 + size, deadline)
        payload, self._buffer = self._buffer[4:4 + size], self._buffer[4 + size:]
        return payload

    def call(self, name: str, args: object, kwargs: object, deadline: float) -> dict:
        """Send one call request and return the reply envelope, ``{"id", "value"}`` or ``{"id", "error"}``.

        Raises:
            CallTimeout: if no reply came before `deadline` (time.monotonic()).
            SandboxError: if the sandbox died or sent something that is not a reply to this request.
        """
        self._next_id += 1
        request = {"id": self._next_id, "call": name, "args": args, "kwargs": kwargs}
        self._send(json.dumps(request, allow_nan=True).encode("utf-8"))
        while True:
            try:
                reply = json.loads(self._receive(deadline).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise SandboxError("the reply is not JSON") from None
            if type(reply) is not dict or type(reply.get("id")) is not int:
                raise SandboxError("the reply has no request id")
            if reply["id"] == self._next_id:
                return reply
            # a stale reply to an earlier request: skip it

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        """Kill the sandbox and everything in it; raise SandboxError if a process of it survives."""
        if self.process is None:
            return
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self._log.close()
        self.process = None
        if self.uid is not None:  # the uid is this sandbox's alone: nothing may run as it any more
            deadline = time.monotonic() + 10
            while (left := _processes_of(self.uid)) and time.monotonic() < deadline:
                for pid in left:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)
            if left:
                raise SandboxError(f"processes {left} of the sandbox survived it")
