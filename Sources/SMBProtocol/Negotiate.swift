/// SMB2 dialects this client speaks (MS-SMB2 2.2.3). SMB1 is never offered.
public enum Dialect: UInt16, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case smb202 = 0x0202, smb210 = 0x0210, smb300 = 0x0300, smb302 = 0x0302, smb311 = 0x0311

    public static func < (a: Dialect, b: Dialect) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .smb202: "2.0.2"; case .smb210: "2.1"; case .smb300: "3.0"; case .smb302: "3.0.2"; case .smb311: "3.1.1"
        }
    }

    public var isSMB3: Bool { self >= .smb300 }
}

/// SecurityMode bits (MS-SMB2 2.2.3).
public struct SecurityMode: OptionSet, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let signingEnabled = SecurityMode(rawValue: 0x1)
    public static let signingRequired = SecurityMode(rawValue: 0x2)
}

/// Global capabilities (MS-SMB2 2.2.3).
public struct Capabilities: OptionSet, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let dfs = Capabilities(rawValue: 0x01)
    public static let leasing = Capabilities(rawValue: 0x02)
    public static let largeMTU = Capabilities(rawValue: 0x04)
    public static let multiChannel = Capabilities(rawValue: 0x08)
    public static let persistentHandles = Capabilities(rawValue: 0x10)
    public static let directoryLeasing = Capabilities(rawValue: 0x20)
    public static let encryption = Capabilities(rawValue: 0x40)
}

/// Ciphers of SMB2_ENCRYPTION_CAPABILITIES (MS-SMB2 2.2.3.1.2).
public enum Cipher: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case aes128CCM = 1, aes128GCM = 2, aes256CCM = 3, aes256GCM = 4

    public var description: String {
        switch self {
        case .aes128CCM: "AES-128-CCM"; case .aes128GCM: "AES-128-GCM"
        case .aes256CCM: "AES-256-CCM"; case .aes256GCM: "AES-256-GCM"
        }
    }
}

/// Negotiate context types (MS-SMB2 2.2.3.1).
public enum NegotiateContextType: UInt16, Sendable {
    case preauthIntegrityCapabilities = 0x0001
    case encryptionCapabilities = 0x0002
    case compressionCapabilities = 0x0003
    case netnameNegotiateContextId = 0x0005
    case transportCapabilities = 0x0006
    case rdmaTransformCapabilities = 0x0007
    case signingCapabilities = 0x0008
    /// SMB3_POSIX_EXTENSIONS_AVAILABLE (SMB3 POSIX Extensions, POSIX-SMB2 2.2.3.1.8): its data
    /// names the POSIX version, the 16 bytes of the POSIX create context's tag; a server that
    /// offers the extensions answers with the same context.
    case posixExtensionsAvailable = 0x0100
}

/// The SMB3 POSIX extensions' identifier: the POSIX create context's name (SMB2_CREATE_TAG_POSIX)
/// and the data of the negotiate context.
public let posixExtensionsTag: [UInt8] = [0x93, 0xAD, 0x25, 0x50, 0x9C, 0xB4, 0x11, 0xE7,
                                          0xB4, 0x23, 0x83, 0xDE, 0x96, 0x8B, 0xCD, 0x7C]

/// SHA-512, the only preauth integrity hash defined (MS-SMB2 2.2.3.1.1).
public let preauthHashSHA512: UInt16 = 0x0001

/// NEGOTIATE request (MS-SMB2 2.2.3).
public struct NegotiateRequest: Sendable {
    public var dialects: [Dialect]
    public var securityMode: SecurityMode
    public var capabilities: Capabilities
    public var clientGuid: [UInt8]
    /// 32 random bytes for PREAUTH_INTEGRITY_CAPABILITIES.
    public var preauthSalt: [UInt8]
    public var ciphers: [Cipher]
    /// Preference order for SIGNING_CAPABILITIES (ids of 2.2.3.1.7: 0 HMAC-SHA256, 1 AES-CMAC, 2 AES-GMAC).
    public var signingAlgorithms: [UInt16]
    public var serverName: String
    /// Ask whether the server offers the SMB3 POSIX extensions (3.1.1 only).
    public var posixExtensions = false

    public init(dialects: [Dialect], securityMode: SecurityMode, capabilities: Capabilities,
                clientGuid: [UInt8], preauthSalt: [UInt8], ciphers: [Cipher],
                signingAlgorithms: [UInt16], serverName: String) {
        self.dialects = dialects
        self.securityMode = securityMode
        self.capabilities = capabilities
        self.clientGuid = clientGuid
        self.preauthSalt = preauthSalt
        self.ciphers = ciphers
        self.signingAlgorithms = signingAlgorithms
        self.serverName = serverName
    }

