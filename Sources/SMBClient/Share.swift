import Logging
import NIOCore
import SMBCrypto
import SMBProtocol

/// A tree connect to one share over an authenticated, signed session (MS-SMB2 3.2.1.4 TreeConnect),
/// with the operations the filesystem layer uses. Nothing above this type sees a connection.
public final class Share: Sendable {
    let connection: Connection
    public let dialect: Dialect
    /// The algorithm every request is signed with and every response verified with; nil with `nosign`.
    public let signingAlgorithm: SigningAlgorithm?
    let sessionId: UInt64
    let treeId: UInt32
    /// Largest payload of one READ and of QUERY_DIRECTORY/QUERY_INFO outputs.
    public let maxReadSize: Int
    public let maxWriteSize: Int
    let maxTransactSize: Int
    let logger: Logger
    let names: NameMapping

    init(connection: Connection, dialect: Dialect, signingAlgorithm: SigningAlgorithm?, sessionId: UInt64, treeId: UInt32,
         maxReadSize: Int, maxWriteSize: Int, maxTransactSize: Int, names: NameMapping, logger: Logger) {
        self.connection = connection
        self.dialect = dialect
        self.signingAlgorithm = signingAlgorithm
        self.sessionId = sessionId
        self.treeId = treeId
        self.maxReadSize = maxReadSize
        self.maxWriteSize = maxWriteSize
        self.maxTransactSize = maxTransactSize
        self.logger = logger
        self.names = names
    }

    /// Connects, negotiates, authenticates and connects the tree. Any failure closes the connection.
    public static func connect(_ config: ClientConfiguration) async throws -> Share {
        let conn = try await Connection.open(host: config.host, port: config.port,
                                             connectTimeout: timeAmount(config.connectTimeout),
                                             requestTimeout: timeAmount(config.requestTimeout),
                                             logger: config.logger)
        do {
            let negotiated = try await Handshake.negotiate(conn, config: config, clientGuid: Random.bytes(16))
            let sessionId = try await Handshake.sessionSetup(conn, negotiated: negotiated, config: config)
            let path = "\\\\\(config.host)\\\(config.share)"
            let r = try await conn.send(.treeConnect, body: TreeConnectRequest(path: path).encodeBody())
            guard r.header.status == .success else {
                if r.header.status == .badNetworkName {
                    throw SMBError.connectFailed("share \"\(config.share)\" not found on \(config.host)")
                }
                if r.header.status == .accessDenied {
                    throw SMBError.connectFailed("access to share \"\(config.share)\" denied")
                }
                throw SMBError.status(r.header.status, .treeConnect)
            }
            let tc = try decode("TREE_CONNECT") { try TreeConnectResponse.decode(message: r.message) }
            if tc.shareFlags.contains(.encryptData) {
                throw SMBError.unsupported("share \"\(config.share)\" requires encryption, which smb3fs does not offer yet")
            }
            guard tc.shareType == ShareType.disk.rawValue else {
                throw SMBError.unsupported("\"\(config.share)\" is not a disk share")
            }
            return Share(connection: conn, dialect: negotiated.dialect,
                         signingAlgorithm: conn.sessionSigner == nil ? nil : negotiated.signingAlgorithm, sessionId: sessionId,
                         treeId: r.header.treeId, maxReadSize: negotiated.maxReadSize,
                         maxWriteSize: negotiated.maxWriteSize, maxTransactSize: negotiated.maxTransactSize,
                         names: NameMapping(enabled: config.mapPosixNames), logger: conn.logger)
        } catch {
            conn.close()
            throw error
        }
    }

    /// Whether requests on this share are signed and responses verified.
    public var isSigned: Bool { connection.sessionSigner != nil }

    // MARK: - requests

    private func request(_ command: Command, _ body: [UInt8], charge: Int = 1) async throws -> Response {
        let r = try await connection.send(command, body: body, treeId: treeId, charge: charge)
        return r
    }

