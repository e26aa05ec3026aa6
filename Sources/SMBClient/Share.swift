import Locking
import Logging
import NIOCore
import SMBCrypto
import SMBProtocol

/// A tree connect to one share over an authenticated, signed session (MS-SMB2 3.2.1.4 TreeConnect),
/// with the operations the filesystem layer uses. Nothing above this type sees a connection.
public final class Share: Sendable {
    let link: ShareConnection
    public let dialect: Dialect
    /// The algorithm every request is signed with and every response verified with; nil with `nosign`.
    public let signingAlgorithm: SigningAlgorithm?
    /// Largest payload of one READ and of QUERY_DIRECTORY/QUERY_INFO outputs.
    public let maxReadSize: Int
    public let maxWriteSize: Int
    let maxTransactSize: Int
    /// The server offers the SMB3 POSIX extensions (3.1.1, `smb3 unix extensions` on Samba).
    public let posixExtensionsOffered: Bool
    let logger: Logger
    let names: NameMapping
    private let keepalive = Locked<Task<Void, Never>?>(nil)
    /// The links followed below a DFS namespace share (nil: not one, or `nodfs`).
    let dfs: DFSLinks?

    init(link: ShareConnection, first: ShareConnection.Binding, dfs: DFSLinks? = nil) {
        self.link = link
        self.dfs = dfs
        let n = first.negotiated
        dialect = n.dialect
        signingAlgorithm = first.connection.sessionSigner == nil ? nil : n.signingAlgorithm
        maxReadSize = n.maxReadSize
        maxWriteSize = n.maxWriteSize
        maxTransactSize = n.maxTransactSize
        posixExtensionsOffered = n.response.posixExtensions
        logger = first.connection.logger
        names = link.names
    }

    /// Every open carries the POSIX create context (`posix` and a server offering it): names
    /// are case-sensitive and unmapped, and each CREATE answers with the file's mode and owners.
    public var posixOpens: Bool { names.posixPaths }

    /// Connects, negotiates, authenticates and connects the tree. Any failure closes the
    /// connection; later failures reconnect by themselves.
    public static func connect(_ config: ClientConfiguration) async throws -> Share {
        let clientGuid = Random.bytes(16)
        let first = try await ShareConnection.establish(config, clientGuid: clientGuid, generation: 1)
        let share = Share(link: ShareConnection(config: config, clientGuid: clientGuid, first: first), first: first,
                          dfs: first.inDFS && config.dfs ? DFSLinks(config: config) : nil)
        share.startKeepalive(interval: config.echoInterval)
        return share
    }

    /// Called when the server breaks the lease of opens (MS-SMB2 3.2.5.19.2), with the state
    /// left; the break is acknowledged once the handler returns.
    public func onLeaseBreak(_ handler: @escaping @Sendable ([FileId], LeaseState) async -> Void) {
        link.onLeaseBreak(handler)
        dfs?.onLeaseBreak(handler)
    }

    /// The connection an open belongs to: the share's, or a DFS link's.
    func owner(_ fileId: FileId) -> ShareConnection { dfs?.owner(of: fileId) ?? link }

    /// Runs `body` with the connection and path that serve `path`: the share's, or, below a
    /// DFS link, the link target's (MS-DFSC 3.1.4.1). A path the namespace server answers
    /// STATUS_PATH_NOT_COVERED for is resolved by referral and `body` runs again there.
    func routed<T: Sendable>(_ path: String, _ body: @Sendable (ShareConnection, String) async throws -> T) async throws -> T {
        guard let dfs else { return try await body(link, path) }
        var (l, p) = dfs.lookup(path) ?? (link, path)
        do {
            return try await body(l, p)
        } catch SMBError.status(.pathNotCovered, _) where l === link {
            (l, p) = try await dfs.resolve(path, via: self)
            return try await body(l, p)
        }
    }

    /// `newPath`'s name on `l`, for a rename or link of a file `l` serves: a name on another
    /// connection (across a DFS link) is another volume, as rename(2)'s EXDEV says.
    func wireName(_ newPath: String, on l: ShareConnection) throws -> String {
        let (there, p) = dfs?.lookup(newPath) ?? (link, newPath)
        guard there === l else { throw SMBError.status(.notSameDevice, .setInfo) }
        return wireName(p)
    }

    /// Whether the open holds a lease with read caching (MS-SMB2 2.2.13.2.8): another
    /// client's write breaks it first, and the lease state changes as the break arrives.
    public func cachesReads(_ fileId: FileId) -> Bool {
        owner(fileId).record(fileId)?.durable?.leaseState.contains(.readCaching) ?? false
    }

    /// Whether the open holds a lease with handle caching: another client's conflicting open,
    /// rename or delete breaks it first, so the open may outlive its last user a while
    /// (MS-SMB2 2.2.13.2.8, 3.3.4.7).
    public func cachesHandle(_ fileId: FileId) -> Bool {
        owner(fileId).record(fileId)?.durable?.leaseState.contains(.handleCaching) ?? false
    }

    /// Whether requests on this share are signed and responses verified.
    public var isSigned: Bool { signingAlgorithm != nil }

    /// The cipher every request is encrypted with and every response must come in, nil when
    /// the current connection does not encrypt (MS-SMB2 3.1.4.3).
    public var encryption: Cipher? {
        guard let c = link.current?.connection, c.isEncrypting else { return nil }
        return c.sessionCipher?.cipher
    }

    /// The thread this share's connections read and write on, as a task executor: a task that
    /// prefers it sends and is resumed without changing threads (EventLoopExecutor).
    public var executor: any TaskExecutor { EventLoopExecutor.shared }

    /// False while the connection is down and being re-established.
    public var isConnected: Bool { link.isConnected }

    /// Down, or silent for `silence` while owing an answer: a request now would wait for an
    /// outage to be detected. Callers with a known answer (statfs, cached attributes) use it.
    public func isUnresponsive(for silence: Duration) -> Bool {
        guard let b = link.current, !b.connection.isFailed else { return true }
        return b.connection.silence >= silence
    }

