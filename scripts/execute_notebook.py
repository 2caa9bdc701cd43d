"""Execute a notebook with nbclient and export it to HTML with nbconvert, writing both atomically.

Called by scripts/jupyter.ts. Prints one JSON line per event on stdout, so the caller can show progress per
cell and report a failing cell's real error: tslab's error replies carry no name or message, only the cell's
stderr stream has it.

Inside a long cell it also reports the live view's progress line (`<div class="mie-sweep" data-mie-…>`, written by
lib/figures/sweep-progress.ts) from each display update the kernel sends, as a "sweep" event carrying that one
tag: the caller parses and throttles it (scripts/report-progress.ts).

usage: execute_notebook.py NOTEBOOK --kernel NAME --out-notebook PATH [--out-html PATH] [--timeout S] [--cwd DIR]
"""
import argparse
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time

# jsonschema (under nbformat) imports rfc3987_syntax when installed (JupyterLab's dependencies bring it), and that
# builds a grammar at import: about 1.1 s of CPU per notebook, a third of what a report of stored runs costs Python.
# It only serves the "iri" string formats, which no notebook schema uses; marked absent, jsonschema skips them.
sys.modules.setdefault("rfc3987_syntax", None)

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError


def emit(**event):
    print(json.dumps(event), flush=True)


def cell_text(cell, stream_name):
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == stream_name:
            parts.append(output.get("text", ""))
        if stream_name == "stderr" and output.get("output_type") == "error":
            parts.append("\n".join(output.get("traceback", [])) or output.get("evalue", ""))
    return "".join(parts)


