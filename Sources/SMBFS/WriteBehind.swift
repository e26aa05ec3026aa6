/// Writes acknowledged to the application before the server has them (write-behind), with
/// bounded memory. A write waits for room and for any in-flight write it overlaps (so the
/// server applies overlapping writes in order); a failure is kept for the handle and reported
/// by its next write, fsync or close, as NFS and the kernel cifs client do. Anything that must
/// see the data on the server first (reads of those bytes, attributes, truncation, locks,
/// server-side copies) waits for the inode's writes to land.
actor WriteBehind {
    struct Flight {
        let ino: UInt64
        let handle: UInt64
        let start: UInt64
        let end: UInt64
    }

    /// Bytes in flight at most, over the whole mount.
    let limit: Int
    private var flights: [Int: Flight] = [:]
    private var bytes = 0
    private var next = 0
    private var errors: [UInt64: Error] = [:]
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    /// Bytes acknowledged to applications and not yet acknowledged by the server.
    var bytesInFlight: Int { bytes }

    /// Waits for room and for overlapping writes of the inode; registers this one. Throws the
    /// handle's earlier write-behind failure, once.
    func begin(ino: UInt64, handle: UInt64, offset: UInt64, count: Int) async throws -> Int {
        if let e = errors.removeValue(forKey: handle) { throw e }
        let end = offset + UInt64(count)
        while (bytes > 0 && bytes + count > limit) || overlaps(ino, offset, end) {
            await wait()
        }
        next += 1
        flights[next] = Flight(ino: ino, handle: handle, start: offset, end: end)
        bytes += count
        return next
    }

    func end(_ id: Int, error: Error?) {
        guard let f = flights.removeValue(forKey: id) else { return }
        bytes -= Int(f.end - f.start)
        if let error, errors[f.handle] == nil { errors[f.handle] = error }
        let w = waiters
        waiters.removeAll()
        for c in w { c.resume() }
    }

    /// Waits until no write of the inode is in flight (within `start..<end` when given).
    func settle(ino: UInt64, start: UInt64 = 0, end: UInt64 = .max) async {
        while overlaps(ino, start, end) { await wait() }
    }

    /// Waits until no write of the mount is in flight (unmount: nothing acknowledged is lost).
    func settleAll() async {
        while !flights.isEmpty { await wait() }
    }

    /// The first write-behind failure of a handle, taken (reported once).
    func takeError(handle: UInt64) -> Error? { errors.removeValue(forKey: handle) }

    /// Whether the inode has writes in flight.
    func busy(_ ino: UInt64) -> Bool { flights.values.contains { $0.ino == ino } }

    /// The end of the furthest write in flight for the inode (its size once they land).
    func extent(_ ino: UInt64) -> UInt64? {
        flights.values.filter { $0.ino == ino }.map(\.end).max()
    }

    private func overlaps(_ ino: UInt64, _ start: UInt64, _ end: UInt64) -> Bool {
        flights.values.contains { $0.ino == ino && $0.start < end && start < $0.end }
    }

    private func wait() async {
        await withCheckedContinuation { waiters.append($0) }
    }
}