    private func checked(_ command: Command, _ body: [UInt8], charge: Int = 1,
                         allowing: Set<NTStatus> = []) async throws -> Response {
        let r = try await request(command, body, charge: charge)
        let s = r.header.status
        if s != .success && !allowing.contains(s) {
            // An error response must still have the ERROR shape (MS-SMB2 2.2.2).
            throw SMBError.status(s, command)
        }
        return r
    }

    /// CREATE (MS-SMB2 3.2.4.3). `path` uses "/" separators relative to the share root.
    public func create(path: String, access: AccessMask, disposition: CreateDisposition = .open,
                       options: CreateOptions = [], attributes: FileAttributes = [],
                       shareAccess: ShareAccess = .all) async throws -> CreateResponse {
        var req = CreateRequest(name: wireName(path), desiredAccess: access)
        req.createDisposition = disposition
        req.createOptions = options
        req.fileAttributes = attributes
        req.shareAccess = shareAccess
        let r = try await checked(.create, req.encodeBody())
        return try decode("CREATE") { try CreateResponse.decode(message: r.message) }
    }

    /// Opens `path`, runs `body` with the handle and closes it whatever happens. (The three
    /// requests are what a compound CREATE + request + CLOSE will carry, MS-SMB2 3.2.4.1.4.)
    public func withOpen<T: Sendable>(path: String, access: AccessMask, disposition: CreateDisposition = .open,
                                      options: CreateOptions = [],
                                      _ body: @Sendable (CreateResponse) async throws -> T) async throws -> T {
        let c = try await create(path: path, access: access, disposition: disposition, options: options)
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

    public func close(_ fileId: FileId) async throws {
        let r = try await checked(.close, CloseRequest(fileId: fileId).encodeBody())
        _ = try decode("CLOSE") { try CloseResponse.decode(message: r.message) }
    }

    /// READ of up to `length` bytes at `offset`; fewer at end of file, none past it.
    /// Lengths above MaxReadSize are split and sent concurrently.
    public func read(_ fileId: FileId, offset: UInt64, length: Int) async throws -> [UInt8] {
        guard length > 0 else { return [] }
        if length <= maxReadSize { return try await readOne(fileId, offset: offset, length: length) }
        var chunks: [(Int, Int)] = []
        var o = 0
        while o < length { chunks.append((o, min(maxReadSize, length - o))); o += maxReadSize }
        let parts = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (i, c) in chunks.enumerated() {
                group.addTask { (i, try await self.readOne(fileId, offset: offset + UInt64(c.0), length: c.1)) }
            }
            var out = [[UInt8]](repeating: [], count: chunks.count)
            for try await (i, d) in group { out[i] = d }
            return out
        }
        var result: [UInt8] = []
        result.reserveCapacity(length)
        for (i, p) in parts.enumerated() {
            result += p
            if p.count < chunks[i].1 { break }           // short read: end of file
        }
        return result
    }

    private func readOne(_ fileId: FileId, offset: UInt64, length: Int) async throws -> [UInt8] {
        let req = ReadRequest(fileId: fileId, offset: offset, length: UInt32(length))
        let charge = (length - 1) / 65536 + 1
        let r = try await checked(.read, req.encodeBody(), charge: charge, allowing: [.endOfFile])
        if r.header.status == .endOfFile { return [] }
        let rr = try decode("READ") { try ReadResponse.decode(message: r.message, requested: UInt32(length)) }
        return Array(r.message[rr.dataRange])
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
        let req = WriteRequest(fileId: fileId, offset: offset, data: data)
        let charge = max(1, (data.count - 1) / 65536 + 1)
        let r = try await checked(.write, req.encodeBody(), charge: charge)
        let w = try decode("WRITE") { try WriteResponse.decode(message: r.message, requested: data.count) }
        // A short write is the server running out of space (MS-SMB2 3.3.5.13 gives no other reason).
        guard Int(w.count) == data.count else { throw SMBError.status(.diskFull, .write) }
    }