    /// ECHO whenever nothing has arrived for `interval`; no answer within another `interval`
    /// ends the connection (and starts a reconnect), so a connection silent for about twice the
    /// interval is declared dead, idle or busy.
    private func startKeepalive(interval: Duration) {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval / 2)
                guard let self else { continue }
                // The share's connection, and each DFS link target's.
                for l in [self.link] + (self.dfs?.connections ?? []) {
                    guard let b = l.current, b.connection.idle >= interval else { continue }
                    do {
                        let r = try await b.connection.send(.echo, body: SimpleRequest.encodeBody(),
                                                            timeout: timeAmount(interval))
                        if r.header.status != .success { throw SMBError.status(r.header.status, .echo) }
                    } catch let e as SMBError {
                        l.failed(b, e)
                    } catch {
                        l.failed(b, .connectionClosed("\(error)"))
                    }
                }
            }
        }
        keepalive.withLock { $0 = task }
    }

    // MARK: - requests

    /// Sends one request built for the current connection, with the server's FileId of `fileId`
    /// (reclaiming the open after a reconnect), and retries it on a new connection when the old
    /// one failed under it (hard mounts).
    /// `spread`: bulk I/O, sent on the session's channels in turn; a channel that fails under
    /// it is dropped and the request goes again on the first connection.
    func call(_ command: Command, fileId: FileId? = nil, charge: Int = 1, allowing: Set<NTStatus> = [],
                      spread: Bool = false, sent: (@Sendable () -> Void)? = nil, payload: ArraySlice<UInt8> = [],
                      _ build: @Sendable @escaping (FileId) -> [UInt8]) async throws -> Response {
        let l = fileId.map(owner) ?? link
        return try await l.perform { b in
            var fid = FileId(persistent: 0, volatile: 0)
            if let fileId { fid = try await l.serverId(fileId, on: b) }
            let conn = spread ? b.ioConnection() : b.connection
            let r: Response
            do {
                r = try await conn.send(command, body: build(fid), payload: payload, treeId: b.treeId, charge: charge, sent: sent)
            } catch let e as SMBError where conn !== b.connection && ShareConnection.endsChannel(e, conn) {
                b.channels.remove(conn)
                conn.close()
                r = try await b.connection.send(command, body: build(fid), payload: payload, treeId: b.treeId, charge: charge)
            }
            let s = r.header.status
            if s != .success && !allowing.contains(s) {
                // An error response must still have the ERROR shape (MS-SMB2 2.2.2).
                throw SMBError.status(s, command)
            }
            return r
        }
    }

    /// CREATE (MS-SMB2 3.2.4.3). `path` uses "/" separators relative to the share root. The
    /// FileId returned is this client's name for the open, valid across reconnects. A `durable`
    /// open (for files held open by applications) asks for a durable handle v2 with a lease, so
    /// a reconnect gets the very same open back with its locks (3.2.4.3.3, 3.2.4.4).
    public func create(path: String, access: AccessMask, disposition: CreateDisposition = .open,
                       options: CreateOptions = [], attributes: FileAttributes = [],
                       shareAccess: ShareAccess = .all, durable: Bool = false,
                       contexts: [CreateContext] = [], posixPath: Bool = false) async throws -> CreateResponse {
        try await open(path: path, access: access, disposition: disposition, options: options, attributes: attributes,
                       shareAccess: shareAccess, durable: durable, contexts: contexts, posixPath: posixPath, firstRead: 0).0
    }

    /// As `create`, with a READ of the file's first `length` bytes (MaxReadSize at most) in the
    /// same compound: the bytes, or nil when the READ did not succeed.
    public func createAndRead(path: String, access: AccessMask, disposition: CreateDisposition = .open,
                              options: CreateOptions = [], durable: Bool = false,
                              length: Int) async throws -> (CreateResponse, ArraySlice<UInt8>?) {
        try await open(path: path, access: access, disposition: disposition, options: options, attributes: [],
                       shareAccess: .all, durable: durable, contexts: [], posixPath: false,
                       firstRead: max(0, min(length, maxReadSize)))
    }

    private func open(path: String, access: AccessMask, disposition: CreateDisposition, options: CreateOptions,
                      attributes: FileAttributes, shareAccess: ShareAccess, durable: Bool, contexts: [CreateContext],
                      posixPath: Bool, firstRead: Int) async throws -> (CreateResponse, ArraySlice<UInt8>?) {
        let names = self.names
        return try await routed(path) { l, path in try await l.perform { b in
            func send(_ ask: ShareConnection.Durable?) async throws -> (CreateResponse, [UInt8]?, ShareConnection.Durable?,
                                                                        ArraySlice<UInt8>?) {
                try await ShareConnection.sendCreate(
                    on: b, path: path, access: access, disposition: disposition, options: options, attributes: attributes,
                    shareAccess: shareAccess, names: posixPath ? nil : names, durable: ask, contexts: contexts,
                    firstRead: firstRead)
            }
            let writing = access.contains(.writeData)
            // A file already open here is opened again under its lease key: one lease for all
            // of this client's opens of it, which then never break each other.
            let key = durable ? l.leaseKey(for: path) : nil
            var reply: (CreateResponse, [UInt8]?, ShareConnection.Durable?, ArraySlice<UInt8>?)
            var replacing = false
            do {
                reply = try await send(durable ? .request(writing: writing, leaseKey: key) : nil)
            } catch SMBError.status(.invalidParameter, .create) where key != nil {
                // The key is another file's now (MS-SMB2 3.3.5.9.8: the name was renamed or
                // replaced while open here): this file gets a key of its own.
                reply = try await send(.request(writing: writing))
                replacing = true
            }
            var (resp, disk, granted, head) = reply
            // Reclaiming reopens the same file, never creates one.
            var record = ShareConnection.OpenRecord(path: path, access: access, options: options, shareAccess: shareAccess,
                                                    diskFileId: disk, creationTime: resp.basics.creationTime,
                                                    serverId: resp.fileId, generation: b.generation)
            record.durable = granted
            resp.fileId = l.register(record, replacing: replacing)
            return (resp, head)
        } }
    }

    /// Opens `path`, runs `body` with the handle and closes it whatever happens. (The three
    /// requests are what a compound CREATE + request + CLOSE will carry, MS-SMB2 3.2.4.1.4.)
    public func withOpen<T: Sendable>(path: String, access: AccessMask, disposition: CreateDisposition = .open,
                                      options: CreateOptions = [], attributes: FileAttributes = [],
                                      contexts: [CreateContext] = [],
                                      _ body: @Sendable (CreateResponse) async throws -> T) async throws -> T {
        let c = try await create(path: path, access: access, disposition: disposition, options: options,
                                 attributes: attributes, contexts: contexts)
        let result: T
        do {
            result = try await body(c)
        } catch {
            try? await close(c.fileId)
            throw error
        }
        try? await close(c.fileId)
        return result
    }

    /// CLOSE. An open the server already dropped with its connection needs none.
    /// `setting`: a SET_INFO (times) goes first, in the same compound (no round trip more than
    /// CLOSE alone): a written file keeps the time of its last write here, or the times set on
    /// it while open, and the server no longer moves them at or after the close (MS-FSA
    /// 2.1.5.14.2). A refused SET_INFO is only logged: the data is on the server either way.
    public func close(_ fileId: FileId, setting times: FileSetInformation? = nil) async throws {
        guard let (b, sid) = owner(fileId).unregister(fileId) else { return }
        let close = (Command.close, CloseRequest(fileId: sid).encodeBody())
        let r: Response
        if let times {
            let rs = try await b.connection.sendCompound([(.setInfo, Self.setInfoRequest(sid, times)), close],
                                                         related: false, treeId: b.treeId)
            guard rs.count == 2 else { throw SMBError.malformed("compound answered with \(rs.count) responses") }
            if rs[0].header.status != .success {
                logger.debug("times not set at close", metadata: ["status": "\(rs[0].header.status)"])
            }
            r = rs[1]
        } else {
            r = try await b.connection.send(close.0, body: close.1, treeId: b.treeId)
        }
        if r.header.status != .success && r.header.status != .fileClosed { throw SMBError.status(r.header.status, .close) }
        _ = try decode("CLOSE") { try CloseResponse.decode(message: r.message) }
    }

    /// READ of up to `length` bytes at `offset`; fewer at end of file, none past it.
    /// Lengths above MaxReadSize are split and sent concurrently.
    public func read(_ fileId: FileId, offset: UInt64, length: Int) async throws -> [UInt8] {
        Array(try await readSlice(fileId, offset: offset, length: length))
    }

    /// As `read`, the bytes left where the response holds them (no copy of the payload).
    public func readSlice(_ fileId: FileId, offset: UInt64, length: Int) async throws -> ArraySlice<UInt8> {
        guard length > 0 else { return [] }
        if length <= maxReadSize { return try await readOne(fileId, offset: offset, length: length) }
        var chunks: [(Int, Int)] = []
        var o = 0
        while o < length { chunks.append((o, min(maxReadSize, length - o))); o += maxReadSize }
        let parts = try await withThrowingTaskGroup(of: (Int, ArraySlice<UInt8>).self) { group in
            for (i, c) in chunks.enumerated() {
                group.addTask { (i, try await self.readOne(fileId, offset: offset + UInt64(c.0), length: c.1)) }
            }
            var out = [ArraySlice<UInt8>](repeating: [], count: chunks.count)
            for try await (i, d) in group { out[i] = d }
            return out
        }
        var result: [UInt8] = []
        result.reserveCapacity(length)
        for (i, p) in parts.enumerated() {
            result += p
            if p.count < chunks[i].1 { break }           // short read: end of file
        }
        return result[...]
    }

    private func readOne(_ fileId: FileId, offset: UInt64, length: Int) async throws -> ArraySlice<UInt8> {
        let charge = (length - 1) / 65536 + 1
        let r = try await call(.read, fileId: fileId, charge: charge, allowing: [.endOfFile], spread: true) { fid in
            ReadRequest(fileId: fid, offset: offset, length: UInt32(length)).encodeBody()
        }
        if r.header.status == .endOfFile { return [] }
        let rr = try decode("READ") { try ReadResponse.decode(message: r.message, requested: UInt32(length)) }
        return r.message[rr.dataRange]
    }

    /// WRITE of all of `data` at `offset` (MS-SMB2 3.2.4.7); pieces above MaxWriteSize are sent
    /// concurrently. Returns only once the server has acknowledged every byte.
    public func write(_ fileId: FileId, offset: UInt64, data: [UInt8]) async throws {
        if data.count <= maxWriteSize {
            try await writeOne(fileId, offset: offset, data: data[...])
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var o = 0
            while o < data.count {
                let piece = data[o..<min(o + maxWriteSize, data.count)]
                let at = offset + UInt64(o)
                group.addTask { try await self.writeOne(fileId, offset: at, data: piece) }
                o += maxWriteSize
            }
            try await group.waitForAll()
        }
    }

    private func writeOne(_ fileId: FileId, offset: UInt64, data: ArraySlice<UInt8>) async throws {
        let charge = max(1, (data.count - 1) / 65536 + 1)
        let r = try await call(.write, fileId: fileId, charge: charge, spread: true, payload: data) { fid in
            WriteRequest(fileId: fid, offset: offset, data: data).encodeHeaderPart()
        }
        let w = try decode("WRITE") { try WriteResponse.decode(message: r.message, requested: data.count) }
        // A short write is the server running out of space (MS-SMB2 3.3.5.13 gives no other reason).
        guard Int(w.count) == data.count else { throw SMBError.status(.diskFull, .write) }
    }

    /// FLUSH (MS-SMB2 3.2.4.17): the server writes the file's data to stable storage.
    public func flush(_ fileId: FileId) async throws {
        let r = try await call(.flush, fileId: fileId) { FlushRequest(fileId: $0).encodeBody() }
        try decode("FLUSH") { try SimpleRequest.decodeResponse(message: r.message, command: .flush) }
    }

    /// SET_INFO of one file information class (MS-SMB2 3.2.4.15).
    public func setInfo(_ fileId: FileId, _ info: FileSetInformation) async throws {
        try await setInfo(fileId, fileInfoClass: info.fileInfoClass, buffer: info.encode())
    }

    public func setInfo(_ fileId: FileId, fileInfoClass: UInt8, buffer: [UInt8]) async throws {
        let r = try await call(.setInfo, fileId: fileId) { fid in
            SetInfoRequest(fileInfoClass: fileInfoClass, fileId: fid, buffer: buffer).encodeBody()
        }
        try decode("SET_INFO") { try SetInfoRequest.decodeResponse(message: r.message) }
    }

    /// Renames an open file or directory to `path` ("/"-separated, from the share root).
    public func rename(_ fileId: FileId, to path: String, replaceIfExists: Bool) async throws {
        try await setInfo(fileId, .rename(newName: wireName(path, on: owner(fileId)), replaceIfExists: replaceIfExists))
    }

    /// Renames `path` in one round trip (CREATE + SET_INFO FileRenameInformation + CLOSE).
    public func rename(path: String, to newPath: String, replaceIfExists: Bool) async throws {
        let rs = try await compound(path: path, access: [.delete, .readAttributes, .synchronize], options: []) { l in
            [(.setInfo, Self.setInfoRequest(.related, .rename(newName: try self.wireName(newPath, on: l), replaceIfExists: replaceIfExists)))]
        }
        try Self.checkSetInfo(rs[0])
    }

    /// Renames `path` over whatever `newPath` names, open or not, with POSIX semantics
    /// (FileRenameInformationEx, MS-FSCC 2.4.37.2), in one round trip.
    public func renamePOSIX(path: String, to newPath: String) async throws {
        let rs = try await compound(path: path, access: [.delete, .readAttributes, .synchronize], options: []) { l in
            [(.setInfo, Self.setInfoRequest(.related, .renamePOSIX(newName: try self.wireName(newPath, on: l))))]
        }
        try Self.checkSetInfo(rs[0])
    }

    /// Renames `path` in one round trip and answers the attributes after it, the name the server
    /// now gives the file included (CREATE + SET_INFO FileRenameInformation + QUERY_INFO + CLOSE).
    public func renameAndQuery(path: String, to newPath: String) async throws -> FileAllInformation {
        let queries = attributeQueries(.related)
        let rs = try await compound(path: path, access: [.delete, .readAttributes, .synchronize], options: [],
                                    allowing: [.bufferOverflow], mayFail: posixQueryIndex(after: 1)) { l in
            [(.setInfo, Self.setInfoRequest(.related, .rename(newName: try self.wireName(newPath, on: l), replaceIfExists: false)))]
                + queries
        }
        try Self.checkSetInfo(rs[0])
        return try attributes(from: rs[1...])
    }

    /// Renames `path` to `newPath` by way of `via`, in one round trip (CREATE + SET_INFO
    /// FileRenameInformation twice + CLOSE): a rename that changes only the case of a name on a
    /// server that ignores case, where renaming straight to the new spelling may find the file
    /// "already there" and keep the old one. If the second step fails, the first is undone.
    public func rename(path: String, via: String, to newPath: String) async throws {
        let rename = { @Sendable (name: String, l: ShareConnection) throws in
            Self.setInfoRequest(.related, .rename(newName: try self.wireName(name, on: l), replaceIfExists: false))
        }
        let rs = try await compound(path: path, access: [.delete, .readAttributes, .synchronize], options: [],
                                    mayFail: [1]) { l in [(.setInfo, try rename(via, l)), (.setInfo, try rename(newPath, l))] }
        try Self.checkSetInfo(rs[0])
        do {
            try Self.checkSetInfo(rs[1])
        } catch {
            try? await self.rename(path: via, to: path, replaceIfExists: false)
            throw error
        }
    }

    /// Adds a hard link to an open file at `path` (FileLinkInformation, MS-FSCC 2.4.27.2).
    public func link(_ fileId: FileId, at path: String) async throws {
        let info = FileLinkInformation(fileName: try wireName(path, on: owner(fileId)), replaceIfExists: false)
        let buffer: [UInt8]
        do { buffer = try info.encode() } catch { throw SMBError.unsupported("link name: \(error)") }
        try await setInfo(fileId, fileInfoClass: FileLinkInformation.fileInformationClass, buffer: buffer)
    }

    /// Every extended attribute of an open file (QUERY_INFO FileFullEaInformation, MS-SMB2 3.2.4.12).
    public func queryEAs(_ fileId: FileId) async throws -> [FileFullEaInformation] {
        let len = maxTransactSize
        let r = try await call(.queryInfo, fileId: fileId, allowing: [.noEasOnFile]) { fid in
            var req = QueryInfoRequest(infoType: .file, fileInfoClass: FileFullEaInformation.fileInformationClass,
                                       outputBufferLength: UInt32(len), fileId: fid)
            req.flags = QueryInfoRequest.restartScan
            return req.encodeBody()
        }
        if r.header.status == .noEasOnFile { return [] }
        let buf = try decode("QUERY_INFO") { try OutputBufferResponse.decode(message: r.message, command: .queryInfo, maxLength: UInt32(len)) }
        if buf.isEmpty { return [] }
        return try decode("QUERY_INFO") { try FileFullEaInformation.decodeList(buf) }
    }

    /// Sets (or, with an empty value, removes) extended attributes (MS-FSCC 2.4.15).
    public func setEAs(_ fileId: FileId, _ list: [FileFullEaInformation]) async throws {
        let buffer: [UInt8]
        do { buffer = try FileFullEaInformation.encodeList(list) } catch { throw SMBError.unsupported("extended attribute: \(error)") }
        try await setInfo(fileId, fileInfoClass: FileFullEaInformation.fileInformationClass, buffer: buffer)
    }

    /// LOCK of one range (MS-SMB2 3.2.4.19): lock or unlock, never waiting on the server.
    public func lock(_ fileId: FileId, offset: UInt64, length: UInt64, flags: LockFlags) async throws {
        let element = LockElement(offset: offset, length: length, flags: flags)
        do { try LockRequest(fileId: fileId, locks: [element]).validate() } catch { throw SMBError.unsupported("lock: \(error)") }
        let r = try await call(.lock, fileId: fileId) { fid in
            (try? LockRequest(fileId: fid, locks: [element]).encodeBody()) ?? []
        }
        try decode("LOCK") { try LockResponse.decode(message: r.message) }
        owner(fileId).noteLock(fileId, element)
    }

    /// IOCTL with an FSCTL code (MS-SMB2 3.2.4.20); returns the output buffer.
    public func fsctl(_ fileId: FileId, code: UInt32, input: [UInt8], maxOutput: Int) async throws -> [UInt8] {
        let charge = max(1, (max(input.count, maxOutput) - 1) / 65536 + 1)
        let r = try await call(.ioctl, fileId: fileId, charge: charge) { fid in
            IoctlRequest(ctlCode: code, fileId: fid, input: input, maxOutputResponse: UInt32(maxOutput)).encodeBody()
        }
        return try decode("IOCTL") { try IoctlResponse.decode(message: r.message, maxOutputResponse: UInt32(maxOutput)).output }
    }

    /// Server-side copy (MS-SMB2 3.2.4.20.1): FSCTL_SRV_REQUEST_RESUME_KEY on the source, then
    /// FSCTL_SRV_COPYCHUNK_WRITE on the target in chunks of at most 1 MiB, 16 per request.
    /// Returns the bytes copied (fewer only at the source's end of file).
    public func copyChunks(from source: FileId, sourceOffset: UInt64, to target: FileId, targetOffset: UInt64,
                           length: UInt64) async throws -> UInt64 {
        // A resume key means something only to the server that gave it: files on either side
        // of a DFS link are copied through the client.
        guard owner(source) === owner(target) else { throw SMBError.status(.notSupported, .ioctl) }
        let keyOut = try await fsctl(source, code: FSCTL.FSCTL_SRV_REQUEST_RESUME_KEY, input: [], maxOutput: 32)
        let key = try decode("IOCTL") { try SRV_REQUEST_RESUME_KEY.decode(keyOut) }
        let chunkSize = UInt64(SRV_COPYCHUNK_COPY.maxChunkSize)
        let perRequest = 16
        var done: UInt64 = 0
        while done < length {
            var chunks: [SRV_COPYCHUNK] = []
            var planned: UInt64 = 0
            while chunks.count < perRequest && done + planned < length {
                let n = min(chunkSize, length - done - planned)
                chunks.append(SRV_COPYCHUNK(sourceOffset: sourceOffset + done + planned,
                                            targetOffset: targetOffset + done + planned, length: UInt32(n)))
                planned += n
            }
            let input: [UInt8]
            do { input = try SRV_COPYCHUNK_COPY(sourceKey: key.resumeKey, chunks: chunks).encode() } catch {
                throw SMBError.unsupported("copychunk: \(error)")
            }
            let out = try await fsctl(target, code: FSCTL.FSCTL_SRV_COPYCHUNK_WRITE, input: input, maxOutput: 12)
            let resp = try decode("IOCTL") { try SRV_COPYCHUNK_RESPONSE.decode(out) }
            done += UInt64(resp.totalBytesWritten)
            if UInt64(resp.totalBytesWritten) < planned { break }     // the source ended
        }
        return done
    }

    /// One QUERY_DIRECTORY round (FileIdBothDirectoryInformation); nil once STATUS_NO_MORE_FILES.
    public func queryDirectory(_ fileId: FileId, restart: Bool) async throws -> [DirectoryEntry]? {
        let size = maxTransactSize
        let charge = (size - 1) / 65536 + 1
        let r = try await call(.queryDirectory, fileId: fileId, charge: charge, allowing: [.noMoreFiles]) { fid in
            QueryDirectoryRequest(fileId: fid, outputBufferLength: UInt32(size),
                                  flags: restart ? QueryDirectoryRequest.restartScans : 0).encodeBody()
        }
        guard var entries = try directoryBatch(r, size: size) else { return nil }
        for i in entries.indices { entries[i].name = names.local(entries[i].name) }
        return entries
    }

    /// Every entry of the directory at `path`, "." and ".." left out: CREATE + QUERY_DIRECTORY +
    /// QUERY_DIRECTORY as one compound (MS-SMB2 3.2.4.1.4), so a directory whose listing fits
    /// one response (the second query answers STATUS_NO_MORE_FILES) costs one round trip. A
    /// longer one goes on through the same open, from where the server's scan stopped. The
    /// CLOSE goes out without its reply being waited for: once it is on the wire every later
    /// request reaches the server after it.
    /// `batches`: given each response's entries as it comes (a reader of a long directory
    /// starts before its end is read); a scan begun again after a reconnect gives no name twice.
    public func listDirectory(path: String,
                              batches: (@Sendable ([DirectoryEntry]) async -> Void)? = nil) async throws -> [DirectoryEntry] {
        let size = min(maxTransactSize, 2 << 20)
        let charge = (size - 1) / 65536 + 1
        let query = { @Sendable (flags: UInt8) in
            (Command.queryDirectory, QueryDirectoryRequest(fileId: .related, outputBufferLength: UInt32(size), flags: flags).encodeBody())
        }
        let given = GivenEntries()
        let names = self.names
        @Sendable func hand(_ batch: [DirectoryEntry]) async {
            var batch = batch
            batch.removeAll { $0.name == "." || $0.name == ".." }
            for i in batch.indices { batch[i].name = names.local(batch[i].name) }
            let new = given.take(batch)
            if let batches, !new.isEmpty { await batches(new) }
        }
        let posix = names.posixPaths
        try await routed(path) { l, path in
          try await l.perform { b in
            var create = self.openRequest(path, access: [.readData, .readAttributes, .synchronize], options: .directoryFile)
            create.name = b.createName(create.name, posix: posix)
            let parts = [(Command.create, create.encodeBody()), query(QueryDirectoryRequest.restartScans), query(0)]
            given.startOver()
            let rs = try await b.connection.sendCompound(parts, charges: [1, charge, charge], treeId: b.treeId)
            guard rs.count == parts.count else { throw SMBError.malformed("compound answered with \(rs.count) responses") }
            // A failed CREATE fails the related requests after it with the same status.
            guard rs[0].header.status == .success else { throw SMBError.status(rs[0].header.status, .create) }
            let fid = try decode("CREATE") { try CreateResponse.decode(message: rs[0].message) }.fileId
            do {
                var batch = try self.directoryBatch(rs[1], size: size)
                if let first = batch {
                    await hand(first)
                    batch = try self.directoryBatch(rs[2], size: size)
                }
                let more = QueryDirectoryRequest(fileId: fid, outputBufferLength: UInt32(self.maxTransactSize), flags: 0).encodeBody()
                let moreCharge = (self.maxTransactSize - 1) / 65536 + 1
                var listed = 0
                while let got = batch {
                    listed += got.count
                    guard listed <= Self.listingLimit else {
                        throw SMBError.malformed("the server listed more than \(Self.listingLimit) entries in \(path.isEmpty ? "/" : path)")
                    }
                    // The next part is asked for before this one is handed on.
                    async let next = b.connection.send(.queryDirectory, body: more, treeId: b.treeId, charge: moreCharge)
                    await hand(got)
                    batch = try self.directoryBatch(try await next, size: self.maxTransactSize)
                }
            } catch {
                await Self.sendWithoutWaiting(.close, CloseRequest(fileId: fid).encodeBody(), on: b)
                throw error
            }
            await Self.sendWithoutWaiting(.close, CloseRequest(fileId: fid).encodeBody(), on: b)
          }
        }
        return given.all
    }

    /// Entries one listing reads at most: a server that goes on answering is stopped there
    /// (a directory this long is not one a client can show).
    static let listingLimit = 10_000_000

    /// One QUERY_DIRECTORY response's entries; nil at STATUS_NO_MORE_FILES.
    private func directoryBatch(_ r: Response, size: Int) throws -> [DirectoryEntry]? {
        switch r.header.status {
        case .noMoreFiles: return nil
        case .success: break
        case let s: throw SMBError.status(s, .queryDirectory)
        }
        let buf = try decode("QUERY_DIRECTORY") {
            try OutputBufferResponse.decode(message: r.message, command: .queryDirectory, maxLength: UInt32(size))
        }
        return try Self.someEntries(try decode("QUERY_DIRECTORY") { try FileIdBothDirectoryInformation.decodeList(buf) })
    }

    /// A successful QUERY_DIRECTORY's entries, refused when there are none: an enumeration with
    /// nothing more to give ends with STATUS_NO_MORE_FILES (MS-SMB2 3.3.5.18), and success with
    /// no entry would have a listing ask again for ever.
    static func someEntries<T>(_ entries: [T]) throws -> [T] {
        guard !entries.isEmpty else { throw SMBError.malformed("QUERY_DIRECTORY succeeded with no entries") }
        return entries
    }

    /// Sends a request whose reply nothing waits for (a CLOSE after a listing), returning once
    /// it is written: requests sent after this call go after it on the connection.
    static func sendWithoutWaiting(_ command: Command, _ body: [UInt8], on b: ShareConnection.Binding) async {
        let written = Gate()
        Task {
            _ = try? await b.connection.send(command, body: body, treeId: b.treeId, sent: { written.open() })
            written.open()
        }
        await written.wait()
    }

    /// CHANGE_NOTIFY (MS-SMB2 3.2.4.21): returns once something in the open directory changed.
    /// The server answers STATUS_PENDING at once, so the wait has no timeout; closing the
    /// handle ends it (STATUS_NOTIFY_CLEANUP, thrown). nil: more changed than one response
    /// holds (STATUS_NOTIFY_ENUM_DIR), so the directory must be read again. `sent` runs once the
    /// request is on the wire: a request made after it reaches the server after this one.
    public func changeNotify(_ fileId: FileId, filter: CompletionFilter,
                             sent: (@Sendable () -> Void)? = nil) async throws -> [FileNotifyInformation]? {
        let len = 16384
        let r = try await call(.changeNotify, fileId: fileId, allowing: [.notifyEnumDir], sent: sent) { fid in
            ChangeNotifyRequest(fileId: fid, outputBufferLength: UInt32(len), completionFilter: filter).encodeBody()
        }
        if r.header.status == .notifyEnumDir { return nil }
        var list = try decode("CHANGE_NOTIFY") { try ChangeNotifyRequest.decodeResponse(message: r.message, maxLength: UInt32(len)) }
        for i in list.indices { list[i].fileName = names.local(list[i].fileName) }
        return list
    }

    /// Counts connections: it changes whenever a reconnect replaced the connection, so what a
    /// server said only on the old one (change notifications) may have been missed.
    public var generation: UInt64 { link.current?.generation ?? 0 }

    /// Every entry of an open directory, "." and ".." left out.
    public func listDirectory(_ fileId: FileId) async throws -> [DirectoryEntry] {
        var all: [DirectoryEntry] = []
        var restart = true
        while let batch = try await queryDirectory(fileId, restart: restart) {
            restart = false
            all += batch.filter { $0.name != "." && $0.name != ".." }
        }
        return all
    }

    public func queryAllInformation(_ fileId: FileId) async throws -> FileAllInformation {
        guard posixOpens else {
            let r = try await call(.queryInfo, fileId: fileId, allowing: [.bufferOverflow]) { fid in Self.allInformationQuery(fid) }
            return try Self.allInformation(from: r)
        }
        let l = owner(fileId)
        return try await l.perform { b in
            let fid = try await l.serverId(fileId, on: b)
            let rs = try await b.connection.sendCompound(self.attributeQueries(fid), related: false, treeId: b.treeId)
            guard rs.count == 2 else { throw SMBError.malformed("compound answered with \(rs.count) responses") }
            return try self.attributes(from: rs[...])
        }
    }

    /// The QUERY_INFO requests that answer a file's attributes: FileAllInformation, and on a
    /// POSIX share FilePosixInformation after it, whose times are the ones to show (Samba 4.22
    /// answers the other classes on a POSIX open with the 1970 epoch as the last-write and
    /// change times).
    func attributeQueries(_ fid: FileId) -> [(command: Command, body: [UInt8])] {
        [(.queryInfo, Self.allInformationQuery(fid))] + (posixOpens ? [(.queryInfo, Self.posixQuery(fid))] : [])
    }

    /// Where `attributeQueries` placed at `index` put FilePosixInformation: a request the server
    /// may refuse without failing the rest.
    func posixQueryIndex(after index: Int) -> Set<Int> { posixOpens ? [index + 1] : [] }

    /// FileAllInformation from the answers to `attributeQueries`, with the times, sizes,
    /// attributes and link count of FilePosixInformation where the server gave it.
    func attributes(from rs: ArraySlice<Response>) throws -> FileAllInformation {
        try attributesAndPosix(from: rs).0
    }

    /// `attributes(from:)` and the FilePosixInformation it took them from, each decoded once.
    func attributesAndPosix(from rs: ArraySlice<Response>) throws -> (FileAllInformation, FilePosixInformation?) {
        var info = try Self.allInformation(from: rs[rs.startIndex])
        guard rs.count > 1, let posix = try Self.posixInformation(from: rs[rs.startIndex + 1]) else { return (info, nil) }
        info.basics = posix.basics
        info.numberOfLinks = posix.hardLinks
        return (info, posix)
    }

    /// QUERY_INFO FileAllInformation, and its answer. FileAllInformation ends with the name, the
    /// path from the share root (at most PATH_MAX bytes, Filesystem.pathMax): room for the
    /// longest in UTF-16, as Samba fails the query (STATUS_ILLEGAL_CHARACTER) rather than cut a
    /// name that does not fit; a longer one gives STATUS_BUFFER_OVERFLOW. One credit.
    private static let allInformationLength = 16384

    /// The final component of the name the server gave in `info`, as this mount spells names:
    /// how a server that ignores case spells the file found under another spelling.
    public func serverSpelling(of info: FileAllInformation) -> String? {
        guard let n = info.fileName, !n.isEmpty else { return nil }
        let last = n.split(separator: "\\", omittingEmptySubsequences: true).last.map(String.init) ?? ""
        return last.isEmpty ? nil : names.local(last)
    }

    static func allInformationQuery(_ fid: FileId) -> [UInt8] {
        QueryInfoRequest(infoType: .file, fileInfoClass: FileInformationClass.fileAllInformation.rawValue,
                         outputBufferLength: UInt32(allInformationLength), fileId: fid).encodeBody()
    }

    static func allInformation(from r: Response) throws -> FileAllInformation {
        let s = r.header.status
        guard s == .success || s == .bufferOverflow else { throw SMBError.status(s, .queryInfo) }
        let buf = try decode("QUERY_INFO") {
            try OutputBufferResponse.decode(message: r.message, command: .queryInfo, maxLength: UInt32(allInformationLength))
        }
        return try decode("QUERY_INFO") { try FileAllInformation.decode(buf) }
    }

    private static func setInfoRequest(_ fid: FileId, _ info: FileSetInformation) -> [UInt8] {
        SetInfoRequest(fileInfoClass: info.fileInfoClass, fileId: fid, buffer: info.encode()).encodeBody()
    }

    static func checkSetInfo(_ r: Response) throws {
        guard r.header.status == .success else { throw SMBError.status(r.header.status, .setInfo) }
        try decode("SET_INFO") { try SetInfoRequest.decodeResponse(message: r.message) }
    }

    /// `create` + `requests` on that open, in order + CLOSE, as one compound (MS-SMB2 3.2.4.1.4):
    /// one round trip, the open living only inside it. Returns the CREATE response and then
    /// those to `requests`, each a success or a status in `allowing`. `charges`: CreditCharge of
    /// each of `requests` (1 by default). `mayFail`: indices into `requests` whose failure is
    /// returned to the caller, not thrown (unless it ends the session).
    /// `create` builds the CREATE for the path as the connection serving it names it, and
    /// `requests` the rest for that connection (DFS links: `routed`).
    func compound(path: String, create: @escaping @Sendable (String) -> CreateRequest,
                  _ requests: @escaping @Sendable (ShareConnection) throws -> [(command: Command, body: [UInt8])],
                  charges: [Int]? = nil, allowing: Set<NTStatus> = [], mayFail: Set<Int> = []) async throws -> [Response] {
        try await routed(path) { l, p in
            try await self.compound(create(p), try requests(l), on: l, charges: charges, allowing: allowing, mayFail: mayFail)
        }
    }

    private func compound(_ create: CreateRequest, _ requests: [(command: Command, body: [UInt8])], on l: ShareConnection,
                          charges: [Int]?, allowing: Set<NTStatus>, mayFail: Set<Int>) async throws -> [Response] {
        let posix = names.posixPaths
        // Statuses are checked inside `perform`: one that ends the session reconnects and retries.
        return try await l.perform { b in
            var create = create
            create.name = b.createName(create.name, posix: posix)
            let all = [(Command.create, create.encodeBody())] + requests
                + [(Command.close, CloseRequest(fileId: .related).encodeBody())]
            let rs = try await b.connection.sendCompound(all, charges: [1] + (charges ?? requests.map { _ in 1 }) + [1],
                                                         treeId: b.treeId)
            guard rs.count == all.count else { throw SMBError.malformed("compound answered with \(rs.count) responses") }
            // A failed CREATE fails the related requests after it with the same status.
            guard rs[0].header.status == .success else { throw SMBError.status(rs[0].header.status, .create) }
            for (i, (r, q)) in zip(rs.dropFirst(), requests).enumerated() {
                let s = r.header.status
                if s == .success || allowing.contains(s) { continue }
                if mayFail.contains(i) && !ShareConnection.endsBinding(SMBError.status(s, q.command), b) { continue }
                throw SMBError.status(s, q.command)
            }
            return Array(rs.dropLast())
        }
    }

    /// CREATE (FILE_OPEN) of `path` + `requests` + CLOSE; the responses to `requests`.
    func compound(path: String, access: AccessMask, options: CreateOptions,
                          _ requests: [(command: Command, body: [UInt8])],
                          allowing: Set<NTStatus> = [], mayFail: Set<Int> = []) async throws -> [Response] {
        try await compound(path: path, access: access, options: options, allowing: allowing, mayFail: mayFail) { _ in requests }
    }

    /// As above, the requests built for the connection that serves `path` (names in them).
    func compound(path: String, access: AccessMask, options: CreateOptions, allowing: Set<NTStatus> = [],
                  mayFail: Set<Int> = [],
                  requestsOn: @escaping @Sendable (ShareConnection) throws -> [(command: Command, body: [UInt8])]) async throws -> [Response] {
        Array(try await compound(path: path, create: { self.openRequest($0, access: access, options: options) }, requestsOn,
                                 allowing: allowing, mayFail: mayFail).dropFirst())
    }

    func openRequest(_ path: String, access: AccessMask, options: CreateOptions) -> CreateRequest {
        var create = CreateRequest(name: wireName(path), desiredAccess: access)
        create.createDisposition = .open
        create.createOptions = options
        create.shareAccess = .all
        if posixOpens { Self.makePosix(&create) }
        return create
    }

    /// mkdir: CREATE (FILE_CREATE, a directory) + CLOSE as one compound; the CREATE response
    /// (with its QFid context) describes the new directory.
    /// `mode`: the new directory's mode on a POSIX share (the POSIX create context carries it).
    public func createDirectory(path: String, mode: UInt32 = 0o755) async throws -> CreateResponse {
        let posix = posixOpens
        let rs = try await compound(path: path, create: { p in
            var create = self.openRequest(p, access: [.readAttributes, .synchronize], options: .directoryFile)
            create.createDisposition = .create
            create.fileAttributes = .directory
            create.contexts = [CreateContext(name: CreateResponse.queryOnDiskIdName, data: [])]
            if posix { create.contexts.append(Self.posixContext(mode: mode)) }
            return create
        }, { _ in [] })
        return try decode("CREATE") { try CreateResponse.decode(message: rs[0].message) }
    }

    /// The attributes of `path` in one round trip (CREATE + QUERY_INFO + CLOSE).
    public func queryAllInformation(path: String, options: CreateOptions = []) async throws -> FileAllInformation {
        let rs = try await compound(path: path, access: [.readAttributes, .synchronize], options: options,
                                    attributeQueries(.related), allowing: [.bufferOverflow], mayFail: posixQueryIndex(after: 0))
        return try attributes(from: rs[...])
    }

    /// SET_INFO on an open file and its attributes after it, in one round trip: the two requests
    /// go as one unrelated compound, processed in order (MS-SMB2 3.3.5.2.7.1).
    public func setInfoAndQuery(_ fileId: FileId, _ info: FileSetInformation) async throws -> FileAllInformation {
        let l = owner(fileId)
        return try await l.perform { b in
            let fid = try await l.serverId(fileId, on: b)
            let all = [(Command.setInfo, Self.setInfoRequest(fid, info))] + self.attributeQueries(fid)
            let rs = try await b.connection.sendCompound(all, related: false, treeId: b.treeId)
            guard rs.count == all.count else { throw SMBError.malformed("compound answered with \(rs.count) responses") }
            try Self.checkSetInfo(rs[0])
            return try self.attributes(from: rs[1...])
        }
    }

    /// SET_INFO on `path` and the attributes after it, in one round trip (CREATE + SET_INFO +
    /// QUERY_INFO + CLOSE): utimes and truncate by path answer the kernel without a second trip.
    public func setInfoAndQuery(path: String, access: AccessMask, _ info: FileSetInformation) async throws -> FileAllInformation {
        // STATUS_BUFFER_OVERFLOW is the QUERY_INFO's (checked again below for the SET_INFO).
        let rs = try await compound(path: path, access: access.union(.readAttributes), options: [],
                                    [(.setInfo, Self.setInfoRequest(.related, info))] + attributeQueries(.related),
                                    allowing: [.bufferOverflow], mayFail: posixQueryIndex(after: 1))
        try Self.checkSetInfo(rs[0])
        return try attributes(from: rs[1...])
    }

    /// SET_INFO on `path` in one round trip (CREATE + SET_INFO + CLOSE), e.g. a delete disposition.
    public func setInfo(path: String, access: AccessMask, options: CreateOptions = [], _ info: FileSetInformation) async throws {
        let rs = try await compound(path: path, access: access, options: options, [(.setInfo, Self.setInfoRequest(.related, info))])
        try Self.checkSetInfo(rs[0])
    }

    /// QUERY_INFO of a security descriptor's `parts` (MS-SMB2 2.2.37, InfoType
    /// SMB2_0_INFO_SECURITY); needs READ_CONTROL on the open.
    private static func securityQuery(_ fid: FileId, _ parts: SecurityInformation) -> [UInt8] {
        var q = QueryInfoRequest(infoType: .security, fileInfoClass: 0, outputBufferLength: UInt32(securityLength), fileId: fid)
        q.additionalInformation = parts.rawValue
        return q.encodeBody()
    }

    /// Room for any descriptor a file server keeps for a file (a few hundred bytes usually).
    private static let securityLength = 65536

    private static func security(from r: Response) throws -> SecurityDescriptor {
        guard r.header.status == .success else { throw SMBError.status(r.header.status, .queryInfo) }
        let buf = try decode("QUERY_INFO") {
            try OutputBufferResponse.decode(message: r.message, command: .queryInfo, maxLength: UInt32(securityLength))
        }
        return try decode("QUERY_INFO") { try SecurityDescriptor.decode(buf) }
    }

    /// The attributes of `path` and its owner, group and DACL in one round trip (CREATE +
    /// QUERY_INFO + QUERY_INFO + CLOSE).
    public func queryAllInformationAndSecurity(path: String, options: CreateOptions = [])
        async throws -> (FileAllInformation, SecurityDescriptor) {
        let rs = try await compound(path: path, access: [.readAttributes, .readControl, .synchronize], options: options,
                                    [(.queryInfo, Self.allInformationQuery(.related)),
                                     (.queryInfo, Self.securityQuery(.related, [.owner, .group, .dacl]))],
                                    allowing: [.bufferOverflow])
        return (try Self.allInformation(from: rs[0]), try Self.security(from: rs[1]))
    }

    /// Sets the `parts` of `path`'s security descriptor from `descriptor` (SET_INFO,
    /// MS-SMB2 2.2.39), opened with WRITE_DAC and WRITE_OWNER as the parts need: one round trip.
    public func setSecurity(path: String, _ descriptor: SecurityDescriptor, parts: SecurityInformation,
                            options: CreateOptions = []) async throws {
        let (access, set) = Self.securitySet(descriptor, parts)
        let rs = try await compound(path: path, access: access, options: options, [(.setInfo, set)])
        try Self.checkSetInfo(rs[0])
    }

    /// SET_INFO of a descriptor's `parts` on the related open, and the access that open needs.
    static func securitySet(_ descriptor: SecurityDescriptor, _ parts: SecurityInformation) -> (AccessMask, [UInt8]) {
        var access: AccessMask = []
        if parts.contains(.dacl) { access.insert(.writeDAC) }
        if !parts.isDisjoint(with: [.owner, .group]) { access.insert(.writeOwner) }
        var set = SetInfoRequest(infoType: .security, fileInfoClass: 0, fileId: .related, buffer: descriptor.encode())
        set.additionalInformation = parts.rawValue
        return (access, set.encodeBody())
    }

    /// The owner, group and DACL of `path` in one round trip (CREATE + QUERY_INFO + CLOSE).
    public func querySecurity(path: String, options: CreateOptions = []) async throws -> SecurityDescriptor {
        let rs = try await compound(path: path, access: [.readControl, .synchronize], options: options,
                                    [(.queryInfo, Self.securityQuery(.related, [.owner, .group, .dacl]))])
        return try Self.security(from: rs[0])
    }

    /// `setSecurity` and then the attributes, owner, group and DACL the file has after it, in
    /// one round trip (CREATE + SET_INFO + QUERY_INFO + QUERY_INFO + CLOSE): chmod and chown
    /// answer with what the server kept.
    public func setSecurityAndQuery(path: String, _ descriptor: SecurityDescriptor, parts: SecurityInformation,
                                    options: CreateOptions = []) async throws -> (FileAllInformation, SecurityDescriptor) {
        let (access, set) = Self.securitySet(descriptor, parts)
        let rs = try await compound(path: path, access: access.union([.readAttributes, .readControl, .synchronize]),
                                    options: options,
                                    [(.setInfo, set),
                                     (.queryInfo, Self.allInformationQuery(.related)),
                                     (.queryInfo, Self.securityQuery(.related, [.owner, .group, .dacl]))],
                                    allowing: [.bufferOverflow])
        try Self.checkSetInfo(rs[0])
        return (try Self.allInformation(from: rs[1]), try Self.security(from: rs[2]))
    }

    public func queryFullSize(_ fileId: FileId) async throws -> FileFsFullSizeInformation {
        let len = 64
        let r = try await call(.queryInfo, fileId: fileId) { fid in
            QueryInfoRequest(infoType: .fileSystem,
                             fileInfoClass: FileSystemInformationClass.fileFsFullSizeInformation.rawValue,
                             outputBufferLength: UInt32(len), fileId: fid).encodeBody()
        }
        let buf = try decode("QUERY_INFO") { try OutputBufferResponse.decode(message: r.message, command: .queryInfo, maxLength: UInt32(len)) }
        return try decode("QUERY_INFO") { try FileFsFullSizeInformation.decode(buf) }
    }

    /// ECHO (MS-SMB2 3.2.4.13): proves the connection and the session's signing work.
    public func echo() async throws {
        let r = try await call(.echo) { _ in SimpleRequest.encodeBody() }
        try decode("ECHO") { try SimpleRequest.decodeResponse(message: r.message, command: .echo) }
    }

    /// TREE_DISCONNECT, LOGOFF, then closes the connection. Errors are logged, not thrown:
    /// the server cleans up a dropped connection anyway.
    public func disconnect() async {
        keepalive.withLock { $0?.cancel() }
        for l in dfs?.connections ?? [] { await Self.disconnect(l) }
        await Self.disconnect(link)
    }

    private static func disconnect(_ link: ShareConnection) async {
        let logger = link.logger
        let b = link.current
        link.close()
        guard let b else { return }
        do {
            _ = try await b.connection.send(.treeDisconnect, body: SimpleRequest.encodeBody(), treeId: b.treeId,
                                            timeout: .seconds(5))
            _ = try await b.connection.send(.logoff, body: SimpleRequest.encodeBody(), timeout: .seconds(5))
        } catch {
            logger.debug("disconnect: \(error)")
        }
        b.channels.closeAll()
        b.connection.close()
    }

    /// TCP connections this share uses now: the session's first plus its bound channels.
    public var connectionCount: Int {
        guard let b = link.current, !b.connection.isFailed else { return 0 }
        return 1 + b.channels.count
    }

    /// "a/b/c" → "a\b\c" (MS-SMB2 2.2.13: names are relative, backslash-separated), each
    /// component through the name mapping. Every path the share sends goes through here.
    func wireName(_ path: String) -> String { ShareConnection.wireName(path, names) }

}

func decode<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ProtocolError { throw SMBError.malformed("\(what): \(e)") }
}

func timeAmount(_ d: Duration) -> TimeAmount {
    let c = d.components
    return .nanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
}
