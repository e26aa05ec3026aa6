import Locking
import SMBClient
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// POSIX record locks and flock(2) as SMB2 byte-range locks (MS-SMB2 3.2.4.19).
///
/// SMB locks belong to a handle, cannot be split, merged or converted, and are released only by
/// unlocking exactly the range locked. POSIX locks belong to an owner and can be all of that.
/// So the locks each (handle, owner) holds are remembered here; a change first unlocks the
/// overlapping held ranges, locks what remains of them again, then takes the new range. That is
/// not atomic: another client can take a range in between (documented in the man page).
public struct LockRange: Sendable, Equatable {
    public enum Kind: Sendable { case read, write, unlock }
    public var start: UInt64
    /// Inclusive end; UInt64(Int64.max) means "to the end of any file".
    public var end: UInt64
    public var kind: Kind
    public init(start: UInt64, end: UInt64, kind: Kind) {
        self.start = start
        self.end = end
        self.kind = kind
    }
    var length: UInt64 { end - start + 1 }
}

struct HeldLock: Sendable, Equatable {
    var owner: UInt64
    var start: UInt64
    var end: UInt64
    var exclusive: Bool
}

extension Filesystem {
    private static let retryFirst: Duration = .milliseconds(10)
    private static let retryMax: Duration = .milliseconds(500)

    /// F_SETLK / F_SETLKW. `interrupted` tells a waiting F_SETLKW that the caller gave up (a signal).
    public func setlk(handle: UInt64, owner: UInt64, _ range: LockRange, wait: Bool,
                      interrupted: @Sendable () -> Bool) async throws {
        let fid = try await settledFileId(handle)
        guard range.start <= range.end else { throw FSError(EINVAL) }
        try await releaseOverlap(fid: fid, handle: handle, owner: owner, start: range.start, end: range.end)
        if range.kind == .unlock { return }
        let exclusive = range.kind == .write
        var delay = Self.retryFirst
        while true {
            do {
                try await share.lock(fid, offset: range.start, length: range.length,
                                     flags: [exclusive ? .exclusiveLock : .sharedLock, .failImmediately])
                locks.withLock { $0[handle, default: []].append(HeldLock(owner: owner, start: range.start, end: range.end, exclusive: exclusive)) }
                return
            } catch let e as SMBError where e.ntStatus == .lockNotGranted || e.ntStatus == .fileLockConflict {
                guard wait else { throw FSError(EAGAIN) }
                if interrupted() { throw FSError(EINTR) }
                // The server could hold a blocking LOCK for us, but a pending request that a
                // signal must cancel is more machinery than polling a few times a second.
                try await Task.sleep(for: delay)
                delay = min(delay * 2, Self.retryMax)
            }
        }
    }

    /// F_GETLK: whether `range` could be locked now. Returns nil when it could, otherwise the
    /// kind of the conflicting lock (another client's locks are not visible: the range asked for is reported).
    public func getlk(handle: UInt64, owner: UInt64, _ range: LockRange) async throws -> LockRange? {
        let fid = try await settledFileId(handle)
        if range.kind == .unlock { return nil }
        let own = locks.withLock { $0[handle, default: []] }
        // Our own locks never conflict with us (POSIX); other owners' on this mount do.
        if let other = own.first(where: { $0.owner != owner && $0.start <= range.end && range.start <= $0.end
                                          && ($0.exclusive || range.kind == .write) }) {
            return LockRange(start: other.start, end: other.end, kind: other.exclusive ? .write : .read)
        }
        if own.contains(where: { $0.owner == owner && $0.start <= range.end && range.start <= $0.end }) { return nil }
        do {
            try await share.lock(fid, offset: range.start, length: range.length,
                                 flags: [range.kind == .write ? .exclusiveLock : .sharedLock, .failImmediately])
            try await share.lock(fid, offset: range.start, length: range.length, flags: .unlock)
            return nil
        } catch let e as SMBError where e.ntStatus == .lockNotGranted || e.ntStatus == .fileLockConflict {
            return LockRange(start: range.start, end: range.end, kind: .write)
        }
    }

    /// Closing a descriptor releases its owner's POSIX locks (FUSE sends FLUSH with the owner).
    public func releaseLocks(handle: UInt64, owner: UInt64) async {
        guard let fid = try? fileId(handle) else { return }
        try? await releaseOverlap(fid: fid, handle: handle, owner: owner, start: 0, end: UInt64(Int64.max))
    }

    private func releaseOverlap(fid: FileId, handle: UInt64, owner: UInt64, start: UInt64, end: UInt64) async throws {
        let overlapping = locks.withLock { l -> [HeldLock] in
            guard let held = l[handle] else { return [] }
            let hit = held.filter { $0.owner == owner && $0.start <= end && start <= $0.end }
            l[handle] = held.filter { !hit.contains($0) }
            return hit
        }
        for h in overlapping {
            try await share.lock(fid, offset: h.start, length: h.end - h.start + 1, flags: .unlock)
            // Keep the parts outside the range being changed.
            var keep: [HeldLock] = []
            if h.start < start { keep.append(HeldLock(owner: owner, start: h.start, end: start - 1, exclusive: h.exclusive)) }
            if h.end > end { keep.append(HeldLock(owner: owner, start: end + 1, end: h.end, exclusive: h.exclusive)) }
            for k in keep {
                try await share.lock(fid, offset: k.start, length: k.end - k.start + 1,
                                     flags: [k.exclusive ? .exclusiveLock : .sharedLock, .failImmediately])
                locks.withLock { $0[handle, default: []].append(k) }
            }
        }
    }

    /// Forgets the handle's locks; whether it ever took one (its entry stays, emptied, when
    /// they are released).
    @discardableResult
    func forgetLocks(handle: UInt64) -> Bool {
        locks.withLock { $0.removeValue(forKey: handle) } != nil
    }
}