    /// FLUSH (MS-SMB2 3.2.4.17): the server writes the file's data to stable storage.
    public func flush(_ fileId: FileId) async throws {
        let r = try await checked(.flush, FlushRequest(fileId: fileId).encodeBody())
        try decode("FLUSH") { try SimpleRequest.decodeResponse(message: r.message, command: .flush) }
    }

    /// SET_INFO of one file information class (MS-SMB2 3.2.4.15).
    public func setInfo(_ fileId: FileId, _ info: FileSetInformation) async throws {
        try await setInfo(fileId, fileInfoClass: info.fileInfoClass, buffer: info.encode())
    }

    public func setInfo(_ fileId: FileId, fileInfoClass: UInt8, buffer: [UInt8]) async throws {
        let req = SetInfoRequest(fileInfoClass: fileInfoClass, fileId: fileId, buffer: buffer)
        let r = try await checked(.setInfo, req.encodeBody())
        try decode("SET_INFO") { try SetInfoRequest.decodeResponse(message: r.message) }
    }

    /// Renames an open file or directory to `path` ("/"-separated, from the share root).
    public func rename(_ fileId: FileId, to path: String, replaceIfExists: Bool) async throws {
        try await setInfo(fileId, .rename(newName: wireName(path), replaceIfExists: replaceIfExists))
    }

    /// Adds a hard link to an open file at `path` (FileLinkInformation, MS-FSCC 2.4.27.2).
    public func link(_ fileId: FileId, at path: String) async throws {
        let info = FileLinkInformation(fileName: wireName(path), replaceIfExists: false)
        let buffer: [UInt8]
        do { buffer = try info.encode() } catch { throw SMBError.unsupported("link name: \(error)") }
        try await setInfo(fileId, fileInfoClass: FileLinkInformation.fileInformationClass, buffer: buffer)
    }

    /// Every extended attribute of an open file (QUERY_INFO FileFullEaInformation, MS-SMB2 3.2.4.12).
    public func queryEAs(_ fileId: FileId) async throws -> [FileFullEaInformation] {
        let len = maxTransactSize
        var req = QueryInfoRequest(infoType: .file, fileInfoClass: FileFullEaInformation.fileInformationClass,
                                   outputBufferLength: UInt32(len), fileId: fileId)
        req.flags = QueryInfoRequest.restartScan
        let r = try await checked(.queryInfo, req.encodeBody(), allowing: [.noEasOnFile])
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
        let req = LockRequest(fileId: fileId, locks: [LockElement(offset: offset, length: length, flags: flags)])
        let body: [UInt8]
        do { body = try req.encodeBody() } catch { throw SMBError.unsupported("lock: \(error)") }
        let r = try await checked(.lock, body)
        try decode("LOCK") { try LockResponse.decode(message: r.message) }
    }

    /// IOCTL with an FSCTL code (MS-SMB2 3.2.4.20); returns the output buffer.
    public func fsctl(_ fileId: FileId, code: UInt32, input: [UInt8], maxOutput: Int) async throws -> [UInt8] {
        let req = IoctlRequest(ctlCode: code, fileId: fileId, input: input, maxOutputResponse: UInt32(maxOutput))
        let charge = max(1, (max(input.count, maxOutput) - 1) / 65536 + 1)
        let r = try await checked(.ioctl, req.encodeBody(), charge: charge)
        return try decode("IOCTL") { try IoctlResponse.decode(message: r.message, maxOutputResponse: UInt32(maxOutput)).output }
    }

