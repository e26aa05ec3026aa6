/// Directory listings read within the attribute timeout. The next opendir reuses a listing,
/// and lookups in that directory are answered from it, as the kernel answers from the
/// attributes readdirplus gave it. Changes made through this mount are applied to the
/// listing of their directory (a created name is added, a removed one taken out, a written
/// file's entry marked stale), so a directory being filled keeps answering "no such name"
/// without asking the server; a change notification drops the listing whole.
struct ListingCache: Sendable {
    struct Listing: Sendable {
        /// When the server was asked; the listing is good for the timeout from then.
        let at: ContinuousClock.Instant
        var entries: [Filesystem.Entry]
        var byName: [String: Int]
        /// Names whose attributes changed through this mount since: the server is asked for
        /// them, and readdir reads the directory again.
        var stale: Set<String> = []

        mutating func put(_ e: Filesystem.Entry) {
            if let i = byName[e.name] { entries[i] = e } else {
                byName[e.name] = entries.count
                entries.append(e)
            }
            stale.remove(e.name)
        }

        mutating func remove(_ name: String) {
            stale.remove(name)
            guard let i = byName.removeValue(forKey: name) else { return }
            // Order does not matter here: an open directory reads a copy.
            let last = entries.removeLast()
            if i < entries.count {
                entries[i] = last
                byName[last.name] = i
            }
        }
    }

    enum Answer: Sendable {
        case found(Filesystem.Entry)
        case absent
        case unknown
    }

    private var listings: [String: Listing] = [:]
    /// Entries held in all listings together.
    private var held = 0
    /// Counts changes; a read from the server is stored only if its directory did not change
    /// after the read began (`stamp`).
    private var clock: UInt64 = 0
    private var lastChange: [String: UInt64] = [:]
    /// Changes older than this are no longer told apart by directory.
    private var floor: UInt64 = 0
    /// Lookups per directory that went to the server within the timeout.
    private var misses: [String: (count: Int, since: ContinuousClock.Instant)] = [:]

    /// Listings kept (a tree walk such as `git status` comes back to each directory), and
    /// entries in all of them (about 10 MiB).
    static let limit = 1024
    static let entryLimit = 100_000
    /// After this many lookups in one directory within the timeout, one QUERY_DIRECTORY is
    /// cheaper than the lookups still to come (`git status`, `make` walking a tree).
    static let missesBeforeListing = 4
    /// A directory whose last listing (expired now) held at most this many entries is read at
    /// the first lookup that misses: one round trip either way, and the lookups that follow
    /// in it are answered.
    static let smallDirectory = 256

    /// What a read of a directory that starts now passes back to `store`.
    var stamp: UInt64 { clock }

    /// Whether nothing changed in `dir` through this mount since `stamp`.
    func unchanged(_ dir: String, since stamp: UInt64) -> Bool {
        (lastChange[dir] ?? floor) <= stamp
    }

    private func current(_ dir: String, now: ContinuousClock.Instant, ttl: Duration) -> Listing? {
        guard let l = listings[dir], now - l.at < ttl else { return nil }
        return l
    }

    /// A listing readdir may answer with: within the timeout, every entry as the server has it.
    func complete(_ dir: String, now: ContinuousClock.Instant, ttl: Duration) -> Listing? {
        guard let l = current(dir, now: now, ttl: ttl), l.stale.isEmpty else { return nil }
        return l
    }

    /// Keeps a listing read from the server (the read began at `stamp`), unless the directory
    /// changed through this mount while it was being read.
    @discardableResult
    mutating func store(_ dir: String, entries: [Filesystem.Entry], at: ContinuousClock.Instant, stamp: UInt64) -> Bool {
        guard unchanged(dir, since: stamp) else { return false }
        remove(dir)
        guard entries.count <= Self.entryLimit else { return false }
        while !listings.isEmpty && (listings.count >= Self.limit || held + entries.count > Self.entryLimit),
              let oldest = listings.min(by: { $0.value.at < $1.value.at })?.key {
            remove(oldest)
        }
        held += entries.count
        var byName: [String: Int] = [:]
        byName.reserveCapacity(entries.count)
        for (i, e) in entries.enumerated() { byName[e.name] = i }
        listings[dir] = Listing(at: at, entries: entries, byName: byName)
        misses[dir] = nil
        return true
    }

