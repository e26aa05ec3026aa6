import Logging
import NIOCore
import SMBCrypto
import SMBProtocol
import Synchronization

/// The connection, session and tree connect currently serving a share, with everything needed to
/// replace them when they fail (MS-SMB2 3.2.4.1.x reconnect, 3.2.4.3 reopen): the configuration
/// to redial and re-authenticate, and every open to reclaim.
///
/// Opens are known to the layers above by a client-side FileId that never changes; the server's
/// FileId behind it is re-created after a reconnect, by path, and only when the file is provably
/// the same one (its disk file id, MS-SMB2 2.2.14.2.9, or its creation time). Otherwise the open
/// is lost and every use of it fails, so data is never read from or written to another file.
final class ShareConnection: Sendable {
    /// One generation of connection + session + tree.
    struct Binding: Sendable {
        let connection: Connection
        let treeId: UInt32
        let generation: UInt64
        let negotiated: Negotiated
    }

    struct OpenRecord: Sendable {
        var path: String
        var access: AccessMask
        var options: CreateOptions
        var shareAccess: ShareAccess
        /// The disk file id the server gave (QFid), or the creation time, to recognise the file.
        var diskFileId: [UInt8]?
        var creationTime: FileTime
        var serverId: FileId
        var generation: UInt64
        var lost = false
    }

    struct State: Sendable {
        var binding: Binding?
        var generation: UInt64 = 0
        var reconnecting = false
        var waiters: [CheckedContinuation<Binding, Error>] = []
        var closed = false
        var opens: [FileId: OpenRecord] = [:]
        var nextOpen: UInt64 = 1
    }

    let config: ClientConfiguration
    let logger: Logger
    private let state: Mutex<State>

    /// Marks client-side FileIds (volatile part), so one never reaches the server by mistake.
    static let clientIdTag: UInt64 = 0x736D_6233_6673_0000

    init(config: ClientConfiguration, first: Binding) {
        self.config = config
        self.logger = first.connection.logger
        var s = State()
        s.binding = first
        s.generation = first.generation
        state = Mutex(s)
        watch(first)
    }

    /// Starts the reconnect as soon as a binding's connection fails, in flight or idle.
    private func watch(_ b: Binding) {
        b.connection.onFailure { [weak self] error in self?.failed(b, error) }
    }

    // MARK: - establishing

    /// Dial, NEGOTIATE, SESSION_SETUP, TREE_CONNECT. Any failure closes the new connection.
    static func establish(_ config: ClientConfiguration, generation: UInt64,
                          connectTimeout: Duration? = nil) async throws -> Binding {
        let conn = try await Connection.open(host: config.host, port: config.port,
                                             connectTimeout: timeAmount(connectTimeout ?? config.connectTimeout),
                                             requestTimeout: timeAmount(config.requestTimeout),
                                             logger: config.logger)
        do {
            let negotiated = try await Handshake.negotiate(conn, config: config, clientGuid: Random.bytes(16))
            _ = try await Handshake.sessionSetup(conn, negotiated: negotiated, config: config)
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
            let tc = try decodeOrThrow("TREE_CONNECT") { try TreeConnectResponse.decode(message: r.message) }
            if tc.shareFlags.contains(.encryptData) {
                throw SMBError.unsupported("share \"\(config.share)\" requires encryption, which smb3fs does not offer yet")
            }
            guard tc.shareType == ShareType.disk.rawValue else {
                throw SMBError.unsupported("\"\(config.share)\" is not a disk share")
            }
            return Binding(connection: conn, treeId: r.header.treeId, generation: generation, negotiated: negotiated)
        } catch {
            conn.close()
            throw error
        }
    }

    // MARK: - using

    /// Connected, as far as is known: a connection the server closed counts as down at once.
    var isConnected: Bool {
        guard let b = current else { return false }
        return !b.connection.isFailed
    }
    var current: Binding? { state.withLock { $0.binding } }