    /// Server-side copy (MS-SMB2 3.2.4.20.1): FSCTL_SRV_REQUEST_RESUME_KEY on the source, then
    /// FSCTL_SRV_COPYCHUNK_WRITE on the target in chunks of at most 1 MiB, 16 per request.
    /// Returns the bytes copied (fewer only at the source's end of file).
    public func copyChunks(from source: FileId, sourceOffset: UInt64, to target: FileId, targetOffset: UInt64,
                           length: UInt64) async throws -> UInt64 {
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
        let req = QueryDirectoryRequest(fileId: fileId, outputBufferLength: UInt32(maxTransactSize),
                                        flags: restart ? QueryDirectoryRequest.restartScans : 0)
        let charge = (maxTransactSize - 1) / 65536 + 1
        let r = try await checked(.queryDirectory, req.encodeBody(), charge: charge, allowing: [.noMoreFiles])
        if r.header.status == .noMoreFiles { return nil }
        let buf = try decode("QUERY_DIRECTORY") {
            try OutputBufferResponse.decode(message: r.message, command: .queryDirectory, maxLength: UInt32(maxTransactSize))
        }
        var entries = try decode("QUERY_DIRECTORY") { try FileIdBothDirectoryInformation.decodeList(buf) }
        for i in entries.indices { entries[i].name = names.local(entries[i].name) }
        return entries
    }

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
        let len = 4096
        let req = QueryInfoRequest(infoType: .file, fileInfoClass: FileInformationClass.fileAllInformation.rawValue,
                                   outputBufferLength: UInt32(len), fileId: fileId)
        // FileAllInformation ends with the name; a long one gives STATUS_BUFFER_OVERFLOW with the fixed part intact.
        let r = try await checked(.queryInfo, req.encodeBody(), allowing: [.bufferOverflow])
        let buf = try decode("QUERY_INFO") { try OutputBufferResponse.decode(message: r.message, command: .queryInfo, maxLength: UInt32(len)) }
        return try decode("QUERY_INFO") { try FileAllInformation.decode(buf) }
    }

    public func queryFullSize(_ fileId: FileId) async throws -> FileFsFullSizeInformation {
        let len = 64
        let req = QueryInfoRequest(infoType: .fileSystem,
                                   fileInfoClass: FileSystemInformationClass.fileFsFullSizeInformation.rawValue,
                                   outputBufferLength: UInt32(len), fileId: fileId)
        let r = try await checked(.queryInfo, req.encodeBody())
        let buf = try decode("QUERY_INFO") { try OutputBufferResponse.decode(message: r.message, command: .queryInfo, maxLength: UInt32(len)) }
        return try decode("QUERY_INFO") { try FileFsFullSizeInformation.decode(buf) }
    }

    /// ECHO (MS-SMB2 3.2.4.13): proves the connection and the session's signing work.
    public func echo() async throws {
        let r = try await checked(.echo, SimpleRequest.encodeBody())
        try decode("ECHO") { try SimpleRequest.decodeResponse(message: r.message, command: .echo) }
    }

    /// TREE_DISCONNECT, LOGOFF, then closes the connection. Errors are logged, not thrown:
    /// the server cleans up a dropped connection anyway.
    public func disconnect() async {
        do {
            _ = try await connection.send(.treeDisconnect, body: SimpleRequest.encodeBody(), treeId: treeId,
                                          timeout: .seconds(5))
            _ = try await connection.send(.logoff, body: SimpleRequest.encodeBody(), timeout: .seconds(5))
        } catch {
            logger.debug("disconnect: \(error)")
        }
        connection.close()
    }

    /// "a/b/c" → "a\b\c" (MS-SMB2 2.2.13: names are relative, backslash-separated), each
    /// component through the name mapping. Every path the share sends goes through here.
    func wireName(_ path: String) -> String {
        var p = Substring(path)
        while p.hasPrefix("/") { p = p.dropFirst() }
        return p.split(separator: "/", omittingEmptySubsequences: true)
            .map { names.wire(String($0)) }.joined(separator: "\\")
    }

}

private func decode<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ProtocolError { throw SMBError.malformed("\(what): \(e)") }
}

func timeAmount(_ d: Duration) -> TimeAmount {
    let c = d.components
    return .nanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
}
