import Locking

/// The additional TCP connections bound to a session (SMB3 multichannel, MS-SMB2 3.2.4.2.3),
/// shared by every copy of the binding they belong to. Bulk I/O is spread over them and the
/// session's first connection; metadata stays on the first.
final class Channels: Sendable {
    private struct State {
        var extra: [Connection] = []
        var next = 0
        var closed = false
    }
    private let state = Locked(State())

    /// The next healthy connection, round robin over `primary` and the extra channels.
    func pick(primary: Connection) -> Connection {
        state.withLock { s in
            s.extra.removeAll { $0.isFailed }
            let n = s.extra.count + 1
            s.next = (s.next + 1) % n
            return s.next == 0 ? primary : s.extra[s.next - 1]
        }
    }

    /// Adds a bound channel; false once the binding has ended (the caller closes it).
    func add(_ c: Connection) -> Bool {
        state.withLock { s in
            if s.closed { return false }
            s.extra.append(c)
            return true
        }
    }

    func remove(_ c: Connection) {
        state.withLock { s in s.extra.removeAll { $0 === c } }
    }

    var count: Int { state.withLock { $0.extra.count } }
    /// The extra connections, for tests and status.
    var all: [Connection] { state.withLock { $0.extra } }

    func closeAll() {
        let all = state.withLock { s -> [Connection] in
            s.closed = true
            defer { s.extra.removeAll() }
            return s.extra
        }
        for c in all { c.close() }
    }
}
