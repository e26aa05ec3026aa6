import SMBClient
import SMBProtocol

/// Read-only opens kept a moment after their last close (`closetimeo=`, as the kernel's cifs
/// client defers closes): a file opened for reading again within the timeout takes the same
/// open back, with no CREATE and no CLOSE between (a compiler reading a header again, make and
/// git re-reading files, `cat` after `grep`).
///
/// Only under a lease with read and handle caching (MS-SMB2 2.2.13.2.8): while it lasts the
/// file cannot change, and another client's open, rename or delete that would conflict breaks
/// it first (3.3.4.7), whereupon the open is closed at once. Opens that took byte-range locks
/// close at once (CLOSE releases them, 3.3.5.10). Before this mount removes or renames a path,
/// what is kept at or below it is closed. At most `limit` are kept, the oldest closed first.
struct DeferredCloses: Sendable {
    struct Kept: Sendable {
        let fileId: FileId
        let ino: UInt64
        let path: String
        let since: ContinuousClock.Instant
    }

    static let limit = 256
    private var byIno: [UInt64: Kept] = [:]

    var count: Int { byIno.count }

    /// Keeps `k`; returns what must be closed now (one kept before for the inode, the oldest
    /// when full).
    mutating func keep(_ k: Kept) -> [Kept] {
        var out: [Kept] = []
        if let old = byIno.updateValue(k, forKey: k.ino) { out.append(old) }
        if byIno.count > Self.limit, let oldest = byIno.values.min(by: { $0.since < $1.since }) {
            out.append(byIno.removeValue(forKey: oldest.ino)!)
        }
        return out
    }

    /// The open kept for `ino`, taken back.
    mutating func take(ino: UInt64) -> Kept? { byIno.removeValue(forKey: ino) }

    mutating func take(where match: (Kept) -> Bool) -> [Kept] {
        let gone = byIno.values.filter(match)
        for k in gone { byIno[k.ino] = nil }
        return gone
    }

    /// Those kept at `path` or below it.
    mutating func take(under path: String) -> [Kept] {
        let prefix = path + "/"
        return take { path.isEmpty || $0.path == path || $0.path.hasPrefix(prefix) }
    }

    mutating func take(olderThan age: Duration, now: ContinuousClock.Instant) -> [Kept] {
        take { now - $0.since >= age }
    }
}

extension Filesystem {
    /// Keeps a read-only open that is being closed, if it may be kept; false when the caller
    /// closes it.
    func deferClose(_ f: OpenFile, hadLocks: Bool) -> Bool {
        guard options.closeTimeout > .zero, !f.writable, !hadLocks,
              share.cachesReads(f.fileId), share.cachesHandle(f.fileId),
              let p = try? path(of: f.ino) else { return false }
        let closeNow = deferred.withLock { $0.keep(.init(fileId: f.fileId, ino: f.ino, path: p, since: .now)) }
        closeKept(closeNow)
        let timeout = options.closeTimeout
        Task {
            try? await Task.sleep(for: timeout)
            let due = self.deferred.withLock { $0.take(olderThan: timeout, now: .now) }
            for k in due { try? await self.share.close(k.fileId) }
        }
        return true
    }

    /// The open kept for `ino`, still under its lease, for a read-only open; nil otherwise (one
    /// whose lease went is closed).
    func reuseDeferred(ino: UInt64) -> FileId? {
        guard let k = deferred.withLock({ $0.take(ino: ino) }) else { return nil }
        guard share.cachesReads(k.fileId), share.cachesHandle(k.fileId) else {
            closeKept([k])
            return nil
        }
        return k.fileId
    }

    /// Closes, in the background, what was kept.
    func closeKept(_ kept: [DeferredCloses.Kept]) {
        guard !kept.isEmpty else { return }
        let share = self.share
        Task { for k in kept { try? await share.close(k.fileId) } }
    }

    /// Closes what is kept at or below `path` before this mount renames or removes it (a file
    /// held open would stay on the server, delete-pending, until closed).
    func closeDeferred(under path: String) async {
        let kept = deferred.withLock { $0.take(under: path) }
        for k in kept { try? await share.close(k.fileId) }
    }

    /// Closes what is kept among `ids` (their lease lost read or handle caching).
    func closeDeferred(_ ids: [FileId]) async {
        let kept = deferred.withLock { d in d.take { ids.contains($0.fileId) } }
        for k in kept { try? await share.close(k.fileId) }
    }
}
