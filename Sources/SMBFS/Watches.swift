import Dispatch
import Locking
import SMBClient
import SMBProtocol

/// CHANGE_NOTIFY on the directories in use (MS-SMB2 3.2.4.21): what other clients or the
/// server itself change in a listed directory leaves this mount's caches (the listing, the
/// kernel's entries) as soon as the server reports it, not only when the attribute timeout
/// runs out. The count is bounded; the least recently listed directory gives its watch up.
struct Watches: Sendable {
    struct Watch: Sendable {
        let id: UInt64
        let ino: UInt64
        var fileId: FileId?
        var lastUsed: ContinuousClock.Instant
    }

    var byPath: [String: Watch] = [:]
    var nextId: UInt64 = 1
    /// Directories listed once, not yet watched, and when.
    var listedOnce: [String: ContinuousClock.Instant] = [:]
    /// When the last watches were started: a tree walk must not turn into a burst of them.
    var recentStarts: [ContinuousClock.Instant] = []
    static let startsPerSecond = 8

    static let limit = 32
    /// A directory not listed for this long is no longer watched.
    static let idle = Duration.seconds(120)
    /// Names, subdirectory names, and what `ls -l` shows of an entry.
    static let filter: CompletionFilter = [.fileName, .dirName, .attributes, .size, .lastWrite]
}

/// Directories this mount changed something in lately. The server reports this mount's own
/// changes to its watches too; the kernel already knows them, and dropping its entries would
/// only make it ask again. Within `window` of a local change, a notification for that
/// directory drops the listing but leaves the kernel's entries to their timeout, as without
/// a watch.
struct LocalChanges: Sendable {
    private var at: [String: ContinuousClock.Instant] = [:]
    static let window = Duration.seconds(2)

    mutating func note(_ dir: String, now: ContinuousClock.Instant) {
        if at[dir] == nil, at.count >= 1024 { at = at.filter { now - $0.value < Self.window } }
        at[dir] = now
    }

    func recent(_ dir: String, now: ContinuousClock.Instant) -> Bool {
        at[dir].map { now - $0 < Self.window } ?? false
    }
}

/// What a change made through this mount did to a path, for the listing of its directory.
enum LocalChange: Sendable {
    /// Its contents or attributes changed (write, truncate, times, mode).
    case modified
    /// It was created, with the attributes the server answered; nil when they are not known.
    case added(Filesystem.Entry?)
    case removed
}

