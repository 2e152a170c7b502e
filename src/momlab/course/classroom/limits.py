"""What one graded kernel may use (`Limits`), and the output caps a notebook client applies as outputs
arrive (`CappedOutput`), so a flood never piles up in the grader's memory or in the graded notebook.

Output is counted in bytes: stream text, display data of every MIME type, error tracebacks, widget
messages. Past a cap, a cell's further outputs are dropped and one stream output says where it was cut.
Grading still sees what it scores: an error keeps its name (and a short value), a dropped stderr leaves
a notice on stderr, and a result keeps a short text/plain (nbgrader reads partial credit from it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from nbformat.v4 import new_output

MiB, GiB = 2**20, 2**30
COUNTED = {"stream", "display_data", "update_display_data", "execute_result", "error", "comm_open", "comm_msg"}
SHORT = 2000  # bytes of an error value or a result's text kept past a cap


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * GiB  # address space of each process in the sandbox (RLIMIT_AS)
    cpu_seconds: int = 300  # CPU time of each process (RLIMIT_CPU): the kernel is killed past it
    processes: int = 128  # processes and threads in the sandbox at once (the lab solutions peak at 56, lab 03)
    cell_output_bytes: int = 1_000_000
    notebook_output_bytes: int = 5_000_000
    scratch_bytes: int = 512 * MiB  # size of each in-memory folder (working folder, /tmp, /dev/shm): lab 06 run twice nears 256 MiB

    def __post_init__(self):
        wrong = [f.name for f in fields(self) if type(getattr(self, f.name)) is not int or getattr(self, f.name) <= 0]
        if wrong:
            raise ValueError(f"Limits: {', '.join(wrong)} must be positive whole numbers")


def byte_size(value) -> int:
    """Bytes of a message's content as UTF-8 (iterative: a deeply nested message cannot exhaust the stack)."""
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) if item.isascii() else len(item.encode("utf-8", "surrogatepass"))
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, bytes | bytearray | memoryview):
            total += memoryview(item).nbytes
        else:
            total += 8
    return total


def head(text: str, size: int) -> str:
    """The first `size` bytes of `text` (never half a character)."""
    if text.isascii():
        return text[:size]
    return text.encode("utf-8", "surrogatepass")[:size].decode("utf-8", "ignore")


def short_error(content: dict) -> dict:
    return {"ename": head(str(content.get("ename", "")), 200), "evalue": head(str(content.get("evalue", "")), SHORT),
            "traceback": ["[traceback cut: the output limit was reached]"]}


class CappedOutput:
    """Mixin for nbclient's NotebookClient (nbgrader's Execute is one): caps output per cell and per notebook.
    The class it is mixed into has a `limits` trait."""

    def reset_execution_trackers(self) -> None:
        super().reset_execution_trackers()
        self._cell_bytes: dict[int, int] = {}
        self._notebook_bytes = 0
        self._noticed: set[tuple[int, str]] = set()  # (cell, stream) pairs that have their cut notice
        self._cut: set[int] = set()  # cells past a cap: the rest of their output is dropped

    def process_message(self, msg, cell, cell_index):
        if msg["msg_type"] not in COUNTED:
            return super().process_message(msg, cell, cell_index)
        kept, cut = self._fit(msg, cell_index)
        out = super().process_message(kept, cell, cell_index) if kept else None
        if cut:
            self._say_cut(cell, cell_index, cut)
        return out

    def fit_error(self, content: dict, cell_index: int) -> dict:
        """An execute reply's error as it may be stored: whole if it fits, else its short form."""
        return content if byte_size(content) <= self._room(cell_index) else {**content, **short_error(content)}

    def _left(self, cell_index: int) -> tuple[int, int]:
        """Bytes left for the cell and for the notebook."""
        return (self.limits.cell_output_bytes - self._cell_bytes.get(cell_index, 0),
                self.limits.notebook_output_bytes - self._notebook_bytes)

    def _room(self, cell_index: int) -> int:
        return 0 if cell_index in self._cut else max(0, min(self._left(cell_index)))

    def _spend(self, cell_index: int, size: int) -> None:
        self._cell_bytes[cell_index] = self._cell_bytes.get(cell_index, 0) + size
        self._notebook_bytes += size

    def _fit(self, msg: dict, cell_index: int) -> tuple[dict | None, str | None]:
        """The message to keep (whole, shortened or None) and the stream to put a cut notice on (or None)."""
        content, kind = msg["content"], msg["msg_type"]
        size = byte_size(content) + sum(memoryview(b).nbytes for b in msg.get("buffers") or [])
        room = self._room(cell_index)
        if size <= room:
            self._spend(cell_index, size)
            return msg, None
        self._cut.add(cell_index)
        if kind == "stream":
            text = head(content.get("text", ""), room)
            self._spend(cell_index, room)
            return ({**msg, "content": {**content, "text": text}} if text else None), content.get("name", "stdout")
        if kind == "error":
            return {**msg, "content": {**content, **short_error(content)}}, "stdout"
        if kind == "execute_result" and "text/plain" in content.get("data", {}):
            data = {"text/plain": head(str(content["data"]["text/plain"]), SHORT)}
            return {**msg, "content": {**content, "data": data, "metadata": {}}}, "stdout"
        return None, "stdout"

    def _say_cut(self, cell, cell_index: int, name: str) -> None:
        if (cell_index, name) in self._noticed:
            return
        self._noticed.add((cell_index, name))
        cell_left, notebook_left = self._left(cell_index)
        limit, scope = (self.limits.cell_output_bytes, "cell") if cell_left <= notebook_left else (self.limits.notebook_output_bytes, "notebook")
        cell.outputs.append(new_output("stream", name=name, text=f"\n[output cut at {limit:,} bytes: the {scope}'s output limit]\n"))
