"""What a graded kernel's sandbox runs in place of `python -m ipykernel_launcher` (as `python -I -S`, so it
starts in milliseconds): it asks the grader's zygote for a kernel and waits for it to end (see zygote.py).

It sends the zygote its standard streams and its own namespace files, which are all it can open: the zygote
forks a kernel into exactly this sandbox. When the zygote is missing or refuses, the ordinary kernel starts
here instead, so a zygote can cost time but never a grade. Standard library only: site-packages are not
imported until ipykernel starts.
"""

import json
import os
import socket
import sys

SOCKET = "/run/momlab/zygote"  # where sandbox.py binds the zygote's socket
NAMESPACES = ("user", "mnt", "ipc", "uts", "net", "cgroup", "pid")  # the order zygote.py expects


def ordinary_kernel(args: list[str], why: str) -> None:
    if why:
        print(f"[momlab] kernel started without the zygote: {why}", file=sys.stderr, flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *args])


def main(args: list[str]) -> int:
    if not os.path.exists(SOCKET):
        ordinary_kernel(args, "")
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(60)
        conn.connect(SOCKET)
        namespaces = [os.open(f"/proc/self/ns/{name}", os.O_RDONLY) for name in NAMESPACES]
        request = json.dumps({"argv": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
        socket.send_fds(conn, [request], [0, 1, 2, *namespaces])
        for fd in namespaces:
            os.close(fd)
        answers = conn.makefile("r", encoding="utf-8")
        first = answers.readline().strip()
    except OSError as exc:
        ordinary_kernel(args, f"the zygote did not answer ({exc})")
    if first != "ok":
        ordinary_kernel(args, first or "the zygote closed the connection")
    conn.settimeout(None)  # the kernel runs as long as the grader keeps it
    last = answers.readline().split()
    return int(last[1]) if len(last) == 2 and last[0] == "exit" and last[1].lstrip("-").isdigit() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
