import SMBCrypto

/// How a mounted share is doing, for `smb3fs status`: what was negotiated, the channels and
/// their load, reconnects, opens and the last error. A snapshot; nothing in it is live.
public struct ShareStatus: Sendable, Codable, Equatable {
    public struct Channel: Sendable, Codable, Equatable {
        public var address: String?
        public var state: String                 // "up" or "failed"
        public var inFlight: Int
        public var credits: Int
    }

    public var server: String
    public var port: Int
    public var share: String
    public var dialect: String
    public var signing: String?
    public var encryption: String?
    public var authentication: String
    /// Whether NEGOTIATE found the SMB3 POSIX extensions: "in use (offered by the server)",
    /// "not offered by the server" or "not asked for (noposix)".
    public var posixExtensions: String
    public var user: String?
    /// "connected", "reconnecting" or "disconnected".
    public var state: String
    public var channels: [Channel]
    public var reconnects: UInt64
    public var secondsSinceReconnect: Double?
    public var opens: Int
    public var durableOpens: Int
    public var requestsInFlight: Int
    public var lastError: String?
    public var secondsSinceError: Double?
    /// DFS links followed below a mounted namespace (MS-DFSC): each on a connection of its own.
    public var dfsLinks: [DFSLink]?

    public struct DFSLink: Sendable, Codable, Equatable {
        /// The link's path below the mount's share, and the target it leads to.
        public var path: String
        public var target: String
        public var address: String?
        /// "connected", "reconnecting" or "disconnected", as the share's own state.
        public var state: String
        public var reconnects: UInt64
        public var secondsToLive: Double
    }
}

extension Share {
    /// MS-SMB2 2.2.3.1.7's algorithms by the names the spec gives them.
    static func name(_ a: SigningAlgorithm) -> String {
        switch a {
        case .hmacSHA256: "HMAC-SHA256"
        case .aesCMAC: "AES-128-CMAC"
        case .aesGMAC: "AES-128-GMAC"
        }
    }

    public var status: ShareStatus {
        let config = link.config
        let snap = link.snapshot
        let now = ContinuousClock.now
        let b = link.current
        var channels: [ShareStatus.Channel] = []
        if let b {
            for c in [b.connection] + b.channels.all {
                let load = c.load
                channels.append(.init(address: c.remoteIP.withLock { $0 }, state: c.isFailed ? "failed" : "up",
                                      inFlight: load.inFlight, credits: load.credits))
            }
        }
        let state = b.map { $0.connection.isFailed ? "disconnected" : "connected" } ?? (snap.reconnecting ? "reconnecting" : "disconnected")
        let authentication: String
        var user: String? = nil
        if config.kerberos != nil {
            authentication = "Kerberos"
        } else if config.guest {
            authentication = "guest"
        } else {
            authentication = "NTLMv2"
            let c = config.credentials
            user = c.domain.isEmpty ? c.user : c.domain + "\\" + c.user
        }
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        return ShareStatus(
            server: config.host, port: b?.connection.port ?? config.port, share: config.share, dialect: "\(dialect)",
            signing: signingAlgorithm.map(Self.name), encryption: encryption.map { "\($0)" },
            authentication: authentication,
            posixExtensions: !config.posixExtensions ? "not asked for (noposix)"
                : posixOpens ? "in use (offered by the server)" : "not offered by the server",
            user: user, state: state, channels: channels,
            reconnects: max(1, snap.generation) - 1, secondsSinceReconnect: snap.lastReconnect.map { seconds(now - $0) },
            opens: snap.opens, durableOpens: snap.durable, requestsInFlight: channels.reduce(0) { $0 + $1.inFlight },
            lastError: snap.lastError?.error, secondsSinceError: snap.lastError.map { seconds(now - $0.at) },
            dfsLinks: dfs.map { d in
                d.entries.map { e in
                    let b = e.link.current
                    let state = b.map { $0.connection.isFailed ? "disconnected" : "connected" }
                        ?? (e.link.snapshot.reconnecting ? "reconnecting" : "disconnected")
                    return .init(path: e.prefix.joined(separator: "/"), target: e.target,
                                 address: b?.connection.remoteIP.withLock { $0 }, state: state,
                                 reconnects: max(1, e.link.snapshot.generation) - 1, secondsToLive: seconds(e.expires - now))
                }
            })
    }
}