extension Filesystem {
    static func split(_ path: String) -> (dir: String, name: String) {
        guard let i = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<i]), String(path[path.index(after: i)...]))
    }

    /// Something at `path` is about to change through this mount: the server's reports of it
    /// for a while are this mount's own, and what the kernel is told of it (if a directory)
    /// comes from the server again.
    func willChange(_ path: String) {
        let dir = Self.split(path).dir
        localChanges.withLock { $0.note(dir, now: .now) }
        forgetFresh(path)
    }

    /// Something at `path` changed through this mount (or may have: an operation that failed
    /// on the server reports `.modified`): the listing of its directory follows. A name added
    /// or removed also changes the directory's own times, which its parent's listing holds.
    func changedLocally(_ path: String, _ change: LocalChange) {
        let (dir, name) = Self.split(path)
        listings.withLock { c in
            switch change {
            case .modified: c.modified(dir, name: name)
            case .added(let e?): c.added(dir, e)
            case .added(nil): c.modified(dir, name: name)
            case .removed: c.removed(dir, name: name)
            }
            if case .modified = change { return }
            if !dir.isEmpty {
                let parent = Self.split(dir)
                c.modified(parent.dir, name: parent.name)
            }
        }
        // A name removed that no inode is known under is a hard link whose inode goes by its
        // other name now: which one is not known, so nothing fresh is kept (its link count fell).
        if !forgetFresh(path), case .removed = change { fresh.withLock { $0.forgetAll() } }
        if case .modified = change { return }
        touchFresh(dir)
    }

    /// `path` changed through this mount by a request whose answer `a`, asked at `stamp` (after
    /// willChange), already shows the change: the listing's entry goes stale, and `a` is kept
    /// as fresh unless the inode changed again since `stamp`.
    func changedLocally(_ path: String, answered a: Attributes, stamp: UInt64) {
        let (dir, name) = Self.split(path)
        listings.withLock { $0.modified(dir, name: name) }
        markFresh(a, stamp: stamp)
    }

    /// The open file `ino` was written to, up to `end`, at `time` (FreshAttributes.wrote).
    func wroteLocally(ino: UInt64, end: UInt64, at time: FileTime) {
        fresh.withLock { $0.wrote(ino, end: end, time: time) }
        inodes.withLock { $0.wrote(ino, end: end, time: time) }
        dropReadAhead(ino: ino)
        if let p = try? path(of: ino) {
            let (dir, name) = Self.split(p)
            listings.withLock { $0.modified(dir, name: name) }
        }
    }

    /// The open file `ino` changed through this mount (copy, fallocate).
    func changedLocally(ino: UInt64) {
        fresh.withLock { $0.forget(ino) }
        dropReadAhead(ino: ino)
        if let p = try? path(of: ino) { changedLocally(p, .modified) }
    }

    /// What the server said of the inode at `path` no longer stands. False when no inode is
    /// known there.
    @discardableResult
    private func forgetFresh(_ path: String) -> Bool {
        guard let ino = inodes.withLock({ $0.ino(atPath: path) }) else { return false }
        fresh.withLock { $0.forget(ino) }
        dropReadAhead(ino: ino)
        return true
    }

    /// A name was added to or removed from `dir` through this mount. Its attributes from the
    /// server, while still within the timeout, stay in use with the time of the change as its
    /// modification and change times (as the kernel's cifs client sets them locally): creating
    /// a file does not make the kernel's permission check on the directory ask the server.
    private func touchFresh(_ dir: String) {
        guard let ino = inodes.withLock({ $0.ino(atPath: dir) }) else { return }
        let now = Self.now()
        fresh.withLock { $0.touch(ino, time: now) }
    }

    /// Paths moved or went away below `path`: every listing and fresh directory is dropped.
    func structureChanged() {
        listings.withLock { $0.invalidateAll() }
        fresh.withLock { $0.forgetAll() }
    }

    /// Starts watching `dir` (inode `ino`) unless it is watched already; called on each listing
    /// read from the server (`fromServer`), and on each answered from the cache, which only
    /// keeps a watch in use and sends nothing. With the default 1 s timeout a directory is
    /// watched once the server is asked for it again (in use: a tree walked once, by find or
    /// rm -rf, costs no watches); with a longer timeout, which would hide changes for longer,
    /// from its first listing.
    func watch(_ dir: String, ino: UInt64, fromServer: Bool) {
        guard options.watchDirectories else { return }
        let now = ContinuousClock.now
        let eager = options.attributeTimeout > 1
        let (start, evicted) = watches.withLock { w -> (UInt64?, [FileId]) in
            if w.byPath[dir] != nil {
                w.byPath[dir]?.lastUsed = now
                return (nil, [])
            }
            guard fromServer else { return (nil, []) }
            if !eager {
                guard let first = w.listedOnce[dir], now - first < Watches.idle else {
                    // Bounded: a tree walk lists many directories once.
                    if w.listedOnce.count >= Watches.limit * 8 { w.listedOnce.removeAll() }
                    w.listedOnce[dir] = now
                    return (nil, [])
                }
            }
            w.recentStarts.removeAll { now - $0 >= .seconds(1) }
            guard w.recentStarts.count < Watches.startsPerSecond else { return (nil, []) }
            w.recentStarts.append(now)
            w.listedOnce[dir] = nil
            var evicted: [FileId] = []
            let stale = w.byPath.filter { now - $0.value.lastUsed > Watches.idle }.map(\.key)
            for p in stale { if let f = w.byPath.removeValue(forKey: p)?.fileId { evicted.append(f) } }
            if w.byPath.count >= Watches.limit, let oldest = w.byPath.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                if let f = w.byPath.removeValue(forKey: oldest)?.fileId { evicted.append(f) }
            }
            let id = w.nextId
            w.nextId += 1
            w.byPath[dir] = Watches.Watch(id: id, ino: ino, fileId: nil, lastUsed: now)
            return (id, evicted)
        }
        // Closing the handle completes its pending CHANGE_NOTIFY (STATUS_NOTIFY_CLEANUP).
        for f in evicted { Task { try? await self.share.close(f) } }
        if let start { Task { await self.runWatch(dir, ino: ino, id: start) } }
    }

    /// Stops the watches of `path` and of every directory below it, and waits until their
    /// handles are closed.
    func stopWatches(under path: String) async {
        let prefix = path + "/"
        let closing = watches.withLock { w -> [FileId] in
            let gone = w.byPath.keys.filter { path.isEmpty || $0 == path || $0.hasPrefix(prefix) }
            return gone.compactMap { w.byPath.removeValue(forKey: $0)?.fileId }
        }
        for f in closing { try? await share.close(f) }
    }

    /// Stops every watch (unmount): the share root is above them all.
    func stopAllWatches() async { await stopWatches(under: "") }

    private func isCurrent(_ dir: String, id: UInt64) -> Bool {
        watches.withLock { $0.byPath[dir]?.id == id }
    }

    private func runWatch(_ dir: String, ino: UInt64, id: UInt64) async {
        let fid: FileId
        do {
            fid = try await share.create(path: dir, access: [.readData, .synchronize], options: .directoryFile).fileId
        } catch {
            logger.debug("directory not watched", metadata: ["path": "\(dir)", "error": "\(error)"])
            watches.withLock { w in if w.byPath[dir]?.id == id { w.byPath[dir] = nil } }
            return
        }
        let kept = watches.withLock { w -> Bool in
            guard w.byPath[dir]?.id == id else { return false }
            w.byPath[dir]?.fileId = fid
            return true
        }
        guard kept else {
            try? await share.close(fid)
            return
        }
        // The first request, and any after a removal, checks that the directory is not being
        // deleted (below); after additions and modifications alone it cannot be yet.
        var check = true
        while isCurrent(dir, id: id) {
            let generation = share.generation
            do {
                let (onWire, wired) = AsyncStream<Void>.makeStream()
                let next = Task {
                    defer { wired.finish() }
                    return try await self.share.changeNotify(fid, filter: Watches.filter, sent: { wired.finish() })
                }
                for await _ in onWire {}
                // Another client deleting the directory completes a waiting CHANGE_NOTIFY with
                // STATUS_DELETE_PENDING, but not one sent after: asked after the request is
                // queued, this catches a delete that came while no request was waiting, so the
                // watch never keeps a deleted directory in existence.
                if check, try await share.queryAllInformation(fid).deletePending {
                    throw SMBError.status(.deletePending, .changeNotify)
                }
                var changes = try await next.value
                check = changes.map { $0.contains { $0.action == .removed || $0.action == .renamedOldName } } ?? true
                // Whatever happened while the connection was being replaced went unreported.
                if share.generation != generation { changes = nil }
                guard isCurrent(dir, id: id) else { break }
                changedOnServer(dir, ino: ino, changes)
            } catch {
                // Closed (evicted, unmounting) or refused: the next listing starts a new watch.
                logger.debug("watch ended", metadata: ["path": "\(dir)", "error": "\(error)"])
                let mine = watches.withLock { w -> Bool in
                    guard w.byPath[dir]?.id == id else { return false }
                    w.byPath[dir] = nil
                    return true
                }
                if mine { try? await share.close(fid) }
                return
            }
        }
    }

    /// Something changed in `dir` on the server: its listing is read again next time, and the
    /// kernel forgets the named entries (and, for nil, every entry it was given), so its next
    /// lookup asks.
    private func changedOnServer(_ dir: String, ino: UInt64, _ changes: [FileNotifyInformation]?) {
        let dropped = listings.withLock { $0.invalidate(dir) }
        fresh.withLock { $0.forget(ino) }
        let names = changes.map { Set($0.map(\.fileName)) } ?? Set(dropped?.map(\.name) ?? [])
        for n in names { forgetFresh(Self.join(dir, n)) }
        if changes != nil && localChanges.withLock({ $0.recent(dir, now: .now) }) { return }
        logger.debug("changed on the server", metadata: ["path": "\(dir)", "names": "\(names.count)"])
        // The kernel takes the directory's lock for this, which a request waiting on this
        // process may hold: never on a Swift pool thread, and in the order reported.
        Self.notifyQueue.async {
            for n in names where !n.isEmpty && !n.contains("/") { self.invalidate(ino, .entry(n)) }
            self.invalidate(ino, .attributes)
        }
    }

    static let notifyQueue = DispatchQueue(label: "smb3fs.inval-entry")
}
