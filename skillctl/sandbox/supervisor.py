"""Runs every check of one skill inside ONE sandbox, each as if it had a sandbox of its own.

Starting bwrap costs more than a trivial check, so instead of one sandbox per check the
sandbox runs this supervisor (``python -I -S -c <this file>``, stdlib only, nothing from the
skill on ``sys.path``), which runs the checks one after another and reports each on stdout as
one JSON line. Per check it keeps what a sandbox of its own gave: a fresh copy of the skill
folder on a size-capped tmpfs, its own ``$HOME`` and ``$TMPDIR``, its own deadline with a kill
of everything it started (the pid namespace is private, so "everything" is every process but
this one), and capped, fully drained output.

The supervisor is the first process in the sandbox. When skillctl runs as root it starts as
root with only CAP_SETUID/CAP_SETGID and drops to the unprivileged uid before reading any
input, so no check ever runs with root's uid. It then makes itself non-dumpable, so a check
(same uid) cannot open its file descriptors through /proc to forge another check's result.
Checks of one skill share one sandbox, never checks of two skills.
"""

import base64
import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time

TAIL = 4096
PR_SET_DUMPABLE = 4


def _drop(ids):  # type: ignore[no-untyped-def]
    if ids:
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("could not drop root")


def _undumpable():  # type: ignore[no-untyped-def]
    try:
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except Exception:  # without ctypes the supervisor still works, only less guarded
        pass


def _kill_others():  # type: ignore[no-untyped-def]
    """SIGKILL every process in this pid namespace except ourselves and bwrap's init (pid 1)."""
    me = os.getpid()
    for _ in range(50):
        alive = 0
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) not in (1, me):
                try:
                    os.kill(int(name), signal.SIGKILL)
                    alive += 1
                except (ProcessLookupError, PermissionError):
                    pass
        _reap()
        if not alive:
            return
        time.sleep(0.002)


def _reap():  # type: ignore[no-untyped-def]
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Sink:
    def __init__(self, cap):  # type: ignore[no-untyped-def]
        self.cap, self.head, self.tail, self.total = cap, bytearray(), b"", 0

    def add(self, data):  # type: ignore[no-untyped-def]
        if len(self.head) < self.cap:
            self.head += data[: self.cap - len(self.head)]
        self.tail = (self.tail + data)[-TAIL:]
        self.total += len(data)

    def dump(self):  # type: ignore[no-untyped-def]
        return {"head": base64.b64encode(bytes(self.head)).decode(), "tail": base64.b64encode(self.tail).decode(),
                "total": self.total}


def _pump(proc, out, err, deadline):  # type: ignore[no-untyped-def]
    sel = selectors.DefaultSelector()
    for pipe, sink in ((proc.stdout, out), (proc.stderr, err)):
        os.set_blocking(pipe.fileno(), False)
        sel.register(pipe, selectors.EVENT_READ, sink)
    timed_out = False
    try:
        while sel.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in sel.select(min(remaining, 0.25)):
                data = os.read(key.fd, 65536)
                if data:
                    key.data.add(data)
                else:
                    sel.unregister(key.fileobj)
            if proc.poll() is not None:
                _drain(sel)
                break
        if not timed_out:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        with contextlib.suppress(OSError):  # the check first: its own exit status is the one recorded
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        _kill_others()  # background children, setsid'd escapees: nothing outlives its check
        sel.close()
        proc.stdout.close()
        proc.stderr.close()
    return timed_out


def _drain(sel):  # type: ignore[no-untyped-def]
    """The main process exited: take what is already in the pipes, do not wait for holders."""
    for key in list(sel.get_map().values()):
        while True:
            try:
                data = os.read(key.fd, 65536)
            except BlockingIOError:
                break
            if not data:
                break
            key.data.add(data)


def _run_one(i, spec, job, emit):  # type: ignore[no-untyped-def]
    base = os.path.join(job["run"], str(i))
    work, home, tmp = os.path.join(base, "skill"), os.path.join(base, "home"), os.path.join(base, "tmp")
    out, err = Sink(job["cap"]), Sink(job["cap"])
    start = time.monotonic()
    result = {"i": i, "exit": None, "signal": None, "timed_out": False, "error": None}
    try:
        shutil.copytree(job["src"], work, symlinks=True)
        os.mkdir(home)
        os.mkdir(tmp)
    except OSError as exc:
        result["error"] = f"cannot prepare the check's copy of the skill: {exc}"
        result["duration"] = time.monotonic() - start
        emit(result, out, err)
        return
    env = dict(spec["env"], HOME=home, TMPDIR=tmp)
    try:
        proc = subprocess.Popen(spec["argv"], cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        result["error"] = f"cannot start: {exc}"
    else:
        result["timed_out"] = _pump(proc, out, err, start + spec["timeout"])
        code = proc.returncode
        if code is not None and code < 0:
            result["signal"] = -code
        else:
            result["exit"] = code
    result["duration"] = time.monotonic() - start
    shutil.rmtree(base, ignore_errors=True)  # the tmpfs cap is per check: free it for the next
    emit(result, out, err)


def main():  # type: ignore[no-untyped-def]
    line = sys.stdin.buffer.readline()
    job = json.loads(line)
    _drop(job.get("drop"))
    _undumpable()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    report = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # nothing a check inherits by accident reaches skillctl
        os.dup2(devnull, fd)

    def emit(result, out, err):  # type: ignore[no-untyped-def]
        result["stdout"], result["stderr"] = out.dump(), err.dump()
        report.write(json.dumps(result) + "\n")
        report.flush()

    for i, spec in enumerate(job["checks"]):
        _run_one(i, spec, job, emit)
    report.write(json.dumps({"done": True}) + "\n")
    report.flush()


if __name__ == "__main__":
    main()
