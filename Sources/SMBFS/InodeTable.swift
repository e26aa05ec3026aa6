import SMBProtocol

/// Inode numbers and the kernel's lookup counts. An inode's number is the server's file id
/// when that is usable, so a file keeps its number for the life of the mount even after the
/// kernel forgets it; otherwise a number is made up from a range the server does not use.
struct InodeTable: Sendable {
    struct Node: Sendable {
        var path: String
        var lookups: UInt64
        /// The last attributes the server gave, answered from while it is unreachable.
        var attributes: Attributes?
        /// The file's other names (hard links) seen here, newest last: when `path` is unlinked,
        /// the inode lives on under one of them.
        var otherPaths: [String] = []
        /// Opened since the kernel last dropped its pages: they may still hold the file (and
        /// answer reads without this mount asking).
        var pagesGiven = false
        /// When the kernel last looked it up (`uses`), and whether it was since asked to drop it.
        var lastUse: UInt64 = 0
        var evictionAsked = false
    }

    /// A name the kernel is asked to drop (FUSE notify_inval_entry), so that it forgets the inode.
    struct Eviction: Equatable, Sendable {
        let parent: UInt64
        let name: String
        let ino: UInt64
    }

    /// Other names kept per inode; a file with more links is reached through the newest ones.
    static let otherPathsLimit = 8

    static let rootIno: UInt64 = 1
    /// Made-up numbers start here (top bit set), far from server file ids.
    static let syntheticBase: UInt64 = 1 << 63

    private var nodes: [UInt64: Node] = [:]
    /// The inode at each known path (the reverse of `nodes[].path`).
    private var byPath: [String: UInt64] = [:]
    /// Made-up numbers stay attached to their path for the life of the mount.
    private var synthetic: [String: UInt64] = [:]
    private var nextSynthetic = syntheticBase
    /// Link counts above 1 the server last gave (QUERY_INFO), for the answers that carry none
    /// (directory listings); any inode not here has one link as far as is known.
    private var links: [UInt64: UInt32] = [:]
    static let linksLimit = 65_536
    /// Nodes known per parent directory path, and those known under other names too: a rename
    /// of a path with nothing known below it moves one node, not a scan of them all (a mount
    /// that has walked a million files renames as fast as a fresh one).
    private var children: [String: Int] = [:]
    private var linked: Set<UInt64> = []
    /// Lookups in the order they came, oldest first from `usesStart`: an entry whose tick is not
    /// its node's `lastUse` any more was overtaken by a later lookup and is skipped.
    private var uses: [(ino: UInt64, tick: UInt64)] = []
    private var usesStart = 0
    private var tick: UInt64 = 0
    /// Nodes asked to be dropped whose FORGET has not come yet.
    private var asked = 0

    init(rootPath: String) {
        nodes[Self.rootIno] = Node(path: rootPath, lookups: 1)
        byPath[rootPath] = Self.rootIno
    }

    /// Gives a node (new or known) its path, keeping the reverse index.
    private mutating func place(_ ino: UInt64, _ node: Node) {
        let old = nodes[ino]?.path
        if let old, old != node.path, byPath[old] == ino { byPath[old] = nil }
        if old != node.path {
            if let old { counted(old, -1) }
            counted(node.path, 1)
        }
        nodes[ino] = node
        byPath[node.path] = ino
        if node.otherPaths.isEmpty { linked.remove(ino) } else { linked.insert(ino) }
    }

    private static func parent(_ path: String) -> String {
        path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
    }

