import Locking
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
        let sessionId: UInt64
        let treeId: UInt32
        let generation: UInt64
        let negotiated: Negotiated
        /// The share is in a DFS namespace (SMB2_SHARE_CAP_DFS, MS-SMB2 2.2.10): paths below it
        /// may be links, answered with STATUS_PATH_NOT_COVERED (MS-DFSC 3.1.5.1).
        var inDFS: Bool { dfsPrefix != nil }
        /// "server\share", which CREATE names on a DFS share start with (MS-SMB2 2.2.13
        /// NameOffset, 3.2.4.3: with SMB2_FLAGS_DFS_OPERATIONS the name is normalized by the
        /// server's DFS code, MS-DFSC 3.2.4.1); nil elsewhere.
        var dfsPrefix: String?

        /// A CREATE's wire name as this tree needs it: prefixed on a DFS share (Windows names
        /// only: a POSIX path is the share's own).
        func createName(_ name: String, posix: Bool) -> String {
            ShareConnection.createName(name, prefix: dfsPrefix, posix: posix)
        }
        /// Extra connections bound to this session (multichannel).
        let channels = Channels()

        /// The connection for one bulk request: the channels in turn.
        func ioConnection() -> Connection { channels.pick(primary: connection) }
    }

    /// What a durable open (MS-SMB2 3.2.4.3.3) needs to be reclaimed with DH2C: its CreateGuid
    /// and the lease that makes it durable (Samba grants durability only with a handle lease).
    struct Durable: Sendable {
        var createGuid: [UInt8]
        var leaseKey: [UInt8]
        var leaseState: LeaseState
        /// The server granted durability (a DH2Q response came back).
        var granted = false

        /// A fresh request: RWH for an open that writes, RH otherwise (2.2.13.2.8), under the
        /// lease `key` the file already has here, or a new one.
        static func request(writing: Bool, leaseKey key: [UInt8]? = nil) -> Durable {
            Durable(createGuid: Random.bytes(16), leaseKey: key ?? Random.bytes(16),
                    leaseState: writing ? [.readCaching, .handleCaching, .writeCaching] : [.readCaching, .handleCaching])
        }
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
        var durable: Durable?
        /// Byte-range locks held through this open, taken again when it is reopened by path.
        var locks: [LockElement] = []
        /// The lease key this open counts under in `State.leaseKeys` (fixed at register).
        var indexedKey: [UInt8]?
    }

    /// The lease key the live opens of one path share, and how many there are.
    struct LeaseUse: Sendable {
        var key: [UInt8]
        var opens: Int
    }

    struct State: Sendable {
        var binding: Binding?
        var generation: UInt64 = 0
        var reconnecting = false
        var waiters: [CheckedContinuation<Binding, Error>] = []
        /// Soft mounts: requests that came while reconnecting, waiting for the outcome of an
        /// attempt that started after they came (`after`: attempts begun by then).
        var softWaiters: [UInt64: (after: UInt64, c: CheckedContinuation<Binding, Error>)] = [:]
        var nextWaiter: UInt64 = 0
        /// Reconnect attempts begun in this outage.
        var attempts: UInt64 = 0
        /// The reconnect loop's pause between attempts, cut short by a soft request.
        var pause: (id: UInt64, c: CheckedContinuation<Void, Never>)?
        var closed = false
        var opens: [FileId: OpenRecord] = [:]
        var nextOpen: UInt64 = 1
        /// One lease key per file while it is open here (MS-SMB2 3.2.4.3.8: opens of one file
        /// under one key share one lease, so this client's own opens never break each other's).
        var leaseKeys: [String: LeaseUse] = [:]
        var reclaims = ReclaimCounts()
        var reclaiming: [FileId: (generation: UInt64, task: Task<FileId, Error>)] = [:]
        /// Re-authentications of the session that succeeded; a request that saw the session
        /// expire before the latest one just runs again.
        var authEpoch: UInt64 = 0
        /// The re-authentication in progress, which every expired request waits for.
        var reauth: (generation: UInt64, task: Task<Void, Error>)?
        /// When the last reconnect succeeded, and the last error that ended a connection.
        var lastReconnect: ContinuousClock.Instant?
        var lastError: (error: String, at: ContinuousClock.Instant)?
    }

    /// How reconnects went for the opens, for logs and tests.
    struct ReclaimCounts: Sendable, Equatable {
        var durable = 0
        var byPath = 0
        var lost = 0
    }

    var reclaimCounts: ReclaimCounts { state.withLock { $0.reclaims } }

    /// The parts of the state `Share.status` reports.
    var snapshot: (generation: UInt64, reconnecting: Bool, lastReconnect: ContinuousClock.Instant?,
                   lastError: (error: String, at: ContinuousClock.Instant)?, opens: Int, durable: Int) {
        state.withLock { s in
            let live = s.opens.values.filter { !$0.lost }
            return (s.generation, s.reconnecting, s.lastReconnect, s.lastError, live.count, live.filter { $0.durable != nil }.count)
        }
    }

    let config: ClientConfiguration
    let logger: Logger
    /// One ClientGuid for the life of the mount: durable opens and leases belong to it
    /// (MS-SMB2 3.3.5.9.12 checks it on reconnect).
    let clientGuid: [UInt8]
    /// How paths go on the wire, fixed at the first NEGOTIATE: POSIX opens when the server
    /// offered the extensions and the mount asked for them, else Windows names (NameMapping).
    let names: NameMapping
    private let state: Locked<State>

    /// Marks client-side FileIds (volatile part), so one never reaches the server by mistake;
    /// each connection to a share has a tag of its own (a DFS namespace's links are several),
    /// which tells whose open a FileId is.
    static let clientIdTag: UInt64 = 0x736D_6233_6673_0000
    private static let tagsGiven = Atomic<UInt64>(0)
    let idTag: UInt64

    init(config: ClientConfiguration, clientGuid: [UInt8], first: Binding) {
        idTag = Self.clientIdTag + Self.tagsGiven.wrappingAdd(1, ordering: .relaxed).oldValue
        self.config = config
        self.clientGuid = clientGuid
        self.logger = first.connection.logger
        names = NameMapping(enabled: config.mapPosixNames,
                            posixPaths: config.posixExtensions && first.negotiated.response.posixExtensions)
        var s = State()
        s.binding = first
        s.generation = first.generation
        state = Locked(s)
        watch(first)
        startChannels(first)
    }

    /// Starts the reconnect as soon as a binding's connection fails, in flight or idle, and
    /// answers the lease breaks that arrive on it.
    private func watch(_ b: Binding) {
        b.connection.onFailure { [weak self] error in self?.failed(b, error) }
        b.connection.onBreak { [weak self] _, message in self?.leaseBreak(message, on: b) }
    }

    /// Told of every lease break, with the opens under that lease and the state it breaks to;
    /// returns once what was cached beyond that state is written back and dropped.
    typealias BreakHandler = @Sendable ([FileId], LeaseState) async -> Void
    private let breakHandler = Locked<BreakHandler?>(nil)
    func onLeaseBreak(_ h: @escaping BreakHandler) { breakHandler.withLock { $0 = h } }

    /// MS-SMB2 3.2.5.19.2: the layer above writes back what it holds beyond the new state
    /// (writes behind) and drops what it may no longer trust (cached pages), then the break is
    /// acknowledged with the state offered.
    private func leaseBreak(_ message: [UInt8], on b: Binding) {
        guard LeaseBreakNotification.isLeaseBreak(message: message) else {
            logger.debug("oplock break ignored (this client requests leases only)")
            return
        }
        guard let n = try? LeaseBreakNotification.decode(message: message) else {
            logger.warning("malformed lease break notification ignored")
            return
        }
        let ids = state.withLock { s -> [FileId] in
            var ids: [FileId] = []
            for (id, r) in s.opens where r.durable?.leaseKey == n.leaseKey {
                s.opens[id]?.durable?.leaseState = n.newState
                ids.append(id)
            }
            return ids
        }
        logger.debug("lease break", metadata: ["from": "\(n.currentState)", "to": "\(n.newState)",
                                               "ack": "\(n.needsAcknowledgment)"])
        let handler = breakHandler.withLock { $0 }
        let ack = LeaseBreakAcknowledgment(leaseKey: n.leaseKey, state: n.newState)
        Task {
            if let handler, !ids.isEmpty { await handler(ids, n.newState) }
            guard n.needsAcknowledgment else { return }
            do {
                let r = try await b.connection.send(.oplockBreak, body: ack.encodeBody(), treeId: b.treeId)
                if r.header.status != .success {
                    self.logger.debug("lease break acknowledgment refused", metadata: ["status": "\(r.header.status)"])
                }
            } catch {
                self.logger.debug("lease break acknowledgment not sent: \(error)")
            }
        }
    }

    // MARK: - establishing

    /// Dial, NEGOTIATE, SESSION_SETUP, TREE_CONNECT. Any failure closes the new connection.
    static func establish(_ config: ClientConfiguration, clientGuid: [UInt8], generation: UInt64,
                          previousSessionId: UInt64 = 0, connectTimeout: Duration? = nil) async throws -> Binding {
        let conn = try await Connection.dial(config, connectTimeout: connectTimeout)
        do {
            let negotiated: Negotiated
            do {
                negotiated = try await Handshake.negotiate(conn, config: config, clientGuid: clientGuid)
            } catch SMBError.connectionClosed(let why) {
                // Closed without an answer: an SMB1-only server does that to an SMB2 NEGOTIATE.
                if await Handshake.serverSpeaksOnlySMB1(config) { throw SMBError.smb1Response }
                throw SMBError.connectionClosed(why)
            }
            let sessionId = try await Handshake.sessionSetup(conn, negotiated: negotiated, config: config,
                                                             previousSessionId: previousSessionId)
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
            // A share flagged encrypt-data is used only encrypted (MS-SMB2 3.2.5.5), `seal` or not.
            if tc.shareFlags.contains(.encryptData) && !conn.isEncrypting {
                guard conn.encryptFromNowOn() else {
                    throw SMBError.securityPolicy("share \"\(config.share)\" requires encryption, which this session cannot provide"
                                                  + " (dialect \(negotiated.dialect))")
                }
                conn.logger.info("share requires encryption; encrypting from now on")
            }
            // IPC$ (named pipes) only when it is what was asked for: share listing.
            let wanted: ShareType = config.share.uppercased() == "IPC$" ? .pipe : .disk
            guard tc.shareType == wanted.rawValue else {
                throw SMBError.unsupported("\"\(config.share)\" is not a disk share")
            }
            try await Handshake.validateNegotiate(conn, negotiated: negotiated, treeId: r.header.treeId)
            var b = Binding(connection: conn, sessionId: sessionId, treeId: r.header.treeId, generation: generation,
                            negotiated: negotiated)
            if tc.capabilities & TreeConnectResponse.SMB2_SHARE_CAP_DFS != 0 {
                b.dfsPrefix = config.host + "\\" + config.share
                conn.markDFSTree(r.header.treeId)
            }
            return b
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
    func record(_ id: FileId) -> OpenRecord? { state.withLock { $0.opens[id] } }
    /// For tests: changes what a reconnect will present for an open.
    func tamperDurable(_ id: FileId, _ change: (inout Durable) -> Void) {
        state.withLock { s in if var d = s.opens[id]?.durable { change(&d); s.opens[id]?.durable = d } }
    }

    /// The binding to send on: at once when connected; while reconnecting, `hard` waits for the
    /// new one, and `soft` for the outcome of the next attempt, made at once (not after the
    /// backoff), so the first request after the server is back succeeds; it fails when that
    /// attempt fails, or after `softWait`.
    func binding() async throws -> Binding {
        // A connection the server closed while idle: start the reconnect now, not on first use.
        if let b = current, b.connection.isFailed { failed(b, .connectionClosed("the server closed the connection")) }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Binding, Error>) in
            var waiter: UInt64?
            var pause: CheckedContinuation<Void, Never>?
            let r: Result<Binding, Error>? = state.withLock { s in
                if s.closed { return .failure(SMBError.connectionClosed("the share was disconnected")) }
                if let b = s.binding { return .success(b) }
                if config.hard {
                    s.waiters.append(c)
                    return nil
                }
                guard s.reconnecting else { return .failure(Self.unreachable) }
                s.nextWaiter += 1
                s.softWaiters[s.nextWaiter] = (s.attempts, c)
                waiter = s.nextWaiter
                pause = s.pause?.c
                s.pause = nil
                return nil
            }
            if let r { return c.resume(with: r) }
            pause?.resume()
            if let waiter {
                Task {
                    try? await Task.sleep(for: self.softWait)
                    let late = self.state.withLock { $0.softWaiters.removeValue(forKey: waiter) }
                    late?.c.resume(throwing: Self.unreachable)
                }
            }
        }
    }

    static let unreachable = SMBError.connectionClosed("the server is unreachable (soft mount)")

    /// How long a soft request waits for a reconnect: one redial and the handshake after it.
    var softWait: Duration { min(config.connectTimeout, Self.redialTimeout) + .seconds(3) }

    /// Runs `body` on the current binding; when the connection fails under it, starts a reconnect
    /// and (hard) runs it again on the new one.
    func perform<T: Sendable>(_ body: (Binding) async throws -> T) async throws -> T {
        var reauthenticated = false
        while true {
            let b = try await binding()
            let epoch = state.withLock { $0.authEpoch }
            do {
                return try await body(b)
            } catch let e as SMBError where !reauthenticated && e.ntStatus == .networkSessionExpired {
                // MS-SMB2 3.2.5.1.6: the session is authenticated again and the request retried;
                // a second expiry of the same request ends the session (a new one is made).
                try await reauthenticate(b, seen: epoch)
                reauthenticated = true
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
        // A response that fails its protection is never retried into success: the request fails
        // (the connection, if it ended, is replaced for later requests by its failure handler).
        case .signatureInvalid, .notEncrypted, .decryptionFailed: return false
        default: return b.connection.isFailed
        }
    }

    /// One SESSION_SETUP on the session's own connection and SessionId (MS-SMB2 3.2.4.2.3.1),
    /// shared by every request that saw the expiry; those that saw it before the last one
    /// succeeded just retry. A failure (no ticket to renew from) fails the waiting requests;
    /// the next request tries again. A lost connection ends the binding as usual.
    private func reauthenticate(_ b: Binding, seen epoch: UInt64) async throws {
        let config = config
        let task = state.withLock { s -> Task<Void, Error>? in
            guard s.authEpoch == epoch else { return nil }
            if let r = s.reauth, r.generation == b.generation { return r.task }
            let t = Task {
                do {
                    _ = try await Handshake.sessionSetup(b.connection, negotiated: b.negotiated, config: config,
                                                         reauthenticating: b.sessionId)
                    self.state.withLock { $0.authEpoch += 1; $0.reauth = nil }
                } catch {
                    self.state.withLock { $0.reauth = nil }
                    self.logger.warning("re-authentication failed", metadata: ["error": "\(error)"])
                    throw error
                }
            }
            s.reauth = (b.generation, t)
            return t
        }
        do {
            try await task?.value
        } catch let e as SMBError where Self.endsBinding(e, b) {
            failed(b, e)
            if !config.hard { throw e }
        }
    }

    /// The binding ended: close it and start one reconnect (only once per generation).
    func failed(_ b: Binding, _ error: SMBError) {
        let start = state.withLock { s -> Bool in
            guard s.binding?.generation == b.generation else { return false }
            s.binding = nil
            s.lastError = ("\(error)", .now)
            if s.reconnecting || s.closed { return false }
            s.reconnecting = true
            return true
        }
        b.connection.close()
        b.channels.closeAll()
        guard start else { return }
        logger.info("disconnected", metadata: ["error": "\(error)"])
        Task { await self.reconnect(after: b) }
    }

    /// TCP connect limit while redialing: the kernel resends a SYN after 1 s, so a 2 s attempt
    /// sees a link that returns during its first second; a new attempt covers the second.
    static let redialTimeout = Duration.seconds(2)

    private func reconnect(after old: Binding) async {
        let generation = old.generation
        let started = ContinuousClock.now
        var delay = Duration.milliseconds(100)
        var attempt = 0
        state.withLock { $0.attempts = 0 }
        while !state.withLock({ $0.closed }) {
            attempt += 1
            let attemptStarted = ContinuousClock.now
            state.withLock { $0.attempts = UInt64(attempt) }
            do {
                let b = try await Self.establish(config, clientGuid: clientGuid, generation: generation + 1,
                                                 previousSessionId: old.sessionId,
                                                 connectTimeout: min(config.connectTimeout, Self.redialTimeout))
                watch(b)
                let (waiters, opens) = state.withLock { s -> ([CheckedContinuation<Binding, Error>], Int) in
                    s.binding = b
                    s.generation = b.generation
                    s.reconnecting = false
                    s.lastReconnect = .now
                    let w = s.waiters + s.softWaiters.values.map(\.c)
                    s.waiters.removeAll()
                    s.softWaiters.removeAll()
                    return (w, s.opens.values.filter { !$0.lost }.count)
                }
                logger.info("reconnected", metadata: [
                    "attempts": "\(attempt)", "seconds": "\(ContinuousClock.now - started)", "opens": "\(opens)",
                ])
                for w in waiters { w.resume(returning: b) }
                startChannels(b)
                await reclaimAll(on: b)
                return
            } catch {
                logger.info("reconnect attempt failed", metadata: [
                    "attempt": "\(attempt)", "error": "\(error)", "after": "\(ContinuousClock.now - started)",
                    "cancelled": "\(Task.isCancelled)",
                ])
                // Soft requests that came before this attempt began fail with it; those that
                // came during it are owed an attempt of their own: made at once.
                let (failing, owed) = state.withLock { s -> ([CheckedContinuation<Binding, Error>], Bool) in
                    let done = s.softWaiters.filter { $0.value.after < UInt64(attempt) }
                    for k in done.keys { s.softWaiters[k] = nil }
                    return (done.values.map(\.c), !s.softWaiters.isEmpty)
                }
                for c in failing { c.resume(throwing: Self.unreachable) }
                if owed { continue }
                // Exponential backoff with jitter, at most 1 s between attempts. An attempt that
                // already waited out a connect timeout (a silent network) redials at once, so a
                // returning link is noticed within about a second.
                let jitter = Duration.milliseconds(Int.random(in: 0...100))
                let waited = ContinuousClock.now - attemptStarted
                await pause(for: waited >= Self.redialTimeout / 2 ? jitter : delay + jitter)
                delay = min(delay * 2, .seconds(1))
            }
        }
    }

    /// The backoff between reconnect attempts; a soft request ends it early (`binding`).
    private func pause(for d: Duration) async {
        let id = state.withLock { s -> UInt64 in s.nextWaiter += 1; return s.nextWaiter }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let owed = state.withLock { s -> Bool in
                if !s.softWaiters.isEmpty || s.closed { return true }
                s.pause = (id, c)
                return false
            }
            if owed { return c.resume() }
            Task {
                try? await Task.sleep(for: d)
                let c = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                    guard let p = s.pause, p.id == id else { return nil }
                    s.pause = nil
                    return p.c
                }
                c?.resume()
            }
        }
    }

    func close() {
        let (waiters, b, pause) = state.withLock { s -> ([CheckedContinuation<Binding, Error>], Binding?, CheckedContinuation<Void, Never>?) in
            s.closed = true
            let w = s.waiters + s.softWaiters.values.map(\.c)
            s.waiters.removeAll()
            s.softWaiters.removeAll()
            let p = s.pause?.c
            s.pause = nil
            return (w, s.binding, p)
        }
        for w in waiters { w.resume(throwing: SMBError.connectionClosed("the share was disconnected")) }
        pause?.resume()
        _ = b
    }

    // MARK: - channels

    /// A connection failure that ends one channel (not the session).
    static func endsChannel(_ e: SMBError, _ c: Connection) -> Bool {
        switch e {
        case .connectionClosed, .timeout, .frameTooLarge: return true
        case .signatureInvalid, .notEncrypted, .decryptionFailed: return false
        default: return c.isFailed
        }
    }

    /// Binds up to `maxChannels - 1` more connections to the session when the server offers
    /// multichannel (dialect 3.x, signed session), in the background.
    private func startChannels(_ b: Binding) {
        guard config.maxChannels > 1, b.negotiated.dialect.isSMB3,
              b.negotiated.response.capabilities.contains(.multiChannel),
              b.connection.sessionSigner != nil else { return }
        Task {
            for i in 1..<config.maxChannels {
                guard await addChannel(to: b, number: i) else { break }
            }
            if isCurrent(b) { logger.info("multichannel", metadata: ["channels": "\(b.channels.count + 1)"]) }
        }
    }

    /// NEGOTIATE + binding SESSION_SETUP on a new connection (MS-SMB2 3.2.4.2.3, 3.2.5.3.3).
    /// `b` still serves the share: not replaced, failed or closed.
    private func isCurrent(_ b: Binding) -> Bool {
        state.withLock { !$0.closed && $0.binding?.generation == b.generation } && !b.connection.isFailed
    }

    private func addChannel(to b: Binding, number: Int) async -> Bool {
        guard isCurrent(b), let signer = b.connection.sessionSigner else { return false }
        var log = config.logger
        log[metadataKey: "channel"] = "\(number)"
        do {
            let conn = try await Connection.dial(config, logger: log)
            do {
                let n = try await Handshake.negotiate(conn, config: config, clientGuid: clientGuid, like: b.negotiated)
                guard n.dialect == b.negotiated.dialect, n.signingAlgorithm == b.negotiated.signingAlgorithm,
                      n.cipher == b.negotiated.cipher,
                      n.response.capabilities.contains(.multiChannel) else {
                    throw SMBError.unsupported("the server did not offer multichannel on the new connection")
                }
                _ = try await Handshake.sessionSetup(conn, negotiated: n, config: config,
                                                     binding: (b.sessionId, signer, b.connection.sessionCipher,
                                                               b.connection.isEncrypting))
                guard b.channels.add(conn) else { conn.close(); return false }
                conn.onBreak { [weak self] _, message in self?.leaseBreak(message, on: b) }
                conn.onFailure { [weak self] error in
                    b.channels.remove(conn)
                    self?.channelFailed(b, number: number, error)
                }
                return true
            } catch {
                conn.close()
                throw error
            }
        } catch {
            if isCurrent(b) {
                logger.warning("additional channel not established", metadata: ["channel": "\(number)", "error": "\(error)"])
            }
            return false
        }
    }

    /// A channel died: replace it after a pause, while its session is still the current one.
    private func channelFailed(_ b: Binding, number: Int, _ error: SMBError) {
        guard isCurrent(b) else { return }
        logger.info("channel lost", metadata: ["channel": "\(number)", "error": "\(error)"])
        Task {
            try? await Task.sleep(for: .seconds(1))
            guard self.isCurrent(b) else { return }
            if await self.addChannel(to: b, number: number) {
                self.logger.info("channel replaced", metadata: ["channel": "\(number)"])
            }
        }
    }

    // MARK: - opens

    /// Records an open. One that holds a lease makes its key the one later opens of the path
    /// use; `replacing` a key the server refused for the path (the file under it was renamed or
    /// replaced while open here).
    func register(_ r: OpenRecord, replacing: Bool = false) -> FileId {
        state.withLock { s in
            let id = FileId(persistent: s.nextOpen, volatile: idTag)
            s.nextOpen += 1
            var r = r
            if let key = r.durable?.leaseKey {
                if var use = s.leaseKeys[r.path], use.key == key {
                    use.opens += 1
                    s.leaseKeys[r.path] = use
                    r.indexedKey = key
                } else if s.leaseKeys[r.path] == nil || replacing {
                    s.leaseKeys[r.path] = LeaseUse(key: key, opens: 1)
                    r.indexedKey = key
                }
            }
            s.opens[id] = r
            return id
        }
    }

    /// The lease key of the file at `path` while this client has it open with a lease.
    func leaseKey(for path: String) -> [UInt8]? {
        state.withLock { $0.leaseKeys[path]?.key }
    }

    /// Forgets an open (so a reconnect never reclaims it); returns the binding and server FileId
    /// to CLOSE when it is still open on the current connection.
    func unregister(_ id: FileId) -> (Binding, FileId)? {
        state.withLock { s in
            guard let r = s.opens.removeValue(forKey: id) else { return nil }
            if let key = r.indexedKey, var use = s.leaseKeys[r.path], use.key == key {
                use.opens -= 1
                s.leaseKeys[r.path] = use.opens > 0 ? use : nil
            }
            guard !r.lost, let b = s.binding, r.generation == b.generation else { return nil }
            return (b, r.serverId)
        }
    }

    /// The server's FileId of an open on binding `b`, reopening it first after a reconnect.
    func serverId(_ id: FileId, on b: Binding) async throws -> FileId {
        guard id.volatile == idTag else {
            // Another connection's open (a DFS link's) never goes to this server.
            if id.volatile & ~0xFFFF == Self.clientIdTag { throw SMBError.status(.fileClosed, .create) }
            return id
        }
        guard let r = state.withLock({ $0.opens[id] }) else {
            throw SMBError.status(.fileClosed, .create)
        }
        if r.lost { throw SMBError.openLost("\(r.path) could not be reopened after a reconnect") }
        if r.generation == b.generation { return r.serverId }
        return try await reclaimOnce(id, on: b)
    }

    /// One reclaim per open and binding, however many requests need it at once: a second
    /// DH2C for an open the first one already reclaimed would fail.
    private func reclaimOnce(_ id: FileId, on b: Binding) async throws -> FileId {
        let task = state.withLock { s -> Task<FileId, Error>? in
            if let t = s.reclaiming[id], t.generation == b.generation { return t.task }
            guard let r = s.opens[id], !r.lost, r.generation != b.generation else { return nil }
            let t = Task { try await self.reclaim(id, r, on: b) }
            s.reclaiming[id] = (b.generation, t)
            return t
        }
        guard let task else {
            guard let r = state.withLock({ $0.opens[id] }), !r.lost, r.generation == b.generation else {
                throw SMBError.openLost("the file could not be reopened after a reconnect")
            }
            return r.serverId
        }
        defer { state.withLock { s in if s.reclaiming[id]?.generation == b.generation { s.reclaiming[id] = nil } } }
        return try await task.value
    }

    private func reclaimAll(on b: Binding) async {
        let ids = state.withLock { s in s.opens.filter { !$0.value.lost && $0.value.generation != b.generation }.map(\.key) }
        var reclaimed = 0
        for id in ids {
            guard let r = state.withLock({ $0.opens[id] }), !r.lost, r.generation != b.generation else { continue }
            if (try? await reclaimOnce(id, on: b)) != nil { reclaimed += 1 }
        }
        if !ids.isEmpty {
            logger.info("opens reclaimed", metadata: ["reclaimed": "\(reclaimed)", "of": "\(ids.count)"])
        }
    }

    /// Reclaims an open on binding `b`: a durable one with DH2C (the server hands back the very
    /// same open, with its locks), otherwise, or when that fails, by path (FILE_OPEN, never
    /// create), kept only if it is the same file and its byte-range locks can be taken again.
    private func reclaim(_ id: FileId, _ r: OpenRecord, on b: Binding) async throws -> FileId {
        do {
            if let d = r.durable, d.granted, let fid = try await reconnectDurable(r, d, on: b) {
                let sid = try adopt(id, fid, durable: r.durable, on: b)
                state.withLock { $0.reclaims.durable += 1 }
                return sid
            }
            // The old lease ended with the session; its key stays the file's, shared with the
            // other opens of the file reclaimed the same way.
            var fresh = r.durable.map { Durable.request(writing: r.access.contains(.writeData), leaseKey: $0.leaseKey) }
            let (resp, disk, granted) = try await Self.sendCreate(on: b, path: r.path, access: r.access, disposition: .open,
                                                                  options: r.options, attributes: [], shareAccess: r.shareAccess,
                                                                  names: names,
                                                                  durable: fresh)
            fresh = granted
            let same = (r.diskFileId != nil && disk != nil) ? r.diskFileId == disk : r.creationTime == resp.basics.creationTime
            guard same else {
                await Self.closeQuietly(resp.fileId, on: b)
                markLost(id, r.path, reason: "a different file now has that name")
                throw SMBError.openLost("\(r.path) was replaced on the server while disconnected")
            }
            for l in r.locks {
                var element = l
                element.flags.insert(.failImmediately)
                let req = try? LockRequest(fileId: resp.fileId, locks: [element]).encodeBody()
                let lr = try await b.connection.send(.lock, body: req ?? [], treeId: b.treeId)
                guard lr.header.status == .success else {
                    await Self.closeQuietly(resp.fileId, on: b)
                    markLost(id, r.path, reason: "its byte-range lock at \(l.offset) is now held by another client")
                    throw SMBError.openLost("\(r.path): a byte-range lock was lost while disconnected")
                }
            }
            let sid = try adopt(id, resp.fileId, durable: fresh, on: b)
            state.withLock { $0.reclaims.byPath += 1 }
            return sid
        } catch let e as SMBError where !Self.endsBinding(e, b) {
            if case .openLost = e { throw e }
            markLost(id, r.path, reason: "\(e)")
            throw SMBError.openLost("\(r.path) could not be reopened after a reconnect: \(e)")
        } catch let e as Reclaimed {
            return e.serverId
        }
    }

    /// DH2C with the open's CreateGuid and lease (MS-SMB2 3.2.4.4); nil when the server no
    /// longer has it (e.g. its process was killed), so the open is reclaimed by path instead.
    private func reconnectDurable(_ r: OpenRecord, _ d: Durable, on b: Binding) async throws -> FileId? {
        var req = CreateRequest(name: b.createName(Self.wireName(r.path, names), posix: names.posixPaths), desiredAccess: r.access)
        req.createDisposition = .open
        req.createOptions = r.options
        req.shareAccess = r.shareAccess
        req.requestedOplockLevel = OplockLevel.lease
        req.contexts = [DurableHandleReconnectV2(fileId: r.serverId, createGuid: d.createGuid).encode(),
                        LeaseContext(key: d.leaseKey, state: d.leaseState).encodeV2()]
        if names.posixPaths { Share.makePosix(&req) }
        let resp = try await b.connection.send(.create, body: req.encodeBody(), treeId: b.treeId)
        guard resp.header.status == .success else {
            logger.info("durable handle not reclaimed; reopening by path",
                        metadata: ["path": "\(r.path)", "status": "\(resp.header.status)"])
            return nil
        }
        let c = try decodeOrThrow("CREATE") { try CreateResponse.decode(message: resp.message) }
        logger.debug("durable handle reclaimed", metadata: ["path": "\(r.path)"])
        return c.fileId
    }

    /// Thrown inside `reclaim` when another task reclaimed the same open first.
    private struct Reclaimed: Error { let serverId: FileId }

    /// Records the server's FileId of a reclaimed open on binding `b`. If another task got there
    /// first, this handle is closed and theirs is used.
    private func adopt(_ id: FileId, _ serverId: FileId, durable: Durable?, on b: Binding) throws -> FileId {
        let current = state.withLock { s -> Bool in
            guard var rec = s.opens[id], !rec.lost else { return false }
            if rec.generation == b.generation { return false }     // reclaimed concurrently
            rec.serverId = serverId
            rec.generation = b.generation
            rec.durable = durable
            s.opens[id] = rec
            return true
        }
        if current { return serverId }
        Task { await Self.closeQuietly(serverId, on: b) }
        guard let rec = state.withLock({ $0.opens[id] }), !rec.lost else {
            throw SMBError.openLost("the file could not be reopened")
        }
        throw Reclaimed(serverId: rec.serverId)
    }

    static func closeQuietly(_ fid: FileId, on b: Binding) async {
        _ = try? await b.connection.send(.close, body: CloseRequest(fileId: fid).encodeBody(), treeId: b.treeId)
    }

    private func markLost(_ id: FileId, _ path: String, reason: String) {
        state.withLock { $0.opens[id]?.lost = true; $0.reclaims.lost += 1 }
        logger.warning("open file lost after reconnect", metadata: ["path": "\(path)", "reason": "\(reason)"])
    }

    /// Byte-range locks taken (or released) through an open, for reopening by path.
    func noteLock(_ id: FileId, _ element: LockElement) {
        state.withLock { s in
            guard s.opens[id] != nil else { return }
            if element.flags.contains(.unlock) {
                if let i = s.opens[id]!.locks.firstIndex(where: { $0.offset == element.offset && $0.length == element.length }) {
                    s.opens[id]!.locks.remove(at: i)
                }
            } else {
                var held = element
                held.flags.remove(.failImmediately)
                s.opens[id]!.locks.append(held)
            }
        }
    }

    /// "QFid": ask for the disk file id with every CREATE (MS-SMB2 2.2.13.2.9).
    static let qfid = CreateResponse.queryOnDiskIdName

    /// One CREATE on binding `b`; returns the response, the disk file id if the server sent one,
    /// and, when `durable` asked for a durable open with a lease (dialect 3.x only), what the
    /// server granted (nil when it granted no lease).
    static func sendCreate(on b: Binding, path: String, access: AccessMask, disposition: CreateDisposition,
                           options: CreateOptions, attributes: FileAttributes, shareAccess: ShareAccess,
                           names: NameMapping?, durable: Durable? = nil,
                           contexts: [CreateContext] = []) async throws -> (CreateResponse, [UInt8]?, Durable?) {
        let (resp, disk, granted, _) = try await sendCreate(
            on: b, path: path, access: access, disposition: disposition, options: options, attributes: attributes,
            shareAccess: shareAccess, names: names, durable: durable, contexts: contexts, firstRead: 0)
        return (resp, disk, granted)
    }

    /// As above; with `firstRead` above 0 the CREATE and a READ of the file's first `firstRead`
    /// bytes go as one related compound (MS-SMB2 3.2.4.1.4), so opening a small file and
    /// reading it cost one round trip. The bytes come back when the READ succeeded (none at the
    /// end of file); a READ that failed costs nothing more: the open stands, and is returned.
    static func sendCreate(on b: Binding, path: String, access: AccessMask, disposition: CreateDisposition,
                           options: CreateOptions, attributes: FileAttributes, shareAccess: ShareAccess,
                           names: NameMapping?, durable: Durable?, contexts: [CreateContext],
                           firstRead: Int) async throws -> (CreateResponse, [UInt8]?, Durable?, ArraySlice<UInt8>?) {
        // nil `names`: a POSIX open, whose path keeps "/" as its separator.
        var req = CreateRequest(name: names.map { b.createName(wireName(path, $0), posix: $0.posixPaths) } ?? path,
                                desiredAccess: access)
        req.createDisposition = disposition
        req.createOptions = options
        req.fileAttributes = attributes
        req.shareAccess = shareAccess
        req.contexts = [CreateContext(name: qfid, data: [])] + contexts
        if names?.posixPaths ?? true { Share.makePosix(&req) }
        let wantDurable = durable != nil && b.negotiated.dialect.isSMB3
        if let durable, wantDurable {
            req.requestedOplockLevel = OplockLevel.lease
            req.contexts += [LeaseContext(key: durable.leaseKey, state: durable.leaseState).encodeV2(),
                             DurableHandleRequestV2(createGuid: durable.createGuid).encode()]
        }
        let r: Response
        var head: ArraySlice<UInt8>?
        if firstRead > 0 {
            let read = ReadRequest(fileId: .related, offset: 0, length: UInt32(firstRead)).encodeBody()
            let rs = try await b.connection.sendCompound([(.create, req.encodeBody()), (.read, read)],
                                                         charges: [1, (firstRead - 1) / 65536 + 1], treeId: b.treeId)
            r = rs[0]
            let answer = rs[1]
            if answer.header.status == .endOfFile {
                head = []
            } else if answer.header.status == .success,
                      let rr = try? ReadResponse.decode(message: answer.message, requested: UInt32(firstRead)) {
                head = answer.message[rr.dataRange]
            }
        } else {
            r = try await b.connection.send(.create, body: req.encodeBody(), treeId: b.treeId)
        }
        guard r.header.status == .success else { throw SMBError.status(r.header.status, .create) }
        let resp = try decodeOrThrow("CREATE") { try CreateResponse.decode(message: r.message) }
        let disk = resp.contexts.first { $0.name == qfid }.map { Array($0.data.prefix(32)) }
        var granted: Durable?
        if var d = durable, wantDurable, resp.oplockLevel == OplockLevel.lease,
           let lease = resp.contexts.first(where: { $0.name == LeaseContext.name }).flatMap({ try? LeaseContext.decode($0.data) }),
           lease.key == d.leaseKey {
            d.leaseState = lease.state
            d.granted = resp.contexts.contains { $0.name == DurableHandleRequestV2.name }
                && lease.state.contains(.handleCaching)
            granted = d
        }
        return (resp, disk, granted, head)
    }

    /// "a/b/c" → "a\b\c" (MS-SMB2 2.2.13: names are relative, backslash-separated), each
    /// component through the name mapping. Every path sent goes through here.
    /// On a POSIX share: "a/b/c" as it is, without empty components.
    /// `name` after a DFS share's "server\share" prefix (no leading backslash, MS-SMB2 2.2.13);
    /// the share's root is the prefix alone.
    static func createName(_ name: String, prefix: String?, posix: Bool) -> String {
        guard let prefix, !posix else { return name }
        return name.isEmpty ? prefix : prefix + "\\" + name
    }

    static func wireName(_ path: String, _ names: NameMapping) -> String {
        var p = Substring(path)
        while p.hasPrefix("/") { p = p.dropFirst() }
        return p.split(separator: "/", omittingEmptySubsequences: true)
            .map { names.wire(String($0)) }.joined(separator: names.posixPaths ? "/" : "\\")
    }
}

func decodeOrThrow<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ProtocolError { throw SMBError.malformed("\(what): \(e)") }
}
