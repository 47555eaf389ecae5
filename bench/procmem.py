#!/usr/bin/env python3
"""procmem.py PGID - the memory and sockets of every process in a process group.

A server started with `setsid` leads its own group, so this totals the server
and every child it forks (socat and ncat fork per connection). Prints one line:

    procs=N rss_mb=X pss_mb=Y uss_mb=Z sock_fds=S max_fds_one_proc=F

RSS counts shared pages once per process; PSS shares them out, so PSS is the
figure to compare; USS is the private pages alone.
"""
import os
import sys


def group_of(pid):
    """The process group of pid (field 5 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    # The command name (field 2) may hold spaces and parentheses: skip past its last ')'.
    return int(stat[stat.rindex(")") + 1:].split()[2])


def memory_kb(pid):
    """(rss, pss, uss) in KiB from /proc/PID/smaps_rollup."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                fields[key] = int(parts[0])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return fields.get("Rss", 0), fields.get("Pss", 0), uss


def fds(pid):
    """(open fds, of which sockets)."""
    total = sockets = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed while we looked
        total += 1
        sockets += target.startswith("socket:")
    return total, sockets


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: procmem.py PGID")
    pgid = int(sys.argv[1])
    procs = rss = pss = uss = socks = widest = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if group_of(entry) != pgid:
                continue
            r, p, u = memory_kb(entry)
            n, s = fds(entry)
        except (OSError, ValueError, IndexError):
            continue  # the process exited, or is not ours to read
        procs += 1
        rss, pss, uss, socks = rss + r, pss + p, uss + u, socks + s
        widest = max(widest, n)
    print(f"procs={procs} rss_mb={rss / 1024:.1f} pss_mb={pss / 1024:.1f} "
          f"uss_mb={uss / 1024:.1f} sock_fds={socks} max_fds_one_proc={widest}")


if __name__ == "__main__":
    main()
