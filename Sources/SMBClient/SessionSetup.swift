import SMBAuth
import SMBCrypto
import SMBProtocol

/// The result of NEGOTIATE as the rest of the connection needs it (MS-SMB2 3.2.5.2).
struct Negotiated: Sendable {
    var dialect: Dialect
    /// What the client offered: FSCTL_VALIDATE_NEGOTIATE_INFO repeats it (MS-SMB2 3.2.5.5).
    var request: NegotiateRequest
    var response: NegotiateResponse
    /// Connection.PreauthIntegrityHashValue after NEGOTIATE (3.1.1 only).
    var preauthHash: [UInt8]?
    var signingAlgorithm: SigningAlgorithm
    /// Connection.CipherId: the cipher encrypted messages use on this connection, nil when the
    /// server cannot encrypt (2.x, or no cipher in common).
    var cipher: Cipher?
    /// Every request is to be encrypted: `seal`, or the server's address is not local.
    var seal: Bool
    var maxReadSize: Int
    var maxWriteSize: Int
    var maxTransactSize: Int
}

/// The preauth integrity hash chain (MS-SMB2 3.2.5.2, 3.2.5.3): H = SHA-512(H || message).
struct PreauthHash: Sendable {
    private(set) var value: [UInt8] = Array(repeating: 0, count: 64)
    mutating func add(_ message: [UInt8]) { value = Digest.sha512(value + message) }
}

