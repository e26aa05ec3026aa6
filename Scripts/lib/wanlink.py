#!/usr/bin/env python3
"""An emulated network link between two network namespaces, for kernels without sch_netem.

    wanlink.py NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B [--delay-ms D] [--rate-mbit R] [--mtu M]

Makes a TUN device in each namespace (point-to-point ADDR_A <-> ADDR_B) and carries IP
packets between them after a one-way delay D (the round trip is 2 D), serialised at R Mbit/s
per direction (0: unlimited), dropping at the tail when a direction's queue holds more than
--queue-ms of traffic. Prints "ready" once both ends are up; the devices go when it exits
(SIGTERM). Run as root. Standard library only.
"""
import argparse
import collections
import ctypes
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000

libc = ctypes.CDLL(None, use_errno=True)
HOME = os.open("/proc/self/ns/net", os.O_RDONLY)


def enter(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def tun_in(namespace, name):
    """A TUN device made inside `namespace` (the device belongs to the namespace it was made in)."""
    ns = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        enter(ns)
        fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    finally:
        enter(HOME)
        os.close(ns)
    os.set_blocking(fd, False)
    return fd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for a in ["ns_a", "dev_a", "addr_a", "ns_b", "dev_b", "addr_b"]:
        ap.add_argument(a)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--rate-mbit", type=float, default=0.0)
    ap.add_argument("--queue-ms", type=float, default=100.0)
    ap.add_argument("--mtu", type=int, default=65000)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    a, b = tun_in(args.ns_a, args.dev_a), tun_in(args.ns_b, args.dev_b)
    for ns, dev, mine, peer in [(args.ns_a, args.dev_a, args.addr_a, args.addr_b),
                                (args.ns_b, args.dev_b, args.addr_b, args.addr_a)]:
        subprocess.run(["ip", "-n", ns, "addr", "add", mine, "peer", peer, "dev", dev], check=True)
        subprocess.run(["ip", "-n", ns, "link", "set", dev, "mtu", str(args.mtu), "up"], check=True)
    print("ready", flush=True)

    delay = args.delay_ms / 1000.0
    per_byte = 8.0 / (args.rate_mbit * 1e6) if args.rate_mbit > 0 else 0.0
    limit = args.queue_ms / 1000.0
    # Per direction (keyed by the device read from): packets in flight as (due, packet), in
    # order, since every packet of a direction has the same delay; and when the wire is free.
    queue = {a: collections.deque(), b: collections.deque()}
    free_at = {a: 0.0, b: 0.0}
    peer = {a: b, b: a}
    while True:
        due = [q[0][0] for q in queue.values() if q]
        timeout = max(0.0, min(due) - time.monotonic()) if due else None
        try:
            readable, _, _ = select.select([a, b], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd in readable:
            for _ in range(128):
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                sent = now
                if per_byte:
                    start = max(now, free_at[fd])
                    if start - now > limit:
                        continue  # queue full: dropped, as a router's tail drop
                    sent = free_at[fd] = start + len(packet) * per_byte
                queue[fd].append((sent + delay, packet))
        now = time.monotonic()
        for fd, q in queue.items():
            while q and q[0][0] <= now:
                try:
                    os.write(peer[fd], q.popleft()[1])
                except OSError:
                    pass


if __name__ == "__main__":
    main()
