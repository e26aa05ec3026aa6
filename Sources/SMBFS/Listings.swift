/// Directory listings read within the attribute timeout. A listing is good while nothing
/// changed through this mount since it was read (the mutation count) and a change notification
/// has not dropped it: the next opendir reuses it, and lookups in that directory are answered
/// from it, as the kernel answers from the attributes readdirplus gave it.
struct ListingCache: Sendable {
    struct Listing: Sendable {
        let at: ContinuousClock.Instant
        let mutation: UInt64
        let entries: [Filesystem.Entry]
        let byName: [String: Int]
        /// Names folded to lower case: a server that ignores case finds these under other
        /// spellings, so a miss among them is not an answer.
        let folded: Set<String>
    }

    enum Answer: Sendable {
        case found(Filesystem.Entry)
        case absent
        case unknown
    }

    private var listings: [String: Listing] = [:]
    /// Entries held in all listings together.
    private var held = 0
    /// Lookups per directory that went to the server since `mutation`.
    private var misses: [String: (count: Int, mutation: UInt64, since: ContinuousClock.Instant)] = [:]

    /// Listings kept (a tree walk such as `git status` comes back to each directory), and
    /// entries in all of them (about 10 MiB).
    static let limit = 1024
    static let entryLimit = 100_000
    /// After this many lookups in one directory within the timeout, one QUERY_DIRECTORY is
    /// cheaper than the lookups still to come (`git status`, `make` walking a tree).
    static let missesBeforeListing = 4

    func fresh(_ dir: String, mutation: UInt64, now: ContinuousClock.Instant, ttl: Duration) -> Listing? {
        guard let l = listings[dir], l.mutation == mutation, now - l.at < ttl else { return nil }
        return l
    }

    mutating func store(_ dir: String, entries: [Filesystem.Entry], at: ContinuousClock.Instant, mutation: UInt64) {
        _ = drop(dir)
        guard entries.count <= Self.entryLimit else { return }
        while !listings.isEmpty && (listings.count >= Self.limit || held + entries.count > Self.entryLimit),
              let oldest = listings.min(by: { $0.value.at < $1.value.at })?.key {
            _ = drop(oldest)
        }
        held += entries.count
        var byName: [String: Int] = [:]
        byName.reserveCapacity(entries.count)
        for (i, e) in entries.enumerated() { byName[e.name] = i }
        listings[dir] = Listing(at: at, mutation: mutation, entries: entries, byName: byName,
                                folded: Set(entries.map { $0.name.lowercased() }))
        misses[dir] = nil
    }

    mutating func drop(_ dir: String) -> [Filesystem.Entry]? {
        misses[dir] = nil
        guard let l = listings.removeValue(forKey: dir) else { return nil }
        held -= l.entries.count
        return l.entries
    }

    func lookup(_ dir: String, name: String, mutation: UInt64, now: ContinuousClock.Instant, ttl: Duration) -> Answer {
        guard let l = fresh(dir, mutation: mutation, now: now, ttl: ttl) else { return .unknown }
        if let i = l.byName[name] { return .found(l.entries[i]) }
        return l.folded.contains(name.lowercased()) ? .unknown : .absent
    }

    /// Counts a lookup in `dir` that had to ask the server; true when the directory should be
    /// read instead.
    mutating func missed(_ dir: String, mutation: UInt64, now: ContinuousClock.Instant, ttl: Duration) -> Bool {
        var m = misses[dir] ?? (0, mutation, now)
        if m.mutation != mutation || now - m.since >= ttl { m = (0, mutation, now) }
        m.count += 1
        if misses[dir] == nil, misses.count >= Self.limit * 4 { misses.removeAll() }
        misses[dir] = m
        return m.count >= Self.missesBeforeListing
    }
}