enum Handshake {
    /// NEGOTIATE: offers the configured dialects and, with 3.1.1, the preauth, encryption and
    /// signing contexts; validates what the server chose. An additional channel (`like` the
    /// session's first connection) offers only what that one negotiated (MS-SMB2 3.2.4.2.2.2).
    static func negotiate(_ conn: Connection, config: ClientConfiguration, clientGuid: [UInt8],
                          like first: Negotiated? = nil) async throws -> Negotiated {
        let dialects = first.map { [$0.dialect] } ?? Dialect.allCases.filter { config.dialects.contains($0) }
        guard !dialects.isEmpty else { throw SMBError.unsupported("no SMB dialect to offer") }
        // Preference order (MS-SMB2 2.2.3.1.7): GMAC is the fastest.
        let algorithms = first.map { [$0.signingAlgorithm] } ?? [.aesGMAC, .aesCMAC, .hmacSHA256]
        // A channel of an encrypting session offers its session's cipher only.
        let ciphers = first.map { $0.cipher.map { [$0] } ?? [] } ?? config.offeredCiphers
        // MULTI_CHANNEL: the server offers it only to a client that does (3.3.5.4). ENCRYPTION:
        // servers encrypt only for a client that says it can (3.3.5.4; Samba also for 3.1.1).
        var capabilities: Capabilities = [.leasing, .largeMTU]
        if config.maxChannels > 1 { capabilities.insert(.multiChannel) }
        if !ciphers.isEmpty { capabilities.insert(.encryption) }
        var request = NegotiateRequest(
            dialects: dialects,
            securityMode: config.signing ? [.signingEnabled, .signingRequired] : [.signingEnabled],
            capabilities: capabilities,
            clientGuid: clientGuid,
            preauthSalt: Random.bytes(32),
            ciphers: ciphers,
            signingAlgorithms: algorithms.map(\.rawValue),
            serverName: config.host)
        request.posixExtensions = config.posixExtensions
        let r = try await conn.send(.negotiate, body: request.encodeBody(), sign: false, keepRequest: true)
        guard r.header.status == .success else { throw SMBError.status(r.header.status, .negotiate) }
        let resp: NegotiateResponse
        do { resp = try NegotiateResponse.decode(message: r.message) } catch { throw SMBError.malformed("NEGOTIATE: \(error)") }

        // The server must pick one of the dialects offered (MS-SMB2 3.2.5.2); 0x02FF is SMB1's wildcard.
        guard let dialect = Dialect(rawValue: resp.dialectRevision), dialects.contains(dialect) else {
            throw SMBError.securityPolicy("server chose dialect 0x\(String(resp.dialectRevision, radix: 16)), which was not offered")
        }
        var hash: [UInt8]?
        var signing: SigningAlgorithm = dialect.isSMB3 ? .aesCMAC : .hmacSHA256
        if dialect == .smb311 {
            guard resp.preauthHashAlgorithm == preauthHashSHA512 else {
                throw SMBError.securityPolicy("server did not select SHA-512 preauth integrity")
            }
            var h = PreauthHash()
            if let req = r.request { h.add(req) }
            h.add(r.message)
            hash = h.value
            if let id = resp.signingAlgorithm {
                guard let a = SigningAlgorithm(rawValue: id),
                      [SigningAlgorithm.aesGMAC, .aesCMAC, .hmacSHA256].contains(a) else {
                    throw SMBError.securityPolicy("server chose unknown signing algorithm \(id)")
                }
                signing = a
            }
        }
        let cipher = try chosenCipher(resp, dialect: dialect, offered: ciphers)
        if let required = config.requiredCiphers, !(cipher.map { required.contains($0) } ?? false) {
            throw SMBError.securityPolicy("the server offers no cipher that require_cipher= allows"
                + " (dialect \(dialect)\(cipher.map { ", cipher \($0)" } ?? ", no encryption"))")
        }
        let seal = try first?.seal ?? decideSeal(conn, config: config, dialect: dialect, cipher: cipher)
        let largeMTU = resp.capabilities.contains(.largeMTU) && dialect >= .smb210
        let smallMax = 65536
        // Over NetBIOS a message is at most 0x1FFFF bytes (RFC 1002 4.3.1): 64 KiB payloads.
        let ioMax = conn.overNetBIOS ? smallMax : config.maxIOSize
        let maxRead = largeMTU ? min(Int(resp.maxReadSize), ioMax) : min(Int(resp.maxReadSize), smallMax)
        let maxWrite = largeMTU ? min(Int(resp.maxWriteSize), ioMax) : min(Int(resp.maxWriteSize), smallMax)
        let maxTransact = min(Int(resp.maxTransactSize), smallMax)
        guard maxRead >= 4096, maxWrite >= 4096, maxTransact >= 4096 else {
            throw SMBError.malformed("NEGOTIATE: MaxReadSize \(resp.maxReadSize), MaxTransactSize \(resp.maxTransactSize)")
        }
        conn.setNegotiated(dialect: dialect, largeMTU: largeMTU, maxPayload: max(maxRead, maxTransact))
        conn.logger.info("negotiated", metadata: ["dialect": "\(dialect)", "signing": "\(signing)",
                                                  "cipher": "\(cipher.map { "\($0)" } ?? "none")",
                                                  "maxRead": "\(maxRead)", "posix": "\(resp.posixExtensions)"])
        return Negotiated(dialect: dialect, request: request, response: resp, preauthHash: hash, signingAlgorithm: signing,
                          cipher: cipher, seal: seal, maxReadSize: maxRead, maxWriteSize: maxWrite, maxTransactSize: maxTransact)
    }

    /// Whether the session is to be encrypted whatever the server asks: `seal`, or by default when
    /// the server's address is not loopback, link-local or private (RFC 1918, RFC 4193).
    static func decideSeal(_ conn: Connection, config: ClientConfiguration, dialect: Dialect, cipher: Cipher?) throws -> Bool {
        let address = conn.remoteIP.withLock { $0 } ?? ""
        let offLAN = config.treatAsPublic.contains(address) || AddressScope.of(address) == .publicNetwork
        let why = dialect.isSMB3 ? "offers no cipher in common with smb3fs" : "speaks SMB \(dialect), which cannot encrypt"
        if config.seal {
            guard cipher != nil else { throw SMBError.securityPolicy("seal: the server \(why); refusing an unencrypted session") }
            return true
        }
        guard offLAN else { return false }
        guard config.autoSeal else {
            conn.logger.warning("noseal: \(address) is not on a local network, and the session is not encrypted")
            return false
        }
        guard cipher != nil else {
            throw SMBError.securityPolicy("the server \(address) is not on a local network and \(why);"
                                          + " refusing an unencrypted session (noseal to allow)")
        }
        conn.logger.info("\(address) is not on a local network: encrypting the session (noseal to turn off)")
        return true
    }