def write_atomically(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        # mkstemp makes the file private (0600); a report is an ordinary file, readable as the umask allows.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_number(path, key=None):
    """A number from a /proc or cgroup file (the value after `key`, in bytes where the file says kB), or None."""
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                parts = line.split()
                if key is None:
                    return None if parts[0] == "max" else int(parts[0])
                if parts and parts[0].rstrip(":") == key:
                    return int(parts[1]) * (1024 if parts[-1] == "kB" else 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def cgroup_files(pid):
    """A process's memory cgroup files (v2, or v1's names for the same): limit, usage and the OOM-kill count."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="ascii") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    for line in lines:
        number, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            folder = "/sys/fs/cgroup/memory" + path
            return {"max": f"{folder}/memory.limit_in_bytes", "current": f"{folder}/memory.usage_in_bytes", "events": f"{folder}/memory.oom_control"}
    for line in lines:
        if line.startswith("0::"):
            folder = "/sys/fs/cgroup" + line[3:]
            return {"max": f"{folder}/memory.max", "current": f"{folder}/memory.current", "events": f"{folder}/memory.events"}
    return None


def cgroup_limit(path):
    """A cgroup memory limit in bytes, or None for none ("max" in v2, a huge number in v1)."""
    value = read_number(path)
    return value if value is not None and value < 2 ** 60 else None


class KernelWatch:
    """The kernel's process, watched while it runs: its memory at the last look, and how it ended.

    A kernel killed by the system leaves nothing behind to ask, so its memory is sampled every half second while it
    lives, beside the limits it ran under (its memory cgroup's limit, the machine's memory) and the cgroup's count of
    out-of-memory kills (dmesg would say more, but it is not readable without privileges).
    """

    def __init__(self):
        self.process = None
        self.memory = {}
        self.cgroup = None
        self.oom_kills_before = None
        self.stop = threading.Event()

    def start(self, process):
        self.process = process
        self.cgroup = cgroup_files(process.pid)
        if self.cgroup:
            self.oom_kills_before = read_number(self.cgroup["events"], "oom_kill")
        threading.Thread(target=self.sample, daemon=True).start()

    def sample(self):
        while not self.stop.is_set() and self.process.poll() is None:
            status = f"/proc/{self.process.pid}/status"
            rss, peak = read_number(status, "VmRSS"), read_number(status, "VmHWM")
            if rss is not None:
                self.memory.update(rss=rss, peak=max(peak or 0, self.memory.get("peak", 0)))
            self.memory.update(total=read_number("/proc/meminfo", "MemTotal"), available=read_number("/proc/meminfo", "MemAvailable"))
            if self.cgroup:
                self.memory.update(cgroupMax=cgroup_limit(self.cgroup["max"]), cgroupCurrent=read_number(self.cgroup["current"]))
            self.stop.wait(0.5)

    def ending(self):
        """How the kernel's process ended (waiting up to 5 s for it), with the memory facts."""
        self.stop.set()
        if self.process is None:
            return None
        try:
            code = self.process.wait(timeout=5)
        except Exception:  # still running, or already reaped by its manager
            code = self.process.returncode
        ended = {"code": code, "memory": {k: v for k, v in self.memory.items() if v is not None}}
        if code is not None and code < 0:
            ended["signal"] = -code
            try:
                ended["signalName"] = signal.Signals(-code).name
            except ValueError:
                pass
        if self.cgroup and self.oom_kills_before is not None:
            after = read_number(self.cgroup["events"], "oom_kill")
            if after is not None:
                ended["memory"]["oomKills"] = after - self.oom_kills_before
        return ended


SWEEP_TAG = re.compile(r'<div class="mie-sweep"[^>]*>')


class ProgressClient(NotebookClient):
    """nbclient, also passing on the sweep progress line of every display (or display update) a cell sends."""

    def process_message(self, msg, cell, cell_index):
        content = msg.get("content") or {}
        if msg.get("msg_type") in ("display_data", "update_display_data"):
            html = (content.get("data") or {}).get("text/html")
            match = SWEEP_TAG.search(html if isinstance(html, str) else "".join(html or []))
            if match:
                emit(event="sweep", index=cell_index, tag=match.group(0))
        return super().process_message(msg, cell, cell_index)


def first_line(source):
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:100]
    return ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook")
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--out-notebook", required=True)
    parser.add_argument("--out-html")
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--cwd")
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    started = {}
    watch = KernelWatch()

    def on_notebook_start(notebook):
        process = getattr(getattr(client.km, "provisioner", None), "process", None)
        if process is not None:
            watch.start(process)

    def on_cell_start(cell, cell_index):
        started[cell_index] = time.time()
        if cell.cell_type == "code":
            emit(event="cell-start", index=cell_index, number=code_cells.index(cell_index) + 1,
                 of=len(code_cells), source=first_line(cell.source))

    def on_cell_executed(cell, cell_index, execute_reply):
        if cell.cell_type == "code":
            status = execute_reply.get("content", {}).get("status", "ok")
            emit(event="cell-done", index=cell_index, status=status,
                 seconds=round(time.time() - started.get(cell_index, time.time()), 2))

    client = ProgressClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=120,
        resources={"metadata": {"path": args.cwd or os.path.dirname(os.path.abspath(args.notebook))}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
        on_notebook_start=on_notebook_start,
    )
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        failing = next((i for i in reversed(list(started)) if nb.cells[i].cell_type == "code"), None)
        cell = nb.cells[failing] if failing is not None else None
        emit(event="error", index=failing, kind=type(error).__name__,
             number=code_cells.index(failing) + 1 if failing is not None else None, of=len(code_cells),
             source=cell.source if cell is not None else "",
             stderr=cell_text(cell, "stderr") if cell is not None else "",
             message=str(error)[-4000:],
             kernel=watch.ending() if isinstance(error, DeadKernelError) else None)
        return 1
    finally:
        watch.stop.set()

    write_atomically(args.out_notebook, nbformat.writes(nb))
    emit(event="notebook-written", path=args.out_notebook)
    if args.out_html:
        from nbconvert import HTMLExporter
        templates = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nbconvert")
        exporter = HTMLExporter(extra_template_basedirs=[templates], template_name="offline")
        body, _ = exporter.from_notebook_node(nb)
        write_atomically(args.out_html, body)
        emit(event="html-written", path=args.out_html, bytes=len(body.encode("utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
