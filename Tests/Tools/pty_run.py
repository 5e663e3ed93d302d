"""Runs a command with its standard error (and, with --both, its standard output) on a
pseudo-terminal of the given width, as a user's terminal would be; prints what the terminal
received. With --stdout FILE, standard output goes to FILE instead (`command > FILE` typed in a
terminal).

Usage: pty_run.py --columns N (--both | --stdout FILE) -- COMMAND ARGS...
"""
import argparse
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--columns", type=int, required=True)
    parser.add_argument("--both", action="store_true")
    parser.add_argument("--stdout")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    command = options.command[1:] if options.command[:1] == ["--"] else options.command

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, options.columns, 0, 0))
    stdout = slave if options.both else open(options.stdout, "wb")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=slave)
    os.close(slave)
    received = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: every writer has ended
                break
            if not chunk:
                break
            received += chunk
        elif process.poll() is not None:
            break
    process.wait()
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.write(f"\nexit {process.returncode}\n".encode())


if __name__ == "__main__":
    main()