    /// Connection.CipherId (MS-SMB2 3.2.5.2): 3.1.1 names it in ENCRYPTION_CAPABILITIES (0: no
    /// cipher in common), and it must be one offered; 3.0/3.0.2 have AES-128-CCM when the server
    /// answers SMB2_GLOBAL_CAP_ENCRYPTION; 2.x cannot encrypt.
    static func chosenCipher(_ resp: NegotiateResponse, dialect: Dialect, offered: [Cipher]) throws -> Cipher? {
        switch dialect {
        case .smb202, .smb210:
            return nil
        case .smb300, .smb302:
            return resp.capabilities.contains(.encryption) && offered.contains(.aes128CCM) ? .aes128CCM : nil
        case .smb311:
            guard let id = resp.cipher, id != 0 else { return nil }
            guard let c = Cipher(rawValue: id), offered.contains(c) else {
                throw SMBError.securityPolicy("server chose cipher \(id), which was not offered")
            }
            return c
        }
    }

    /// SESSION_SETUP rounds until the server accepts or rejects (MS-SMB2 3.2.4.2.3, 3.2.5.3),
    /// then derives the signing key and verifies the final response's signature.
    /// `previousSessionId` names the session this one replaces after a lost connection, so the
    /// server ends it and its durable opens become reclaimable (MS-SMB2 2.2.5, 3.3.5.5.3).
    ///
    /// With `binding`, the connection is bound to that existing session as a new channel
    /// (multichannel, 3.2.4.2.3): SMB2_SESSION_FLAG_BINDING, the session's SessionId, every
    /// request signed with the session's key and interim responses checked with it; the channel
    /// key comes from this exchange's own GSS key and, in 3.1.1, this connection's preauth hash
    /// (3.2.5.3.3, 3.3.5.5.3), and signs the final response.
    ///
    /// With `reauthenticating`, the session of that id on this connection authenticates again
    /// (MS-SMB2 3.2.4.2.3.1, after STATUS_NETWORK_SESSION_EXPIRED): same SessionId, requests
    /// signed or encrypted as the session's are, responses checked likewise; the session keeps
    /// its keys (the new exchange's key is not used, 3.2.5.3.1 applies to new sessions).
    static func sessionSetup(_ conn: Connection, negotiated: Negotiated, config: ClientConfiguration,
                             previousSessionId: UInt64 = 0,
                             binding: (sessionId: UInt64, signer: MessageSigner, cipher: SessionCipher?, encrypt: Bool)? = nil,
                             reauthenticating: UInt64? = nil)
        async throws -> UInt64 {
        var (mech, who) = try mechanism(config)
        var preauth = PreauthHash()
        if let h = negotiated.preauthHash { preauth = PreauthHash(value: h) }
        // A re-authentication starts a fresh GSS exchange (3.2.4.2.3.1 allows ignoring the hint).
        let blob = reauthenticating == nil ? negotiated.response.securityBuffer : []
        var token = try authStep(&mech, blob.isEmpty ? nil : blob, config)
        var sessionId: UInt64 = binding?.sessionId ?? reauthenticating ?? 0
        let securityMode: SecurityMode = config.signing ? [.signingEnabled, .signingRequired] : [.signingEnabled]
        let response: Response
        var rounds = 0
        while true {
            // GSS mechanisms finish in a few legs (NTLM 2, Kerberos 1 or 2): a server that keeps
            // asking for more is not authenticating anyone.
            rounds += 1
            guard rounds <= 8 else { throw SMBError.authentication("the server did not complete SESSION_SETUP after 8 rounds") }
            let req = SessionSetupRequest(securityMode: securityMode, capabilities: [], securityBuffer: token,
                                          previousSessionId: binding == nil && reauthenticating == nil ? previousSessionId : 0,
                                          flags: binding == nil ? 0 : SessionSetupRequest.binding)
            let r = try await conn.send(.sessionSetup, body: req.encodeBody(), sessionId: sessionId,
                                        sign: binding != nil || reauthenticating != nil, keepRequest: true,
                                        signWith: binding?.signer)
            if let q = r.request { preauth.add(q) }
            if let binding {
                guard r.header.sessionId == binding.sessionId else {
                    throw SMBError.malformed("SESSION_SETUP: binding answered for another session")
                }
                // An interim response is signed with the session's key (3.2.5.1.3).
                if r.header.status == .moreProcessingRequired,
                   !(r.header.flags.contains(.signed) && binding.signer.verify(r.message)) {
                    throw SMBError.securityPolicy("the server's channel binding response is not signed with the session key")
                }
            }
            sessionId = r.header.sessionId
            if r.header.status == .moreProcessingRequired {
                preauth.add(r.message)
                let resp = try decodeSessionSetup(r)
                token = try authStep(&mech, resp.securityBuffer, config)
                continue
            }
            guard r.header.status == .success else { throw authFailure(r.header.status, who: who) }
            response = r
            break
        }
        let resp = try decodeSessionSetup(response)
        _ = try authStep(&mech, resp.securityBuffer, config)
        guard mech.isComplete, let key = mech.sessionKey, !key.isEmpty else {
            throw SMBError.authentication("authentication did not complete")
        }
        if let reauthenticating {
            guard sessionId == reauthenticating else { throw SMBError.malformed("SESSION_SETUP: answered for another session") }
            conn.logger.info("session re-authenticated", metadata: ["session": "\(String(sessionId, radix: 16))", "user": "\(who)"])
            return sessionId
        }
        // A guest or anonymous session has no key the server shares (MS-SMB2 3.2.5.3.1: no
        // signing), so it is taken only when asked for, and never where encryption is due.
        if resp.sessionFlags.contains(.isGuest) || resp.sessionFlags.contains(.isNull) {
            guard config.guest, binding == nil else {
                throw SMBError.authentication("the server logged \(who) on as guest;"
                                              + " refusing an unauthenticated session (the guest option allows it)")
            }
            guard !negotiated.seal else {
                throw SMBError.securityPolicy("a guest session cannot be encrypted, and this one must be (seal, or a server not on a local network)")
            }
            conn.setSession(id: sessionId, signer: nil, signingRequired: false)
            conn.logger.warning("guest session: neither signed nor encrypted", metadata: ["session": "\(String(sessionId, radix: 16))"])
            return sessionId
        }

        // Session.SessionKey is the first 16 bytes of the GSS key, zero-padded (MS-SMB2 3.2.5.3.1).
        var sessionKey = Array(key.prefix(16))
        if sessionKey.count < 16 { sessionKey += Array(repeating: 0, count: 16 - sessionKey.count) }
        let signingKey = deriveSigningKey(sessionKey: sessionKey, dialect: negotiated.dialect, preauthHash: preauth.value)
        let signer = try MessageSigner(algorithm: negotiated.signingAlgorithm, key: signingKey)

        // The final SESSION_SETUP response is signed with the new key (3.2.5.3.1); on a session that
        // must be signed, an unsigned or wrongly signed one ends the setup.
        let serverRequires = negotiated.response.securityMode.contains(.signingRequired)
        if config.signing || response.header.flags.contains(.signed) {
            guard response.header.flags.contains(.signed), signer.verify(response.message) else {
                throw SMBError.securityPolicy(response.header.flags.contains(.signed)
                    ? "the server's SESSION_SETUP signature is invalid"
                    : "the server did not sign the session; refusing an unsigned session (use nosign to allow)")
            }
        }
        let sign = config.signing || serverRequires || binding != nil

        // Encryption (MS-SMB2 3.2.5.3.1): the keys exist whenever a cipher was negotiated, since
        // the server may encrypt what it sends; requests are encrypted with `seal` or when the
        // server flags the session SMB2_SESSION_FLAG_ENCRYPT_DATA. A bound channel uses the
        // session's keys (and nonces), not keys of its own.
        var cipher = binding?.cipher
        var encrypt = binding?.encrypt ?? false
        if binding == nil, let c = negotiated.cipher {
            cipher = try SessionCipher.derive(cipher: c, dialect: negotiated.dialect, sessionId: sessionId,
                                              sessionKey: sessionKey, fullSessionKey: key, preauthHash: preauth.value)
            encrypt = negotiated.seal || resp.sessionFlags.contains(.encryptData)
        }
        if binding == nil && resp.sessionFlags.contains(.encryptData) && cipher == nil {
            throw SMBError.securityPolicy("the server requires encryption for this session, but offers no cipher smb3fs accepts")
        }
        conn.setSession(id: sessionId, signer: sign ? signer : nil, signingRequired: sign, cipher: cipher, encrypt: encrypt)
        conn.logger.info(binding == nil ? "session established" : "channel bound", metadata: [
            "session": "\(String(sessionId, radix: 16))", "signed": "\(sign)",
            "encrypted": "\(encrypt ? cipher.map { "\($0.cipher)" } ?? "no" : "no")",
        ])
        return sessionId
    }