    /// The body (after the 64-byte header). Offsets inside are relative to the header start.
    public func encodeBody() -> [UInt8] {
        var w = WireWriter(capacity: 256)
        let offers311 = dialects.contains(.smb311)
        w.u16(36)                                       // StructureSize
        w.u16(UInt16(dialects.count))
        w.u16(securityMode.rawValue)
        w.u16(0)                                        // Reserved
        w.u32(capabilities.rawValue)
        w.bytes(clientGuid.count == 16 ? clientGuid : Array(repeating: 0, count: 16))
        let contextFieldsAt = w.count
        w.u64(0)                                        // NegotiateContextOffset/Count/Reserved2 or ClientStartTime
        for d in dialects { w.u16(d.rawValue) }
        guard offers311 else { return w.bytes }

        // Contexts start 8-byte aligned relative to the header (MS-SMB2 2.2.3).
        alignFromHeader(&w)
        let contextOffset = Header.size + w.count
        var contexts: [(NegotiateContextType, [UInt8])] = []
        var p = WireWriter()
        p.u16(1); p.u16(UInt16(preauthSalt.count)); p.u16(preauthHashSHA512); p.bytes(preauthSalt)
        contexts.append((.preauthIntegrityCapabilities, p.bytes))
        if !ciphers.isEmpty {
            var e = WireWriter()
            e.u16(UInt16(ciphers.count)); for c in ciphers { e.u16(c.rawValue) }
            contexts.append((.encryptionCapabilities, e.bytes))
        }
        if !serverName.isEmpty {
            contexts.append((.netnameNegotiateContextId, UTF16LE.encode(serverName)))
        }
        if !signingAlgorithms.isEmpty {
            var s = WireWriter()
            s.u16(UInt16(signingAlgorithms.count)); for a in signingAlgorithms { s.u16(a) }
            contexts.append((.signingCapabilities, s.bytes))
        }
        if posixExtensions { contexts.append((.posixExtensionsAvailable, posixExtensionsTag)) }
        for (i, (type, data)) in contexts.enumerated() {
            if i > 0 { alignFromHeader(&w) }
            w.u16(type.rawValue); w.u16(UInt16(data.count)); w.u32(0); w.bytes(data)
        }
        w.patchU32(at: contextFieldsAt, UInt32(contextOffset))
        w.patchU16(at: contextFieldsAt + 4, UInt16(contexts.count))
        return w.bytes
    }

    private func alignFromHeader(_ w: inout WireWriter) {
        let r = (Header.size + w.count) % 8
        if r != 0 { w.zeros(8 - r) }
    }
}

/// NEGOTIATE response (MS-SMB2 2.2.4), with the 3.1.1 contexts this client uses.
public struct NegotiateResponse: Sendable {
    public var securityMode: SecurityMode
    public var dialectRevision: UInt16
    public var serverGuid: [UInt8]
    public var capabilities: Capabilities
    public var maxTransactSize: UInt32
    public var maxReadSize: UInt32
    public var maxWriteSize: UInt32
    public var systemTime: FileTime
    public var securityBuffer: [UInt8]
    /// 3.1.1 only: the server's selected hash (must be SHA-512), cipher (0 = none) and signing algorithm (nil when absent).
    public var preauthHashAlgorithm: UInt16?
    public var cipher: UInt16?
    public var signingAlgorithm: UInt16?
    /// 3.1.1 only: the server answered SMB3_POSIX_EXTENSIONS_AVAILABLE with the version asked for.
    public var posixExtensions = false

    /// Limits on counts the server may send, so a hostile response cannot make us loop long.
    static let maxNegotiateContexts = 32

    public static func decode(message m: [UInt8]) throws -> NegotiateResponse {
        var r = WireReader(m, position: Header.size)
        let ss = try r.u16()
        guard ss == 65 else { throw ProtocolError.badStructureSize(command: "NEGOTIATE", got: ss) }
        let securityMode = SecurityMode(rawValue: try r.u16())
        let dialect = try r.u16()
        let contextCount = Int(try r.u16())
        let serverGuid = try r.read(16)
        let caps = Capabilities(rawValue: try r.u32())
        let maxTransact = try r.u32()
        let maxRead = try r.u32()
        let maxWrite = try r.u32()
        let systemTime = FileTime(rawValue: try r.u64())
        _ = try r.u64()                                  // ServerStartTime
        let secOffset = Int(try r.u16())
        let secLength = Int(try r.u16())
        let contextOffset = Int(try r.u32())
        let secBuffer = secLength == 0 ? [] : try r.slice(offset: secOffset, length: secLength)

        var resp = NegotiateResponse(
            securityMode: securityMode, dialectRevision: dialect, serverGuid: serverGuid,
            capabilities: caps, maxTransactSize: maxTransact, maxReadSize: maxRead,
            maxWriteSize: maxWrite, systemTime: systemTime, securityBuffer: secBuffer,
            preauthHashAlgorithm: nil, cipher: nil, signingAlgorithm: nil)

        guard dialect == Dialect.smb311.rawValue else { return resp }
        guard contextCount <= maxNegotiateContexts else {
            throw ProtocolError.unexpected("NEGOTIATE: \(contextCount) negotiate contexts")
        }
        var pos = contextOffset
        for i in 0..<contextCount {
            if i > 0 { pos = (pos + 7) & ~7 }
            var c = WireReader(m)
            try c.seek(to: pos)
            let type = try c.u16()
            let length = Int(try c.u16())
            try c.skip(4)
            let data = try c.read(length)
            var d = WireReader(data)
            switch NegotiateContextType(rawValue: type) {
            case .preauthIntegrityCapabilities:
                // The server selects exactly one hash (MS-SMB2 2.2.4.1.1 / 3.2.5.2).
                let count = try d.u16()
                _ = try d.u16()
                guard count == 1 else { throw ProtocolError.unexpected("NEGOTIATE: \(count) preauth hash algorithms") }
                resp.preauthHashAlgorithm = try d.u16()
            case .encryptionCapabilities:
                let count = try d.u16()
                guard count == 1 else { throw ProtocolError.unexpected("NEGOTIATE: \(count) ciphers selected") }
                resp.cipher = try d.u16()
            case .signingCapabilities:
                let count = try d.u16()
                guard count == 1 else { throw ProtocolError.unexpected("NEGOTIATE: \(count) signing algorithms selected") }
                resp.signingAlgorithm = try d.u16()
            case .posixExtensionsAvailable:
                // The data lists the versions the server speaks, 16 bytes each.
                let versions = stride(from: 0, to: data.count - data.count % 16, by: 16).map { Array(data[$0..<$0 + 16]) }
                resp.posixExtensions = versions.contains(posixExtensionsTag)
            default:
                break                                     // contexts we did not ask for are ignored
            }
            pos = c.position
        }
        return resp
    }
}
