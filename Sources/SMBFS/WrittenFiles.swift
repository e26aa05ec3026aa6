import SMBProtocol

/// Files written through this mount: when, and whether a FLUSH is still owed.
///
/// A server may set a file's last-write time well after the write (Samba, like Windows, moves it
/// up to two seconds later, or at close), so while this mount's writes are the latest the file's
/// mtime and ctime are shown as the time of the last write here, never older; the time is set on
/// the server when the writing handle closes (SET_INFO FileBasicInformation, MS-FSCC 2.4.7),
/// which also stops the server from moving it again (MS-FSA 2.1.5.14.2), so other clients see
/// the same time. A time set explicitly (utimes, futimens) takes over; set while this mount
/// has the file open for writing (tar, cp -p, rsync set times before they close), it is kept
/// here and goes with that CLOSE too, the round trip of its own saved; a later write moves the
/// mtime on again, as POSIX says.
///
/// Changes of a file's metadata made here (chmod, chown, utimes, truncate, rename, link, unlink
/// of another name) move its ctime, as POSIX says they do: shown while the server's ChangeTime
/// is older (Samba gives the last-write time as ChangeTime, MS-FSCC 2.4.7).
struct WrittenFiles: Sendable {
    /// Times set explicitly, to be set on the server at close.
    struct Explicit: Sendable, Equatable {
        var atime: FileTime?
        var mtime: FileTime?
    }

    private var times: [UInt64: FileTime] = [:]
    private var explicit: [UInt64: Explicit] = [:]
    private var changes: [UInt64: FileTime] = [:]
    private var unflushed: Set<UInt64> = []
    /// Entries kept; past this the oldest knowledge goes (the server's times are shown again).
    static let limit = 65_536

    mutating func wrote(_ ino: UInt64, at t: FileTime) {
        if times[ino] == nil, times.count >= Self.limit { times.removeAll() }
        if unflushed.count >= Self.limit { unflushed.removeAll() }
        times[ino] = t
        unflushed.insert(ino)
        explicit[ino]?.mtime = nil
    }

    /// Times set on `ino` while it is open for writing here, for its close to set.
    mutating func set(_ ino: UInt64, atime: FileTime?, mtime: FileTime?) {
        if explicit[ino] == nil, explicit.count >= Self.limit { return }
        var e = explicit[ino] ?? Explicit()
        if let atime { e.atime = atime }
        if let mtime {
            e.mtime = mtime
            times[ino] = nil
        }
        explicit[ino] = e
    }

    /// Whether times set on `ino` can be kept for its close (room for them).
    func canKeep(_ ino: UInt64) -> Bool { explicit[ino] != nil || explicit.count < Self.limit }

    /// What the close of a writing handle of `ino` sets: the times set explicitly, else the
    /// last write's (as last-write and change time); nil for nothing.
    func closing(_ ino: UInt64) -> FileSetInformation? {
        let e = explicit[ino]
        if let e, e.atime != nil || e.mtime != nil {
            // An explicit mtime says nothing of the change time: the server's own stands.
            let lastWrite = e.mtime ?? times[ino]
            return .basic(creation: nil, lastAccess: e.atime, lastWrite: lastWrite,
                          change: e.mtime == nil ? lastWrite : nil, attributes: nil)
        }
        guard let t = times[ino] else { return nil }
        return .basic(creation: nil, lastAccess: nil, lastWrite: t, change: t, attributes: nil)
    }

    /// The metadata of `ino` was changed through this mount at `t`.
    mutating func changed(_ ino: UInt64, at t: FileTime) {
        if changes[ino] == nil, changes.count >= Self.limit { changes.removeAll() }
        changes[ino] = t
    }

    /// The server holds the time now (set at close), or a time set explicitly replaces it.
    mutating func timeSettled(_ ino: UInt64) {
        times[ino] = nil
        explicit[ino] = nil
    }

    /// Inodes something is noted of (for tests: the tables' size).
    var inodesNoted: Int { Set(times.keys).union(explicit.keys).union(changes.keys).union(unflushed).count }

    /// `ino` is gone from the server (its last name removed, no open left here): nothing of
    /// it is left to show or flush.
    mutating func removed(_ ino: UInt64) {
        times[ino] = nil
        explicit[ino] = nil
        changes[ino] = nil
        unflushed.remove(ino)
    }

    func needsFlush(_ ino: UInt64) -> Bool { unflushed.contains(ino) }

    mutating func flushed(_ ino: UInt64) { unflushed.remove(ino) }

    /// The server's attributes as shown: mtime and ctime no older than the last write here,
    /// ctime no older than the last change here.
    func overlay(_ a: inout Attributes) {
        if let c = changes[a.ino], c.rawValue > a.ctime.rawValue { a.ctime = c }
        if let e = explicit[a.ino] {
            if let t = e.atime { a.atime = t }
            if let t = e.mtime { a.mtime = t }
        }
        guard let t = times[a.ino] else { return }
        if t.rawValue > a.mtime.rawValue { a.mtime = t }
        if t.rawValue > a.ctime.rawValue { a.ctime = t }
    }
}