    /// MS-SMB2 3.2.5.3.1: the signing key per dialect.
    static func deriveSigningKey(sessionKey: [UInt8], dialect: Dialect, preauthHash: [UInt8]) -> [UInt8] {
        switch dialect {
        case .smb202, .smb210:
            return sessionKey
        case .smb300, .smb302:
            return KDF.smb3(key: sessionKey, label: Array("SMB2AESCMAC".utf8) + [0], context: Array("SmbSign".utf8) + [0])
        case .smb311:
            return KDF.smb3(key: sessionKey, label: Array("SMBSigningKey".utf8) + [0], context: preauthHash)
        }
    }

    /// The mechanism `sec=` names inside SPNEGO (never the other one: `sec=krb5` does not fall
    /// back to NTLM), and the user it speaks for.
    static func mechanism(_ config: ClientConfiguration) throws -> (any AuthMechanism, String) {
        guard let krb = config.kerberos else { return (SPNEGOClient(ntlm: config.credentials), config.credentials.user) }
        do {
            let m = try KerberosMechanism(credentials: krb)
            return (SPNEGOClient(mechanism: m), m.principal)
        } catch let e as GSSError {
            throw kerberosFailure(e, krb)
        }
    }

    static func kerberosFailure(_ e: GSSError, _ krb: KerberosCredentials) -> SMBError {
        e.isMissingTicket ? .noTicket(krb.servicePrincipal) : .authentication("Kerberos for \(krb.servicePrincipal): \(e)")
    }

