import Dispatch
import Locking
import Logging
import SMBClient
import SMBProtocol
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The filesystem model: paths, inodes, open handles and attributes, in terms of a `Share`.
/// It knows nothing of FUSE; the adapter turns its answers into replies.
public final class Filesystem: Sendable {
    public struct Options: Sendable {
        public var ownership: Ownership
        /// The share subdirectory mounted as the root ("" for the share root), "/"-separated.
        public var rootPath: String
        public var readOnly = false
        /// How long the kernel may cache attributes and entries (`actimeo=`).
        public var attributeTimeout: Double = 1.0
        /// How long a read-only open is kept after its close for the file to be opened again
        /// (`closetimeo=`, DeferredCloses.swift); zero closes at once.
        public var closeTimeout: Duration = .zero
        /// `ignore_chown`: chown to other owners succeeds and changes nothing (default: EPERM).
        public var ignoreChown = false
        /// `nobrl`: byte-range locks stay local to this machine (not sent to the server).
        public var localLocks = false
        /// Bytes of acknowledged writes that may be on their way to the server at once
        /// (write-behind); 0 sends each write before acknowledging it.
        public var writeBehindBytes = 32 << 20
        /// Bytes of a file read ahead of a sequential reader (`rasize=`, FileReadAhead.swift);
        /// 0 reads only what the kernel asks for.
        public var readAheadBytes = 8 << 20
        /// CHANGE_NOTIFY on listed directories (see Watches.swift); off with `nonotify`.
        public var watchDirectories = true
        /// `direct_io`: file data bypasses the kernel's page cache (FOPEN_DIRECT_IO on every
        /// open), so a stream costs one copy less; shared writable or shared read mmap fails
        /// (ENODEV), private mmap still works.
        public var directIO = false
        /// `perm`: the kernel checks access against the modes shown; `noperm`: the server
        /// alone decides (reported by `status`; the adapter's mount options carry it).
        public var checkPermissions = true
        /// `sfu`: FIFOs, sockets and device nodes kept as Interix system files (SpecialFiles.swift).
        public var sfu = false
        /// `max_inodes=`: inodes known at most before the kernel is asked to drop the names of
        /// files least recently looked up (InodeTable.evictions); more stay only while open
        /// or directories.
        public var maxInodes = 131_072
        public init(ownership: Ownership, rootPath: String) {
            self.ownership = ownership
            self.rootPath = rootPath
        }
    }

    /// An entry as returned by lookup and readdirplus.
    public struct Entry: Sendable {
        public var name: String
        public var attributes: Attributes
    }

    struct DirectoryHandle: Sendable {
        var path: String
        var ino: UInt64
        /// Filled from the first readdir on.
        var feed: ListingFeed?
    }

    struct OpenFile: Sendable {
        var fileId: FileId
        var ino: UInt64
        /// Opened with FILE_WRITE_ATTRIBUTES (every writable open is).
        var writable: Bool
    }

    struct Handles: Sendable {
        var next: UInt64 = 1
        var files: [UInt64: OpenFile] = [:]
        var directories: [UInt64: DirectoryHandle] = [:]
    }

    public let share: Share
    public let options: Options
    let logger: Logger
    let inodes: Locked<InodeTable>
    let handles = Locked(Handles())
    let lastStatfs = Locked<FSStats?>(nil)
    /// Byte-range locks held, per file handle (see Locks.swift).
    let locks = Locked<[UInt64: [HeldLock]]>([:])
    /// Writes acknowledged but not yet on the server; nil without write-behind.
    let writeBehind: WriteBehind?
    /// Directory listings read within the attribute timeout (Listings.swift).
    let listings = Locked(ListingCache())

    var listingTTL: Duration { .milliseconds(Int(options.attributeTimeout * 1000)) }

    /// Whether this server's QFid DiskFileId starts with the file's IndexNumber: 0 not known
    /// yet, 1 yes, -1 no (MS-SMB2 leaves it to the server; checked on the first create).
    let diskIdIsIndexNumber = Atomic<Int8>(0)

    /// Listings being read from the server, by path, with the listing cache's stamp at the start.
    private let reading = Locked<[String: (stamp: UInt64, task: Task<[Entry], Error>)]>([:])
    /// Listings being read ahead of a tree walk (ReadAhead.swift).
    let readingAhead = Atomic<Int>(0)
    /// Sequential reads by file handle, and the bytes they read ahead (FileReadAhead.swift).
    let readStreams = Locked<[UInt64: ReadStream]>([:])
    /// Read-only opens kept after their close (DeferredCloses.swift).
    let deferred = Locked(DeferredCloses())
    /// What opens for reading read with their CREATE, by handle (OpeningRead.swift).
    let openingReads = Locked<[UInt64: OpeningRead]>([:])
    let readAheadBytes = Atomic<Int>(0)