    private static func name(_ path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    private mutating func counted(_ path: String, _ delta: Int) {
        let dir = Self.parent(path)
        let n = (children[dir] ?? 0) + delta
        children[dir] = n > 0 ? n : nil
    }

    private mutating func remove(_ ino: UInt64) {
        guard let n = nodes.removeValue(forKey: ino) else { return }
        if n.evictionAsked { asked -= 1 }
        if byPath[n.path] == ino { byPath[n.path] = nil }
        counted(n.path, -1)
        linked.remove(ino)
    }

    func path(of ino: UInt64) -> String? { nodes[ino]?.path }

    func attributes(of ino: UInt64) -> Attributes? { nodes[ino]?.attributes }

    func ino(atPath path: String) -> UInt64? { byPath[path] }

    /// The known attributes of the inode at `path`.
    func attributes(atPath path: String) -> Attributes? {
        byPath[path].flatMap { nodes[$0]?.attributes }
    }

    /// The link count of `ino`: `known` when the server just gave it (kept for later), else the
    /// last one given.
    mutating func links(of ino: UInt64, known: UInt32?) -> UInt32 {
        guard let known else { return links[ino] ?? 1 }
        if known > 1 {
            if links[ino] == nil, links.count >= Self.linksLimit { links.removeAll() }
            links[ino] = known
        } else {
            links[ino] = nil
        }
        return known
    }

    /// One name of `ino` was removed through this mount; nil: of an inode not known, whose
    /// count cannot be followed, so none is kept.
    /// `path`: the name removed. The inode then goes on under another name it is known by.
    /// Returns whether that was the file's last name, as far as is known here (no other link
    /// counted).
    @discardableResult
    mutating func unlinked(_ ino: UInt64?, path: String) -> Bool {
        guard let ino else { links.removeAll(); return false }
        let last = links[ino] == nil
        if let n = links[ino] { links[ino] = n > 2 ? n - 1 : nil }
        guard var n = nodes[ino] else { return last }
        n.otherPaths.removeAll { $0 == path }
        if n.path == path, let other = n.otherPaths.popLast() {
            n.path = other
        }
        place(ino, n)
        return last
    }

    mutating func setAttributes(_ a: Attributes) {
        if nodes[a.ino] != nil { nodes[a.ino]?.attributes = a }
    }

    /// The number for a path whose server file id is `fileId` (0 when unknown), without counting
    /// a lookup. `nlink`: the link count the server gave with it, if any.
    mutating func number(for path: String, fileId: UInt64, nlink: UInt32? = nil) -> UInt64 {
        if fileId > 1 && fileId < Self.syntheticBase {
            if var n = nodes[fileId], n.path != path {
                // The same file under another name (a hard link) or a stale entry: the newest name
                // wins, and with more than one link the old name stays known as another.
                n.otherPaths.removeAll { $0 == path }
                if (nlink ?? links[fileId] ?? 1) > 1 {
                    n.otherPaths.append(n.path)
                    if n.otherPaths.count > Self.otherPathsLimit { n.otherPaths.removeFirst() }
                }
                n.path = path
                place(fileId, n)
            }
            return fileId
        }
        if let n = synthetic[path] { return n }
        nextSynthetic += 1
        synthetic[path] = nextSynthetic
        return nextSynthetic
    }

    /// Counts one kernel lookup of `ino` at `path` (FUSE: every successful lookup/readdirplus entry).
    mutating func remember(_ ino: UInt64, path: String) {
        if ino == Self.rootIno { return }
        tick += 1
        var n = nodes[ino] ?? Node(path: path, lookups: 0)
        n.lookups += 1
        n.path = path
        n.lastUse = tick
        if n.evictionAsked { n.evictionAsked = false; asked -= 1 }
        place(ino, n)
        uses.append((ino, tick))
        compactUses()
    }

    /// Files the kernel should drop so that no more than `limit` inodes stay known, least
    /// recently looked up first; `keep`: those that must stay (open here). The kernel holds an
    /// inode for as long as it caches a name of it, and this table must keep every inode the
    /// kernel holds (FUSE: until its FORGET): without this a walk of a million files keeps a
    /// million inodes. Directories are never asked: the kernel would unhash one that is a
    /// process's working directory, and getcwd(3) there would fail; a tree holds far fewer of
    /// them than files.
    mutating func evictions(limit: Int, keep: Set<UInt64>) -> [Eviction] {
        var out: [Eviction] = []
        var kept: [(ino: UInt64, tick: UInt64)] = []
        while nodes.count - asked > limit, usesStart < uses.count {
            let (ino, t) = uses[usesStart]
            usesStart += 1
            guard ino != Self.rootIno, var n = nodes[ino], n.lastUse == t, !n.evictionAsked,
                  let kind = n.attributes?.kind, kind != .directory, children[n.path] == nil,
                  let parent = byPath[Self.parent(n.path)] else { continue }
            if keep.contains(ino) { kept.append((ino, t)); continue }
            n.evictionAsked = true
            nodes[ino] = n
            asked += 1
            out.append(Eviction(parent: parent, name: Self.name(n.path), ino: ino))
        }
        // An open file stays a candidate, as the most recently used.
        uses += kept
        if usesStart > 4096, usesStart * 2 > uses.count {
            uses.removeFirst(usesStart)
            usesStart = 0
        }
        return out
    }

    /// Entries of `uses` held: at most one live per node, and the lookups since the last
    /// compaction (a few files looked up over and over leave one each).
    var usesHeld: Int { uses.count - usesStart }

    private mutating func compactUses() {
        guard usesHeld > 2 * nodes.count + 4096 else { return }
        uses = uses[usesStart...].filter { nodes[$0.ino]?.lastUse == $0.tick }
        usesStart = 0
    }

    mutating func forget(_ ino: UInt64, count: UInt64) {
        guard ino != Self.rootIno, let n = nodes[ino] else { return }
        if n.lookups <= count {
            remove(ino)
        } else {
            nodes[ino]?.lookups = n.lookups - count
        }
    }

    /// A rename moves every known path at or below `from` to `to` (inode numbers stay).
    mutating func rename(from: String, to: String) {
        let prefix = from + "/"
        func moved(_ p: String) -> String? {
            if p == from { return to }
            if p.hasPrefix(prefix) { return to + "/" + p.dropFirst(prefix.count) }
            return nil
        }
        // Nothing known below `from` (the kernel holds a directory while it holds anything in
        // it): only the node at `from` moves.
        let moving: [(UInt64, String, String)]
        if children[from] != nil {
            moving = nodes.compactMap { ino, n in moved(n.path).map { (ino, n.path, $0) } }
        } else {
            moving = byPath[from].map { [($0, from, to)] } ?? []
        }
        // Two passes, so a node moved onto a path another node leaves is not removed by it.
        for (ino, old, _) in moving where byPath[old] == ino { byPath[old] = nil }
        for (ino, old, new) in moving {
            nodes[ino]?.path = new
            byPath[new] = ino
            counted(old, -1)
            counted(new, 1)
        }
        for ino in linked {
            guard let n = nodes[ino], n.otherPaths.contains(where: { moved($0) != nil }) else { continue }
            nodes[ino]?.otherPaths = n.otherPaths.map { moved($0) ?? $0 }
        }
        for (p, n) in synthetic {
            if let q = moved(p) { synthetic[p] = nil; synthetic[q] = n }
        }
    }

    var count: Int { nodes.count }
    /// Nodes not asked to be dropped: what `evictions` brings down to its limit.
    var unasked: Int { nodes.count - asked }

    /// A write here reached `end` at `time`: the attributes known show it (answered while the
    /// server is unreachable, as the fresh ones are while it is not).
    mutating func wrote(_ ino: UInt64, end: UInt64, time: FileTime) {
        guard var a = nodes[ino]?.attributes else { return }
        a.size = max(a.size, end)
        if time.rawValue > a.mtime.rawValue { a.mtime = time }
        if time.rawValue > a.ctime.rawValue { a.ctime = time }
        nodes[ino]?.attributes = a
    }

    func mayHoldPages(_ ino: UInt64) -> Bool { nodes[ino]?.pagesGiven ?? false }

    /// `ino` was opened, its reads to fill pages (true), or the kernel dropped them (false).
    mutating func pagesGiven(_ ino: UInt64, _ given: Bool) {
        if nodes[ino]?.pagesGiven != given { nodes[ino]?.pagesGiven = given }
    }
}