    private static func authStep(_ mech: inout any AuthMechanism, _ token: [UInt8]?, _ config: ClientConfiguration) throws -> [UInt8] {
        do { return try mech.nextToken(serverToken: token) } catch let e as AuthError {
            switch e {
            case .logonFailure: throw SMBError.authentication("logon failure: unknown user name or bad password")
            default: throw SMBError.authentication("authentication failed: \(e)")
            }
        } catch let e as GSSError {
            guard let krb = config.kerberos else { throw SMBError.authentication("\(e)") }
            throw kerberosFailure(e, krb)
        }
    }

    private static func decodeSessionSetup(_ r: Response) throws -> SessionSetupResponse {
        do { return try SessionSetupResponse.decode(message: r.message) } catch {
            throw SMBError.malformed("SESSION_SETUP: \(error)")
        }
    }

    private static func authFailure(_ status: NTStatus, who: String) -> SMBError {
        switch status {
        case .logonFailure, .wrongPassword, .noSuchUser:
            return .authentication("logon failure for user \(who): unknown user name or bad password")
        case .accountDisabled: return .authentication("the account \(who) is disabled")
        case .accountLockedOut: return .authentication("the account \(who) is locked out")
        case .passwordExpired: return .authentication("the password of \(who) has expired")
        case .accessDenied: return .authentication("access denied for \(who)")
        default: return .status(status, .sessionSetup)
        }
    }
}