    func isBeingRead(_ dir: String) -> Bool { reading.withLock { $0[dir] != nil } }

    /// Waits for the listings being read at or below `path` (read ahead, most likely). Each is
    /// one CREATE+QUERY_DIRECTORY+CLOSE compound, which Samba works through before the next
    /// request; a server that interleaved them would refuse to rename or remove a directory
    /// with a handle open below it.
    func settleReads(under path: String) async {
        let prefix = path + "/"
        let tasks = reading.withLock { r in
            r.filter { path.isEmpty || $0.key == path || $0.key.hasPrefix(prefix) }.map(\.value.task)
        }
        for t in tasks { _ = try? await t.value }
    }

    /// Files written through this mount: their write times and owed FLUSHes (WrittenFiles.swift).
    let written = Locked(WrittenFiles())

    /// A write through this mount to `ino` was accepted now: the time it takes.
    @discardableResult
    func noteWritten(_ ino: UInt64) -> FileTime {
        let t = Self.now()
        written.withLock { $0.wrote(ino, at: t) }
        return t
    }

    /// The metadata of `ino` was changed through this mount now (its ctime moves).
    func noteChanged(_ ino: UInt64?) {
        guard let ino else { return }
        let t = Self.now()
        written.withLock { $0.changed(ino, at: t) }
    }

    /// Whether the server renames with POSIX semantics (FileRenameInformationEx): 0 not known
    /// yet, 1 yes, -1 no.
    let posixRename = Atomic<Int8>(0)

    /// Directories whose unshowable entries were logged already.
    let unshownLogged = Locked(Set<String>())

    /// Attributes the server gave within the timeout (FreshAttributes.swift).
    let fresh = Locked(FreshAttributes())

    /// Cache hits and server asks, for `status` (Statistics.swift).
    let counters = CacheCounters()

    /// Directories this mount changed something in lately (Watches.swift).
    let localChanges = Locked(LocalChanges())

    /// Directories watched for changes on the server (Watches.swift).
    let watches = Locked(Watches())

    /// What the kernel must forget about an inode: its attributes, its pages, or (of a
    /// directory) one name in it.
    public enum Invalidation: Sendable { case attributes, contents, entry(String) }
    private let invalidator = LockedFunction<@Sendable (UInt64, Invalidation) -> Void>()

    /// How to make the kernel drop what it caches of an inode (the FUSE adapter's notify).
    public func setInvalidator(_ f: (@Sendable (UInt64, Invalidation) -> Void)?) {
        invalidator.set(f)
    }

    func invalidate(_ ino: UInt64, _ what: Invalidation) {
        if case .entry = what {} else {
            fresh.withLock { $0.forget(ino) }
            dropReadAhead(ino: ino)
        }
        if case .contents = what { inodes.withLock { $0.pagesGiven(ino, false) } }
        invalidator.current?(ino, what)
    }

