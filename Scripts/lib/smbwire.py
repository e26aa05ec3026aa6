"""Counts SMB2 traffic on the wire: a TCP relay between clients and one server that reads
the SMB2 headers going past (MS-SMB2 2.1 Direct TCP framing, 2.2.1 headers, compound chains
by NextCommand) and counts requests and round trips.

A round trip is counted when a client sends a request while it has none outstanding: the
moment it starts waiting on the network. Requests sent while others are in flight
(pipelined) or in the same frame (compounded) add none. CHANGE_NOTIFY (a standing request),
ECHO (keep-alive) and CANCEL (no response) are left out of the waiting. Encrypted frames
(transform header) cannot be read and are counted apart.
"""
import collections
import socket
import struct
import threading
import time

COMMANDS = ["NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT", "CREATE", "CLOSE",
            "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY",
            "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK"]
NOT_WAITED = {0x0C, 0x0D, 0x0F}      # CANCEL, ECHO, CHANGE_NOTIFY
SERVER_TO_REDIR, ASYNC = 0x1, 0x2
STATUS_PENDING = 0x103
UNSOLICITED = 0xFFFFFFFFFFFFFFFF     # MessageId of a break notification (MS-SMB2 3.3.4.6)


class Counts:
    def __init__(self):
        self.requests = 0
        self.round_trips = 0
        self.frames = 0
        self.encrypted = 0
        self.by_command = {}

    def copy(self):
        c = Counts()
        c.requests, c.round_trips, c.frames, c.encrypted = self.requests, self.round_trips, self.frames, self.encrypted
        c.by_command = dict(self.by_command)
        return c

    def __sub__(self, other):
        c = Counts()
        c.requests = self.requests - other.requests
        c.round_trips = self.round_trips - other.round_trips
        c.frames = self.frames - other.frames
        c.encrypted = self.encrypted - other.encrypted
        c.by_command = {k: v - other.by_command.get(k, 0) for k, v in self.by_command.items()
                        if v - other.by_command.get(k, 0)}
        return c


class HeaderStream:
    """Finds the SMB2 headers in one direction of a TCP stream without keeping payloads:
    only the bytes up to the next header are buffered, the rest is skipped by offset."""

    def __init__(self, on_header):
        self.on_header = on_header   # (header bytes, first in its frame) -> None
        self.buf = bytearray()
        self.base = 0                 # stream offset of buf[0]
        self.next = 0                 # stream offset of the next thing to read
        self.kind = "frame"           # "frame" (4-byte length) or "header"
        self.first = True
        self.frame_end = 0

    def feed(self, data):
        self.buf += data
        while True:
            skip = self.next - self.base
            if skip > 0:
                if skip >= len(self.buf):
                    self.base += len(self.buf)
                    self.buf.clear()
                    return
                del self.buf[:skip]
                self.base = self.next
            # A header is 64 bytes; a malformed frame may end sooner (its bytes then stand alone).
            need = 4 if self.kind == "frame" else max(1, min(64, self.frame_end - self.next))
            if len(self.buf) < need:
                return
            if self.kind == "frame":
                length = int.from_bytes(self.buf[1:4], "big")
                self.frame_end = self.next + 4 + length
                self.next += 4
                self.kind, self.first = "header", True
                continue
            header = bytes(self.buf[:64]).ljust(64, b"\0")
            chained = 0
            if header[:4] == b"\xfeSMB":
                chained = struct.unpack_from("<I", header, 20)[0]
            self.on_header(header, self.first)
            self.first = False
            if chained and self.next + chained < self.frame_end:
                self.next += chained
            else:
                self.next = self.frame_end
                self.kind = "frame"


class Relay:
    """Listens on (host, port) and relays every connection to (server, server_port), counting.
    Each direction of each connection has its own threads: one side slow to read never stops
    the other direction. `delay` (seconds, each way) holds every byte back that long without
    limiting the rate: on loopback a client that is slower than the server would otherwise
    find it idle before each request, and its pipelining would not show in the count."""

    def __init__(self, host, port, server, server_port=445, delay=0.0):
        self.delay = delay
        self.counts = Counts()
        self.lock = threading.Lock()
        self.waiting = set()           # (connection, MessageId) of requests without a final response
        self.server = (server, server_port)
        self.listener = socket.create_server((host, port))
        self.connections = 0
        threading.Thread(target=self.accept, daemon=True).start()

    def snapshot(self):
        with self.lock:
            return self.counts.copy()

    def close(self):
        self.listener.close()

    def request(self, conn, header, first):
        c = self.counts
        if first:
            c.frames += 1
        if header[:4] != b"\xfeSMB":
            c.encrypted += 1
            return
        command, = struct.unpack_from("<H", header, 12)
        message_id, = struct.unpack_from("<Q", header, 24)
        c.requests += 1
        name = COMMANDS[command] if command < len(COMMANDS) else hex(command)
        c.by_command[name] = c.by_command.get(name, 0) + 1
        if command in NOT_WAITED:
            return
        if not self.waiting:
            c.round_trips += 1
        self.waiting.add((conn, message_id))

    def response(self, conn, header, first):
        if header[:4] != b"\xfeSMB":
            return
        status, = struct.unpack_from("<I", header, 8)
        flags, = struct.unpack_from("<I", header, 16)
        message_id, = struct.unpack_from("<Q", header, 24)
        if not flags & SERVER_TO_REDIR or message_id == UNSOLICITED:
            return
        if status == STATUS_PENDING and flags & ASYNC:
            return   # interim response: the request is still outstanding (MS-SMB2 3.3.4.2)
        self.waiting.discard((conn, message_id))

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.server)
            except OSError:
                client.close()
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connections += 1
            conn = self.connections
            up = HeaderStream(lambda h, f, conn=conn: self.request(conn, h, f))
            down = HeaderStream(lambda h, f, conn=conn: self.response(conn, h, f))
            threading.Thread(target=self.pump, args=(client, upstream, up), daemon=True).start()
            threading.Thread(target=self.pump, args=(upstream, client, down), daemon=True).start()

    def pump(self, source, sink, stream):
        queue = collections.deque()
        ready = threading.Condition()
        sender = threading.Thread(target=self.send, args=(sink, queue, ready), daemon=True)
        sender.start()
        try:
            while True:
                data = source.recv(1 << 20)
                if not data:
                    break
                with self.lock:
                    stream.feed(data)
                with ready:
                    queue.append((time.monotonic() + self.delay, data))
                    ready.notify()
        except OSError:
            pass
        with ready:
            queue.append((0.0, None))
            ready.notify()
        sender.join()
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @staticmethod
    def send(sink, queue, ready):
        """Sends what `pump` read, each piece once its delay has passed, in order."""
        while True:
            with ready:
                while not queue:
                    ready.wait()
                due, data = queue.popleft()
            if data is None:
                return
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                sink.sendall(data)
            except OSError:
                return
