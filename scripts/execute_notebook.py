"""Execute a notebook with nbclient and export it to HTML with nbconvert, writing both atomically.

Called by scripts/jupyter.ts. Prints one JSON line per event on stdout, so the caller can show progress per
cell and report a failing cell's real error: tslab's error replies carry no name or message, only the cell's
stderr stream has it.

usage: execute_notebook.py NOTEBOOK --kernel NAME --out-notebook PATH [--out-html PATH] [--timeout S] [--cwd DIR]
"""
import argparse
import json
import os
import sys
import tempfile
import time

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
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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

    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=120,
        resources={"metadata": {"path": args.cwd or os.path.dirname(os.path.abspath(args.notebook))}},
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
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
             message=str(error)[-4000:])
        return 1

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