    /// A lease break (MS-SMB2 3.2.5.19.2): writes behind land before write caching is given
    /// up, and the kernel's pages go when read caching is, so the next read asks the server.
    func leaseBroken(_ ids: [FileId], to state: LeaseState) async {
        if !state.contains(.readCaching) || !state.contains(.handleCaching) { await closeDeferred(ids) }
        let inos = handles.withLock { h in Set(h.files.values.filter { ids.contains($0.fileId) }.map(\.ino)) }
        for ino in inos {
            if !state.contains(.writeCaching) { await writeBehind?.settle(ino: ino) }
            if !state.contains(.readCaching) {
                let box = self
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    // The notify may wait for the kernel's page locks: not on a Swift pool thread.
                    DispatchQueue.global().async { box.invalidate(ino, .contents); c.resume() }
                }
            }
        }
    }

    /// On a share opened with the SMB3 POSIX extensions the server's own modes and owners are
    /// shown (PosixModes.swift), whatever `options` asked for.
    public init(share: Share, options: Options, logger: Logger) {
        var options = options
        if share.posixOpens { options.ownership.modeSource = .posix }
        self.share = share
        self.options = options
        self.logger = logger
        inodes = Locked(InodeTable(rootPath: options.rootPath))
        writeBehind = options.writeBehindBytes > 0 ? WriteBehind(limit: options.writeBehindBytes) : nil
        share.onLeaseBreak { [weak self] ids, state in await self?.leaseBroken(ids, to: state) }
    }

    // MARK: - paths and inodes

    func path(of ino: UInt64) throws -> String {
        guard let p = inodes.withLock({ $0.path(of: ino) }) else { throw FSError(ESTALE) }
        return p
    }

    static func join(_ dir: String, _ name: String) -> String {
        dir.isEmpty ? name : dir + "/" + name
    }

    /// A name component: at most NAME_MAX (255) bytes of UTF-8, as statfs tells.
    static let nameMax = 255
    /// A path sent to the server: at most PATH_MAX - 1 (4,095) bytes of UTF-8 from the share
    /// root, as the kernel's cifs client has it. A longer one, reached only through relative
    /// opens (openat), is more than a POSIX server can be relied on to address: Samba creates a
    /// directory past its limit, answers STATUS_OBJECT_PATH_NOT_FOUND, and then can neither open
    /// nor remove it (its parent stays "not empty"). Well inside SMB's own limits (32,767 UTF-16
    /// units, MS-FSCC 2.1.5; CREATE's 16-bit NameLength, MS-SMB2 2.2.13).
    static let pathMax = 4095

    /// ENAMETOOLONG for a share path past `pathMax`, before any request is sent.
    static func checkLength(_ path: String) throws {
        guard path.utf8.count <= pathMax else { throw FSError(ENAMETOOLONG) }
    }

    /// Names the server cannot hold never reach it.
    static func validate(name: String) throws {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\0") else { throw FSError(EINVAL) }
        guard name.utf8.count <= nameMax else { throw FSError(ENAMETOOLONG) }
    }

    /// The share path of `name` in directory `parent`, checked against SMB's limits before
    /// any request is made.
    func child(_ parent: UInt64, _ name: String) throws -> String {
        try Self.validate(name: name)
        let p = Self.join(try path(of: parent), name)
        try Self.checkLength(p)
        return p
    }

    /// Whether a name the server listed can be shown here: a name Linux can hold, which the
    /// kernel could ask for again.
    static func showable(_ e: DirectoryEntry) -> Bool {
        e.undecodableName == nil && !e.name.isEmpty && e.name.utf8.count <= nameMax && !e.name.contains("/") && !e.name.contains("\0")
    }

    /// `nlink`: the link count the server gave (FileStandardInformation), nil from a directory
    /// listing, which has none.
    /// `identity`: modes and owners from the file's security descriptor (`cifsacl`).
    func attributes(path: String, basics: FileBasics, fileId: UInt64, nlink: UInt32? = nil,
                    identity: UnixIdentity? = nil) -> Attributes {
        // Below a DFS link another server answers, whose file ids may be this one's too: such
        // files get numbers of this mount's own.
        let fileId = share.isBelowDFSLink(path) ? 0 : fileId
        let ino = path == options.rootPath ? InodeTable.rootIno
            : inodes.withLock { $0.number(for: path, fileId: fileId, nlink: nlink) }
        return shown(ino: ino, basics: basics, nlink: nlink, identity: identity)
    }

    /// What stat shows of `ino` from the server's `basics`: without a link count from the server,
    /// the one it gave last (so a listing does not take a hard link's count back to 1); and the
    /// times of this mount's own writes while the server's are older (WrittenFiles).
    /// With modes per file (`cifsacl`, POSIX), an answer without them (times set, a handle's
    /// attributes) keeps the modes, owners and type last shown.
    func shown(ino: UInt64, basics: FileBasics, nlink: UInt32?, identity: UnixIdentity? = nil) -> Attributes {
        let fallBack = identity == nil && modesPerFile
        let (links, known) = inodes.withLock { ($0.links(of: ino, known: nlink), fallBack ? $0.attributes(of: ino) : nil) }
        var identity = identity
        if let known, known.kind != .symlink {
            identity = UnixIdentity(permissions: known.permissions, uid: known.uid, gid: known.gid,
                                    kind: posixModes && known.kind != .file ? known.kind : nil)
        }
        var a = options.ownership.attributes(ino: ino, basics: basics, nlink: links, identity: identity)
        written.withLock { $0.overlay(&a) }
        return a
    }

    /// The kernel now holds a reference to this entry (counted until `forget`).
    public func remember(_ entry: Entry, parent: UInt64) {
        guard let dir = inodes.withLock({ $0.path(of: parent) }) else { return }
        let p = Self.join(dir, entry.name)
        let known = inodes.withLock {
            $0.remember(entry.attributes.ino, path: p)
            $0.setAttributes(entry.attributes)
            return $0.unasked
        }
        if known > options.maxInodes + Self.evictionBatch { evictSoon() }
    }

    /// Names asked to be dropped at a time, once the table is this far over its limit.
    static let evictionBatch = 512
    private let evictionQueued = Atomic<Bool>(false)
    /// Not on a thread serving the kernel: notify_inval_entry waits for the directory's lock,
    /// which a lookup or readdir in that directory holds until its reply.
    private static let evictionQueue = DispatchQueue(label: "smb3fs.evictions")

    private func evictSoon() {
        guard !evictionQueued.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Self.evictionQueue.async { [weak self] in
            guard let self else { return }
            let open = self.handles.withLock { Set($0.files.values.map(\.ino)) }
            let names = self.inodes.withLock { $0.evictions(limit: self.options.maxInodes, keep: open) }
            for e in names { self.invalidate(e.parent, .entry(e.name)) }
            if !names.isEmpty {
                self.logger.debug("asked the kernel to drop names", metadata: ["count": "\(names.count)"])
            }
            self.evictionQueued.store(false, ordering: .releasing)
            // Lookups made while this ran found it queued and started none.
            if !names.isEmpty, self.inodes.withLock({ $0.unasked }) > self.options.maxInodes + Self.evictionBatch {
                self.evictSoon()
            }
        }
    }

    /// The server's latest attributes of an inode, answered from while it is unreachable.
    func rememberAttributes(_ a: Attributes) {
        inodes.withLock { $0.setAttributes(a) }
    }

    func renamed(from: String, to: String) {
        inodes.withLock { $0.rename(from: from, to: to) }
    }

    public func forget(_ ino: UInt64, count: UInt64) {
        inodes.withLock { $0.forget(ino, count: count) }
    }

    // MARK: - metadata

    /// Opens, queries and closes: the attributes of one path (MS-SMB2 CREATE + QUERY_INFO + CLOSE).
    /// `exactly`: the name looked up, which must be the server's own spelling. A server that
    /// ignores case finds `case.txt` for `Case.txt`; shown as a second name of the same file, it
    /// would make rename(2) to that spelling a no-op in the kernel (same inode) that the server
    /// never sees, so under another spelling the name does not exist.
    func stat(path: String, exactly name: String? = nil) async throws -> Attributes {
        // FILE_OPEN_REPARSE_POINT: a server-side symlink is opened itself, not followed.
        let (info, identity) = try await queryWithIdentity(path: path)
        if let name, let spelled = share.serverSpelling(of: info), spelled != name,
           spelled.lowercased() == name.lowercased() {
            throw FSError(ENOENT)
        }
        return await attributes(of: info, path: path, identity: identity)
    }

    /// The attributes FileAllInformation of `path` gives (a symlink file shown as a symlink).
    func attributes(of info: FileAllInformation, path: String, identity: UnixIdentity? = nil) async -> Attributes {
        let a = attributes(path: path, basics: info.basics, fileId: info.indexNumber, nlink: info.numberOfLinks,
                           identity: identity)
        return await resolvingSymlink(a, path: path, fileAttributes: info.basics.fileAttributes)
    }

    public func lookup(parent: UInt64, name: String) async throws -> Entry {
        try Self.validate(name: name)
        let dir = try path(of: parent)
        // The server would answer "path not found" for a name inside a file.
        if let known = inodes.withLock({ $0.attributes(of: parent) }) ?? freshAttributes(parent), known.kind != .directory {
            throw FSError(ENOTDIR)
        }
        let p = Self.join(dir, name)
        try Self.checkLength(p)
        if let listed = try await listedEntry(dir: dir, ino: parent, name: name) { return listed }
        let a = try await answer(known: inodes.withLock({ $0.attributes(atPath: p) })) {
            CacheCounters.bump(self.counters.lookupFetches)
            var stamp = self.freshStamp
            var a = try await self.stat(path: p, exactly: name)
            if let wb = self.writeBehind, await wb.busy(a.ino) {
                await wb.settle(ino: a.ino)
                stamp = self.freshStamp
                a = try await self.stat(path: p, exactly: name)
            }
            self.inodes.withLock { $0.setAttributes(a) }
            self.markFresh(a, stamp: stamp)
            return a
        }
        return Entry(name: name, attributes: a)
    }

    public func getattr(_ ino: UInt64) async throws -> Attributes {
        let known = inodes.withLock { $0.attributes(of: ino) }
        // The kernel asks again for a directory it has just listed (reading a directory
        // invalidates its atime), and for a file before each chown: what the server gave within
        // the timeout, with nothing changed through the mount since, answers that as the
        // kernel's own cache would.
        if let f = freshAttributes(ino) { return f }
        // While the server is unreachable, what is known is answered at once (desktops and `ls`
        // must not hang); hard mounts wait only for what is not known.
        return try await answer(known: known) {
            try await self.fetchAttributes(ino)
        }
    }

    /// Taken before asking the server for attributes, passed to `markFresh` with the answer.
    var freshStamp: UInt64 { fresh.withLock { $0.stamp } }

    /// Attributes the server gave (asked at `stamp`, answered at `at`).
    func markFresh(_ a: Attributes, at: ContinuousClock.Instant = .now, stamp: UInt64) {
        guard options.attributeTimeout > 0 else { return }
        let ttl = listingTTL
        fresh.withLock { $0.keep(a, at: at, stamp: stamp, now: .now, ttl: ttl) }
    }

    func freshAttributes(_ ino: UInt64) -> Attributes? {
        guard options.attributeTimeout > 0 else { return nil }
        let ttl = listingTTL
        guard var a = fresh.withLock({ $0.attributes(of: ino, now: .now, ttl: ttl) }) else { return nil }
        CacheCounters.bump(counters.attributeHits)
        // Kept from before a change made here since (a rename, a no-op chmod): its ctime.
        written.withLock { $0.overlay(&a) }
        return a
    }

    private func fetchAttributes(_ ino: UInt64) async throws -> Attributes {
        CacheCounters.bump(counters.attributeFetches)
        await writeBehind?.settle(ino: ino)
        // A file open here is asked through its handle: one request, no path for the server to
        // resolve, and the answer is about this inode even if another client renamed or
        // replaced the name meanwhile. A handle the server no longer knows falls back to the path.
        if let fid = openFileId(ino: ino), let a = try? await attributes(through: fid, ino: ino) { return a }
        do {
            let stamp = freshStamp
            var a = try await stat(path: try path(of: ino))
            if ino == InodeTable.rootIno { a.ino = ino }
            inodes.withLock { $0.setAttributes(a) }
            markFresh(a, stamp: stamp)
            return a
        } catch {
            // Opened while the path was being asked for: its open handle still answers.
            guard ErrnoMapping.errno(for: error) == ENOENT, let fid = openFileId(ino: ino) else { throw error }
            return try await attributes(through: fid, ino: ino)
        }
    }

    private func attributes(through fid: FileId, ino: UInt64) async throws -> Attributes {
        let stamp = freshStamp
        let info = try await share.queryAllInformation(fid)
        var a = shown(ino: ino, basics: info.basics, nlink: info.deletePending ? nil : info.numberOfLinks)
        // Unlinked while open: it has no name any more.
        if info.deletePending { a.nlink = 0 } else {
            inodes.withLock { $0.setAttributes(a) }
            markFresh(a, stamp: stamp)
        }
        return a
    }

    // MARK: - directories

    /// Opens a directory without asking the server: the listing is read at the first readdir
    /// (QUERY_DIRECTORY until STATUS_NO_MORE_FILES) and kept, so offsets index a stable snapshot,
    /// and open(2) of a directory never waits for an unreachable server (`df` opens the mount point).
    public func opendir(_ ino: UInt64) throws -> UInt64 {
        let dir = try path(of: ino)
        return handles.withLock { h in
            let id = h.next
            h.next += 1
            h.directories[id] = DirectoryHandle(path: dir, ino: ino, feed: nil)
            return id
        }
    }

    /// A directory's entries: the listing read within the attribute timeout, kept up to date with
    /// what changed through this mount, else QUERY_DIRECTORY (so `ls -l` twice in a row asks
    /// once, as the kernel's own caches would for lookups).
    /// `watch`: a listing asked for by readdir, so the directory is in use and worth watching,
    /// and the subdirectories listed after it in its parent are read ahead (ReadAhead.swift).
    /// `feed`: given the entries as they come from the server, when this call reads them.
    func loadDirectory(_ dir: String, ino: UInt64, watch: Bool = true, feed: ListingFeed? = nil) async throws -> [Entry] {
        let ttl = listingTTL
        // Read by readdir: a walker (find, rm -r, git) goes on to the next subdirectories.
        if watch { readAhead(after: dir) }
        if ttl > .zero, let c = listings.withLock({ $0.complete(dir, now: .now, ttl: ttl) }) {
            CacheCounters.bump(counters.listingHits)
            if watch { self.watch(dir, ino: ino, fromServer: false) }
            return c.entries
        }
        if ttl > .zero && watch { self.watch(dir, ino: ino, fromServer: true) }
        // Lookups from several threads (git's preloaded index) may want the same directory at
        // once: one QUERY_DIRECTORY serves them all, unless the directory changed since it began.
        let (stamp, task, mine) = reading.withLock { r -> (UInt64, Task<[Entry], Error>, Bool) in
            let (stamp, current) = listings.withLock { c in
                (c.stamp, r[dir].map { c.unchanged(dir, since: $0.stamp) } ?? false)
            }
            if current, let t = r[dir] { return (t.stamp, t.task, false) }
            let t = Task(executorPreference: share.executor) { () async throws -> [Entry] in
                let started = ContinuousClock.now
                CacheCounters.bump(self.counters.listingReads)
                let entries = try await self.readDirectory(dir, feed: feed)
                if ttl > .zero {
                    _ = self.listings.withLock { $0.store(dir, entries: entries, at: started, stamp: stamp) }
                }
                return entries
            }
            r[dir] = (stamp, t)
            return (stamp, t, true)
        }
        defer {
            if mine { reading.withLock { r in if r[dir]?.stamp == stamp { r[dir] = nil } } }
        }
        return try await task.value
    }

    /// A lookup answered from the directory's fresh listing, without the server; nil when the
    /// listing cannot tell. A directory looked into often enough is read whole first.
    private func listedEntry(dir: String, ino: UInt64, name: String) async throws -> Entry? {
        let ttl = listingTTL
        guard ttl > .zero else { return nil }
        if let e = try listed(dir: dir, name: name, ttl: ttl) { return e }
        guard listings.withLock({ $0.missed(dir, now: .now, ttl: ttl) }) else { return nil }
        guard (try? await loadDirectory(dir, ino: ino, watch: false)) != nil else { return nil }
        return try listed(dir: dir, name: name, ttl: ttl)
    }

    /// The name as a listing read within `ttl` has it; ENOENT when it lists no such name, nil
    /// when no such listing is at hand.
    private func listed(dir: String, name: String, ttl: Duration) throws -> Entry? {
        switch listings.withLock({ $0.lookup(dir, name: name, now: .now, ttl: ttl) }) {
        case .found(let e):
            CacheCounters.bump(counters.lookupHits)
            return e
        case .absent:
            CacheCounters.bump(counters.lookupHits)
            throw FSError(ENOENT)
        case .unknown: return nil
        }
    }

    /// What `lookup` answers from memory alone (a listing read within the timeout), or nil when
    /// it would ask the server: the FUSE adapter replies at once, on the thread the request
    /// came in on.
    public func cachedLookup(parent: UInt64, name: String) throws -> Entry? {
        let ttl = listingTTL
        guard ttl > .zero else { return nil }
        try Self.validate(name: name)
        return try listed(dir: try path(of: parent), name: name, ttl: ttl)
    }

    /// What `getattr` answers from memory alone (attributes the server gave within the timeout),
    /// or nil.
    public func cachedAttributes(_ ino: UInt64) -> Attributes? { freshAttributes(ino) }

    /// `feed`: given each response's entries as it comes, where the listing is the server's
    /// alone (modes from descriptors are asked for once the whole list is known).
    private func readDirectory(_ dir: String, feed: ListingFeed? = nil) async throws -> [Entry] {
        let started = ContinuousClock.now
        let stamp = freshStamp
        if let feed, !posixModes, !modesFromSecurity {
            _ = try await share.listDirectory(path: dir) { batch in
                feed.append(await self.entries(of: batch, in: dir, started: started, stamp: stamp))
            }
            return feed.all
        }
        let (list, identities, links) = try await listing(dir)
        return await entries(of: list, in: dir, identities: identities, links: links, started: started, stamp: stamp)
    }

    /// What a listing's entries show, each marked fresh as of `started`.
    private func entries(of list: [DirectoryEntry], in dir: String, identities: [String: UnixIdentity] = [:],
                         links: [String: UInt32] = [:], started: ContinuousClock.Instant, stamp: UInt64) async -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(list.count)
        var unshown: [DirectoryEntry] = []
        for e in list where !e.name.hasPrefix(Self.unlinkedPrefix) && !e.name.hasPrefix(Self.temporaryPrefix) {
            guard Self.showable(e) else { unshown.append(e); continue }
            let p = Self.join(dir, e.name)
            var a = attributes(path: p, basics: e.basics, fileId: e.fileId, nlink: links[e.name], identity: identities[e.name])
            // A file with writes still in flight is as long as they will make it.
            if let end = await writeBehind?.extent(a.ino), end > a.size { a.size = end }
            a = await resolvingSymlink(a, path: p, fileAttributes: e.basics.fileAttributes)
            markFresh(a, at: started, stamp: stamp)
            entries.append(Entry(name: e.name, attributes: a))
        }
        if !unshown.isEmpty { noteUnshown(unshown, in: dir) }
        return entries
    }

    /// Entries a listing left out (names that are not UTF-16, or longer than NAME_MAX as
    /// UTF-8), logged once per directory: the rest of the directory is listed.
    private func noteUnshown(_ entries: [DirectoryEntry], in dir: String) {
        let first = unshownLogged.withLock { logged -> Bool in
            if logged.count >= 1024 { logged.removeAll() }
            return logged.insert(dir).inserted
        }
        guard first else { return }
        let names = entries.prefix(3).map { e in
            e.undecodableName.map { "0x" + $0.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() } ?? "\(e.name.utf8.count)-byte name \(e.name.prefix(40))…"
        }
        logger.warning("listing: entries that cannot be shown on Linux left out", metadata: [
            "directory": "\(dir.isEmpty ? "/" : dir)", "count": "\(entries.count)", "first": "\(names.joined(separator: ", "))",
        ])
    }

    /// Entries of an open directory from index `offset` on.
    /// At least one entry unless at the end: the first readdir starts reading the listing,
    /// and it and the next ones answer as entries come (ListingFeed).
    public func readdir(handle: UInt64, offset: Int) async throws -> ArraySlice<Entry> {
        let (feed, first) = try handles.withLock { h -> (ListingFeed, DirectoryHandle?) in
            guard var d = h.directories[handle] else { throw FSError(EBADF) }
            if let f = d.feed { return (f, nil) }
            let f = ListingFeed()
            d.feed = f
            h.directories[handle] = d
            return (f, d)
        }
        if let d = first {
            Task(executorPreference: share.executor) {
                do {
                    feed.finish(try await self.loadDirectory(d.path, ino: d.ino, feed: feed))
                } catch {
                    feed.fail(error)
                }
            }
        }
        guard offset >= 0 else { return [] }
        return try await feed.entries(from: offset)
    }

    public func releasedir(handle: UInt64) {
        _ = handles.withLock { $0.directories.removeValue(forKey: handle) }
    }

    // MARK: - files

    /// open(2): the handle, and whether the kernel may keep the pages it cached of the file.
    public func open(_ ino: UInt64, flags: OpenFlags) async throws -> (handle: UInt64, keepCache: Bool) {
        if (flags.write || flags.truncate) && options.readOnly { throw FSError(EROFS) }
        if !flags.write && !flags.truncate, let fid = reuseDeferred(ino: ino) {
            // Kept under a read and handle lease since its close: the file has not changed,
            // so the kernel's pages stay.
            CacheCounters.bump(counters.openHits)
            return (addFileHandle(fid, ino: ino, writable: false), options.attributeTimeout > 0)
        }
        CacheCounters.bump(counters.opens)
        let p = try path(of: ino)
        let ask = openingReadLength(ino: ino, flags: flags)
        let c: CreateResponse
        let head: ArraySlice<UInt8>?
        do {
            (c, head) = try await share.createAndRead(path: p, access: flags.access, disposition: flags.openDisposition,
                                                      options: .nonDirectoryFile, durable: true, length: ask)
        } catch {
            keepOpeningRead(handle: 0, ino: ino, data: nil, asked: ask, at: .now)
            throw error
        }
        // Close-to-open: if the file changed on the server since the kernel cached its
        // attributes (size, mtime, and ctime, which a client resetting mtime still moves), they
        // are dropped now, and so are its pages, so reads see the whole new file. Unchanged, the
        // pages stay (FOPEN_KEEP_CACHE): a file read again is not fetched again, and a lease
        // break drops them if another client writes while it is open.
        let known = inodes.withLock { $0.attributes(of: ino) }
        let unchanged = known.map {
            $0.size == c.basics.endOfFile && $0.mtime == c.basics.lastWriteTime && $0.ctime == c.basics.changeTime
        } ?? false
        if known != nil && !unchanged { invalidate(ino, .attributes) }
        let keep = unchanged && !flags.truncate && options.attributeTimeout > 0
        // Its reads fill the kernel's pages from now on (once per open, not per read: the
        // inode table's lock is shared by every request).
        if !options.directIO { inodes.withLock { $0.pagesGiven(ino, true) } }
        let handle = addFileHandle(c.fileId, ino: ino, writable: flags.write)
        keepOpeningRead(handle: handle, ino: ino, data: head, asked: ask, at: .now)
        return (handle, keep)
    }

    func addFileHandle(_ fid: FileId, ino: UInt64, writable: Bool) -> UInt64 {
        handles.withLock { h in
            let id = h.next
            h.next += 1
            h.files[id] = OpenFile(fileId: fid, ino: ino, writable: writable)
            return id
        }
    }

    /// A handle of this inode opened for writing: the one given if it is, else any.
    func writableFileId(ino: UInt64, preferring handle: UInt64?) -> FileId? {
        handles.withLock { h in
            if let handle, let f = h.files[handle], f.writable, f.ino == ino { return f.fileId }
            return h.files.values.first { $0.ino == ino && $0.writable }?.fileId
        }
    }

    func fileId(_ handle: UInt64) throws -> FileId {
        try openFile(handle).fileId
    }

    func openFile(_ handle: UInt64) throws -> OpenFile {
        guard let f = handles.withLock({ $0.files[handle] }) else { throw FSError(EBADF) }
        return f
    }

    /// The handle's FileId once the inode's writes in `start..<end` are on the server.
    func settledFileId(_ handle: UInt64, start: UInt64 = 0, end: UInt64 = .max) async throws -> FileId {
        let f = try openFile(handle)
        await writeBehind?.settle(ino: f.ino, start: start, end: end)
        return f.fileId
    }

    /// An open handle of this inode, if any (for files unlinked while open).
    func openFileId(ino: UInt64) -> FileId? {
        handles.withLock { h in h.files.values.first { $0.ino == ino }?.fileId }
    }

    public func release(handle: UInt64) async {
        dropReadAhead(handle: handle)
        // A read-only handle has no writes to wait for, and is kept or closed before any
        // suspension: the kernel sends RELEASE before the OPEN of a file read again at once
        // (`cat f; cat f`), and requests start in the order they came, so the OPEN finds it kept.
        if let f = try? openFile(handle), f.writable, let wb = writeBehind {
            await wb.settle(ino: f.ino)
            if let e = await wb.takeError(handle: handle) {
                logger.warning("a write failed after close reported nothing", metadata: ["error": "\(e)"])
            }
        }
        guard let (f, lastWriter) = handles.withLock({ h -> (OpenFile, Bool)? in
            guard let f = h.files.removeValue(forKey: handle) else { return nil }
            return (f, f.writable && !h.files.values.contains { $0.ino == f.ino && $0.writable })
        }) else { return }
        // Closing the handle releases its locks on the server (MS-SMB2 3.3.5.10).
        let hadLocks = forgetLocks(handle: handle)
        if deferClose(f, hadLocks: hadLocks) { return }
        do {
            // The time of the last write here, or times set while open, go to the server with
            // the close (WrittenFiles).
            let t = f.writable ? written.withLock({ $0.closing(f.ino) }) : nil
            try await share.close(f.fileId, setting: t)
            if t != nil && lastWriter { written.withLock { $0.timeSettled(f.ino) } }
        } catch { logger.debug("close failed: \(error)") }
    }

    // MARK: - file system

    /// statfs(2) never waits for an unreachable server: the last answer is repeated (`df` and
    /// desktops call it from their main loops).
    public func statfs() async throws -> FSStats {
        try await answer(known: lastStatfs.withLock({ $0 })) {
            let s = try await self.queryStatfs()
            self.lastStatfs.withLock { $0 = s }
            return s
        }
    }

    private func queryStatfs() async throws -> FSStats {
        let s = try await share.withOpen(path: options.rootPath, access: [.readAttributes, .synchronize],
                                         options: .directoryFile) { c in
            try await self.share.queryFullSize(c.fileId)
        }
        let unit = UInt64(s.sectorsPerAllocationUnit) * UInt64(s.bytesPerSector)
        return FSStats(blockSize: max(unit, 512), blocks: s.totalAllocationUnits,
                       blocksFree: s.actualAvailableAllocationUnits, blocksAvailable: s.callerAvailableAllocationUnits)
    }

    /// Checks that the mounted path is a directory on the server.
    public func checkRoot() async throws {
        let a = try await stat(path: options.rootPath)
        guard a.kind == .directory else { throw FSError(ENOTDIR) }
        // Known from the start, so statfs can answer even if the server goes away early.
        _ = try? await statfs()
    }

    public func shutdown() async {
        // Writes acknowledged to applications land before their handles close: a CLOSE may
        // not overtake them (SIGTERM or unmount while a copy runs).
        await writeBehind?.settleAll()
        await stopAllWatches()
        await closeDeferred(under: "")
        let open = handles.withLock { h -> [OpenFile] in
            let f = Array(h.files.values)
            h.files.removeAll()
            return f
        }
        // Times set or written here go with the closes, as at release.
        for f in open {
            let t = f.writable ? written.withLock({ $0.closing(f.ino) }) : nil
            try? await share.close(f.fileId, setting: t)
        }
        await share.disconnect()
    }
}