    /// The binding to send on: at once when connected; while reconnecting, `hard` waits for the
    /// new one and `soft` fails.
    func binding() async throws -> Binding {
        // A connection the server closed while idle: start the reconnect now, not on first use.
        if let b = current, b.connection.isFailed { failed(b, .connectionClosed("the server closed the connection")) }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Binding, Error>) in
            let r: Result<Binding, Error>? = state.withLock { s in
                if s.closed { return .failure(SMBError.connectionClosed("the share was disconnected")) }
                if let b = s.binding { return .success(b) }
                if !config.hard { return .failure(SMBError.connectionClosed("the server is unreachable (soft mount)")) }
                s.waiters.append(c)
                return nil
            }
            if let r { c.resume(with: r) }
        }
    }

    /// Runs `body` on the current binding; when the connection fails under it, starts a reconnect
    /// and (hard) runs it again on the new one.
    func perform<T: Sendable>(_ body: (Binding) async throws -> T) async throws -> T {
        while true {
            let b = try await binding()
            do {
                return try await body(b)
            } catch let e as SMBError where Self.endsBinding(e, b) {
                failed(b, e)
                if !config.hard { throw e }
            }
        }
    }

    /// A failure of the connection, session or tree rather than of the request.
    static func endsBinding(_ e: SMBError, _ b: Binding) -> Bool {
        switch e {
        case .connectionClosed, .timeout, .frameTooLarge: return true
        case .status(let s, _): return [.networkSessionExpired, .userSessionDeleted, .networkNameDeleted].contains(s)
        default: return b.connection.isFailed
        }
    }

    /// The binding ended: close it and start one reconnect (only once per generation).
    func failed(_ b: Binding, _ error: SMBError) {
        let start = state.withLock { s -> Bool in
            guard s.binding?.generation == b.generation else { return false }
            s.binding = nil
            if s.reconnecting || s.closed { return false }
            s.reconnecting = true
            return true
        }
        b.connection.close()
        guard start else { return }
        logger.info("disconnected", metadata: ["error": "\(error)"])
        Task { await self.reconnect(after: b.generation) }
    }

    /// TCP connect limit while redialing: the kernel resends a SYN after 1 s, so a 2 s attempt
    /// sees a link that returns during its first second; a new attempt covers the second.
    static let redialTimeout = Duration.seconds(2)

    private func reconnect(after generation: UInt64) async {
        let started = ContinuousClock.now
        var delay = Duration.milliseconds(100)
        var attempt = 0
        while !state.withLock({ $0.closed }) {
            attempt += 1
            let attemptStarted = ContinuousClock.now
            do {
                let b = try await Self.establish(config, generation: generation + 1,
                                                 connectTimeout: min(config.connectTimeout, Self.redialTimeout))
                watch(b)
                let (waiters, opens) = state.withLock { s -> ([CheckedContinuation<Binding, Error>], Int) in
                    s.binding = b
                    s.generation = b.generation
                    s.reconnecting = false
                    let w = s.waiters
                    s.waiters.removeAll()
                    return (w, s.opens.values.filter { !$0.lost }.count)
                }
                logger.info("reconnected", metadata: [
                    "attempts": "\(attempt)", "seconds": "\(ContinuousClock.now - started)", "opens": "\(opens)",
                ])
                for w in waiters { w.resume(returning: b) }
                await reclaimAll(on: b)
                return
            } catch {
                logger.info("reconnect attempt failed", metadata: [
                    "attempt": "\(attempt)", "error": "\(error)", "after": "\(ContinuousClock.now - started)",
                    "cancelled": "\(Task.isCancelled)",
                ])
                // Exponential backoff with jitter, at most 1 s between attempts. An attempt that
                // already waited out a connect timeout (a silent network) redials at once, so a
                // returning link is noticed within about a second.
                let jitter = Duration.milliseconds(Int.random(in: 0...100))
                let waited = ContinuousClock.now - attemptStarted
                try? await Task.sleep(for: waited >= Self.redialTimeout / 2 ? jitter : delay + jitter)
                delay = min(delay * 2, .seconds(1))
            }
        }
    }

    func close() {
        let (waiters, b) = state.withLock { s -> ([CheckedContinuation<Binding, Error>], Binding?) in
            s.closed = true
            let w = s.waiters
            s.waiters.removeAll()
            return (w, s.binding)
        }
        for w in waiters { w.resume(throwing: SMBError.connectionClosed("the share was disconnected")) }
        _ = b
    }

    // MARK: - opens

    func register(_ r: OpenRecord) -> FileId {
        state.withLock { s in
            let id = FileId(persistent: s.nextOpen, volatile: Self.clientIdTag)
            s.nextOpen += 1
            s.opens[id] = r
            return id
        }
    }

    /// Forgets an open (so a reconnect never reclaims it); returns the binding and server FileId
    /// to CLOSE when it is still open on the current connection.
    func unregister(_ id: FileId) -> (Binding, FileId)? {
        state.withLock { s in
            guard let r = s.opens.removeValue(forKey: id), !r.lost,
                  let b = s.binding, r.generation == b.generation else { return nil }
            return (b, r.serverId)
        }
    }

    /// The server's FileId of an open on binding `b`, reopening it first after a reconnect.
    func serverId(_ id: FileId, on b: Binding) async throws -> FileId {
        guard id.volatile == Self.clientIdTag else { return id }
        guard let r = state.withLock({ $0.opens[id] }) else {
            throw SMBError.status(.fileClosed, .create)
        }
        if r.lost { throw SMBError.connectionClosed("\(r.path) could not be reopened after a reconnect") }
        if r.generation == b.generation { return r.serverId }
        return try await reclaim(id, r, on: b)
    }

    private func reclaimAll(on b: Binding) async {
        let ids = state.withLock { s in s.opens.filter { !$0.value.lost && $0.value.generation != b.generation }.map(\.key) }
        var reclaimed = 0
        for id in ids {
            guard let r = state.withLock({ $0.opens[id] }), !r.lost, r.generation != b.generation else { continue }
            if (try? await reclaim(id, r, on: b)) != nil { reclaimed += 1 }
        }
        if !ids.isEmpty {
            logger.info("opens reclaimed", metadata: ["reclaimed": "\(reclaimed)", "of": "\(ids.count)"])
        }
    }

    /// Reopens by path (FILE_OPEN, never create) and keeps the new handle only if it is the same
    /// file; otherwise the open is lost.
    private func reclaim(_ id: FileId, _ r: OpenRecord, on b: Binding) async throws -> FileId {
        do {
            let (resp, disk) = try await Self.sendCreate(on: b, path: r.path, access: r.access, disposition: .open,
                                                         options: r.options, attributes: [], shareAccess: r.shareAccess,
                                                         names: NameMapping(enabled: config.mapPosixNames))
            let same = (r.diskFileId != nil && disk != nil) ? r.diskFileId == disk : r.creationTime == resp.basics.creationTime
            guard same else {
                _ = try? await b.connection.send(.close, body: CloseRequest(fileId: resp.fileId).encodeBody(), treeId: b.treeId)
                markLost(id, r.path, reason: "a different file now has that name")
                throw SMBError.connectionClosed("\(r.path) was replaced on the server while disconnected")
            }
            let current = state.withLock { s -> Bool in
                guard var rec = s.opens[id], !rec.lost else { return false }
                if rec.generation == b.generation { return false }     // reclaimed concurrently
                rec.serverId = resp.fileId
                rec.generation = b.generation
                s.opens[id] = rec
                return true
            }
            if !current {
                _ = try? await b.connection.send(.close, body: CloseRequest(fileId: resp.fileId).encodeBody(), treeId: b.treeId)
                guard let rec = state.withLock({ $0.opens[id] }), !rec.lost else {
                    throw SMBError.connectionClosed("\(r.path) could not be reopened")
                }
                return rec.serverId
            }
            return resp.fileId
        } catch let e as SMBError where !Self.endsBinding(e, b) {
            markLost(id, r.path, reason: "\(e)")
            throw SMBError.connectionClosed("\(r.path) could not be reopened after a reconnect: \(e)")
        }
    }

    private func markLost(_ id: FileId, _ path: String, reason: String) {
        state.withLock { $0.opens[id]?.lost = true }
        logger.warning("open file lost after reconnect", metadata: ["path": "\(path)", "reason": "\(reason)"])
    }

    /// "QFid": ask for the disk file id with every CREATE (MS-SMB2 2.2.13.2.9).
    static let qfid = Array("QFid".utf8)

    /// One CREATE on binding `b`; returns the response and the disk file id if the server sent one.
    static func sendCreate(on b: Binding, path: String, access: AccessMask, disposition: CreateDisposition,
                           options: CreateOptions, attributes: FileAttributes, shareAccess: ShareAccess,
                           names: NameMapping) async throws -> (CreateResponse, [UInt8]?) {
        var req = CreateRequest(name: wireName(path, names), desiredAccess: access)
        req.createDisposition = disposition
        req.createOptions = options
        req.fileAttributes = attributes
        req.shareAccess = shareAccess
        req.contexts = [CreateContext(name: qfid, data: [])]
        let r = try await b.connection.send(.create, body: req.encodeBody(), treeId: b.treeId)
        guard r.header.status == .success else { throw SMBError.status(r.header.status, .create) }
        let resp = try decodeOrThrow("CREATE") { try CreateResponse.decode(message: r.message) }
        let disk = resp.contexts.first { $0.name == qfid }.map { Array($0.data.prefix(32)) }
        return (resp, disk)
    }

    /// "a/b/c" → "a\b\c" (MS-SMB2 2.2.13: names are relative, backslash-separated), each
    /// component through the name mapping. Every path sent goes through here.
    static func wireName(_ path: String, _ names: NameMapping) -> String {
        var p = Substring(path)
        while p.hasPrefix("/") { p = p.dropFirst() }
        return p.split(separator: "/", omittingEmptySubsequences: true)
            .map { names.wire(String($0)) }.joined(separator: "\\")
    }
}

func decodeOrThrow<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ProtocolError { throw SMBError.malformed("\(what): \(e)") }
}