    private mutating func remove(_ dir: String) {
        misses[dir] = nil
        if let l = listings.removeValue(forKey: dir) { held -= l.entries.count }
    }

    private mutating func tick(_ dir: String) {
        clock += 1
        if lastChange[dir] == nil, lastChange.count >= Self.limit * 4 {
            lastChange.removeAll()
            floor = clock
        }
        lastChange[dir] = clock
    }

    /// Applies one change made through this mount in `dir` to its listing.
    private mutating func apply(_ dir: String, _ change: (inout Listing) -> Void) {
        tick(dir)
        guard var l = listings.removeValue(forKey: dir) else { return }
        held -= l.entries.count
        change(&l)
        held += l.entries.count
        listings[dir] = l
    }

    /// `entry` was created (or replaced) in `dir`, with the attributes the server answered.
    mutating func added(_ dir: String, _ entry: Filesystem.Entry) {
        apply(dir) { $0.put(entry) }
    }

    /// `name` in `dir` changed (written, truncated, times set), or a name appeared whose
    /// attributes are not known: the server is asked for it.
    mutating func modified(_ dir: String, name: String) {
        apply(dir) { $0.stale.insert(name) }
    }

    /// `name` was removed from `dir`.
    mutating func removed(_ dir: String, name: String) {
        apply(dir) { $0.remove(name) }
    }

    /// Drops the listing of `dir` (the server reported changes there, or a change through this
    /// mount could not be followed); returns what it held.
    mutating func invalidate(_ dir: String) -> [Filesystem.Entry]? {
        tick(dir)
        let l = listings[dir]
        remove(dir)
        return l?.entries
    }

    /// Drops every listing: paths moved (a directory renamed).
    mutating func invalidateAll() {
        clock += 1
        floor = clock
        lastChange.removeAll()
        listings.removeAll()
        misses.removeAll()
        held = 0
    }

    /// A name the listing holds only under another spelling (a server that ignores case would
    /// find it) is absent too: names are what the server lists (see Filesystem.stat(path:exactly:)).
    func lookup(_ dir: String, name: String, now: ContinuousClock.Instant, ttl: Duration) -> Answer {
        guard let l = current(dir, now: now, ttl: ttl), !l.stale.contains(name) else { return .unknown }
        if let i = l.byName[name] { return .found(l.entries[i]) }
        return .absent
    }

    /// The entry a listing of `dir` holds for `name`, however old (its inode number, say).
    func known(_ dir: String, name: String) -> Filesystem.Entry? {
        guard let l = listings[dir], let i = l.byName[name] else { return nil }
        return l.entries[i]
    }

    /// Subdirectories listed in `dir` after `name`, in listing order, that have no listing of
    /// their own: the ones a tree walk (find, du, rm -r, git) will read next. Looks at most
    /// `scan` entries on, and returns at most `count`.
    func directories(after name: String, in dir: String, now: ContinuousClock.Instant, ttl: Duration,
                     count: Int, scan: Int = 64) -> [Filesystem.Entry] {
        // The parent's listing is only a hint of names here: an expired one serves too (a long
        // walk outlasts the timeout), a name gone since costs one failed read.
        guard let l = listings[dir], let i = l.byName[name] else { return [] }
        var found: [Filesystem.Entry] = []
        for e in l.entries[(i + 1)...].prefix(scan) where e.attributes.kind == .directory {
            let path = Filesystem.join(dir, e.name)
            if current(path, now: now, ttl: ttl) == nil { found.append(e) }
            if found.count == count { break }
        }
        return found
    }

    /// Counts a lookup in `dir` that had to ask the server; true when the directory should be
    /// read instead.
    mutating func missed(_ dir: String, now: ContinuousClock.Instant, ttl: Duration) -> Bool {
        if let l = listings[dir], l.entries.count <= Self.smallDirectory { return true }
        var m = misses[dir] ?? (0, now)
        if now - m.since >= ttl { m = (0, now) }
        m.count += 1
        if misses[dir] == nil, misses.count >= Self.limit * 4 { misses.removeAll() }
        misses[dir] = m
        return m.count >= Self.missesBeforeListing
    }
}
