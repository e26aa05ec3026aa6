import SMBProtocol

/// Attributes the server gave within the attribute timeout, per inode, kept while nothing
/// changed the inode through this mount. They answer what the kernel asks again before its
/// own cache runs out: a directory's attributes right after readdir, a file's before each
/// chown (set-user-ID bits, which SMB has none of). An answer from the server is kept only if
/// the inode did not change after the question was sent (`stamp`), so a reply that raced a
/// write never stands for the file after it.
struct FreshAttributes: Sendable {
    private var entries: [UInt64: (attributes: Attributes, at: ContinuousClock.Instant)] = [:]
    /// Counts changes; the count at each inode's last change through this mount.
    private var clock: UInt64 = 0
    private var changed: [UInt64: UInt64] = [:]
    /// Changes older than this are no longer told apart by inode.
    private var floor: UInt64 = 0
    static let limit = 32_768
    /// Changes told apart by inode: past this many, all older ones count as one (`floor`), so
    /// the table stays small however many files are changed; what it costs is an answer
    /// that was in flight at that moment not being kept.
    static let changeLimit = 4_096

    /// Inodes whose last change is told apart (for tests: the table's size).
    var changesTracked: Int { changed.count }

    /// What a question to the server sent now passes back to `keep`.
    var stamp: UInt64 { clock }

    mutating func keep(_ a: Attributes, at: ContinuousClock.Instant, stamp: UInt64, now: ContinuousClock.Instant, ttl: Duration) {
        guard (changed[a.ino] ?? floor) <= stamp, now - at < ttl else { return }
        if entries[a.ino] == nil, entries.count >= Self.limit {
            entries = entries.filter { now - $0.value.at < ttl }
            if entries.count >= Self.limit { entries.removeAll() }
        }
        entries[a.ino] = (a, at)
    }

    func attributes(of ino: UInt64, now: ContinuousClock.Instant, ttl: Duration) -> Attributes? {
        guard let e = entries[ino], now - e.at < ttl else { return nil }
        return e.attributes
    }

    private mutating func tick(_ ino: UInt64) {
        clock += 1
        if changed[ino] == nil, changed.count >= Self.changeLimit {
            changed.removeAll()
            floor = clock
        }
        changed[ino] = clock
    }

    /// The inode changed through this mount (or the kernel was told to drop what it knows).
    mutating func forget(_ ino: UInt64) {
        tick(ino)
        entries[ino] = nil
    }

    /// A directory had a name added or removed through this mount: its times are now `time`
    /// (the server's own follow within the timeout).
    mutating func touch(_ ino: UInt64, time: FileTime) {
        tick(ino)
        guard var e = entries[ino] else { return }
        if time.rawValue > e.attributes.mtime.rawValue { e.attributes.mtime = time }
        if time.rawValue > e.attributes.ctime.rawValue { e.attributes.ctime = time }
        entries[ino] = e
    }

    /// A file was written through this mount up to `end` at `time`: its attributes, while
    /// still within the timeout, stay in use with the size and times the write gave it (the
    /// server's own follow), so what is asked of it between its writes and its close (tar's
    /// futimens, fchown and fchmod; cp -p's) is answered here. Counts as a change: an answer
    /// asked before it is not kept.
    mutating func wrote(_ ino: UInt64, end: UInt64, time: FileTime) {
        tick(ino)
        guard var e = entries[ino] else { return }
        if end > e.attributes.size {
            e.attributes.size = end
            // What the server will count for it, in 4 KiB blocks, until it says.
            e.attributes.allocationSize = max(e.attributes.allocationSize, (end + 4095) / 4096 * 4096)
        }
        if time.rawValue > e.attributes.mtime.rawValue { e.attributes.mtime = time }
        if time.rawValue > e.attributes.ctime.rawValue { e.attributes.ctime = time }
        entries[ino] = e
    }

    mutating func forgetAll() {
        clock += 1
        floor = clock
        changed.removeAll()
        entries.removeAll()
    }
}
