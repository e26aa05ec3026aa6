/// The NetBIOS session service on TCP port 139 (RFC 1002 4.3), which SMB2 runs over where
/// port 445 is closed: a SESSION REQUEST naming the server and the client, answered by a
/// POSITIVE (or NEGATIVE, or RETARGET) SESSION RESPONSE; then every SMB2 message travels as
/// a SESSION MESSAGE, whose 4-byte header is the Direct TCP one (type 0, MS-SMB2 2.1).
public enum NetBIOSSession {
    /// The session service's TCP port (RFC 1002 4.3.1, "SSN_SRVC_TCP_PORT").
    public static let port = 139

    /// Packet types (RFC 1002 4.3.1).
    public static let sessionMessage: UInt8 = 0x00
    public static let sessionRequest: UInt8 = 0x81
    public static let positiveResponse: UInt8 = 0x82
    public static let negativeResponse: UInt8 = 0x83
    public static let retargetResponse: UInt8 = 0x84
    public static let keepAlive: UInt8 = 0x85

    /// The largest trailer a session packet can carry: 16 bits plus the E (extension) bit of
    /// FLAGS (RFC 1002 4.3.1).
    public static let maxTrailer = 0x1_FFFF

    /// The name a server is called by when its NetBIOS name is not known (an address was
    /// given): the one servers answer to whatever they are named.
    public static let anyServer = "*SMBSERVER"

    /// A host's NetBIOS name: its first DNS label, upper-cased, at most 15 characters; nil
    /// for an address (no name to call) or a name that cannot be one.
    public static func name(ofHost host: String) -> String? {
        if host.contains(":") || host.split(separator: ".").allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
            return nil
        }
        guard let label = host.split(separator: ".").first, !label.isEmpty else { return nil }
        let n = String(label.uppercased().prefix(15))
        return n.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) ? n : nil
    }

    /// A NetBIOS name in its wire form (RFC 1001 14.1, RFC 1002 4.1): 15 characters
    /// padded with spaces and the service suffix, each byte as two letters 'A' + nibble, after
    /// a length byte of 32 and before the empty label that ends the name (no scope).
    public static func encodeName(_ name: String, suffix: UInt8) -> [UInt8] {
        var raw = Array(name.uppercased().utf8.prefix(15))
        raw += [UInt8](repeating: 0x20, count: 15 - raw.count)
        raw.append(suffix)
        var out: [UInt8] = [32]
        for b in raw { out += [0x41 + (b >> 4), 0x41 + (b & 0x0F)] }
        out.append(0)
        return out
    }

    /// SESSION REQUEST (RFC 1002 4.3.2): the called name (the file server service, suffix
    /// 0x20) and the calling name (the workstation, suffix 0x00).
    public static func request(called: String, calling: String) -> [UInt8] {
        let trailer = encodeName(called, suffix: 0x20) + encodeName(calling, suffix: 0x00)
        return [sessionRequest, 0, UInt8(trailer.count >> 8), UInt8(trailer.count & 0xFF)] + trailer
    }

    /// The server's answer to a SESSION REQUEST.
    public enum Response: Equatable, Sendable {
        case positive
        /// NEGATIVE SESSION RESPONSE with its error code (RFC 1002 4.3.4).
        case negative(UInt8)
        /// RETARGET SESSION RESPONSE: call again at this IPv4 address and port (4.3.5).
        case retarget(address: String, port: Int)
    }

    /// The length of a session packet's trailer from its 4-byte header (17 bits with E).
    public static func trailerLength(_ header: [UInt8]) throws -> Int {
        guard header.count == 4 else { throw ProtocolError.truncated(needed: 4, available: header.count) }
        guard header[1] & 0xFE == 0 else {
            throw ProtocolError.unexpected("NetBIOS session packet with reserved flag bits 0x\(String(header[1], radix: 16))")
        }
        return Int(header[1] & 1) << 16 | Int(header[2]) << 8 | Int(header[3])
    }

    /// Decodes a response packet: its 4-byte header and trailer.
    public static func decodeResponse(type: UInt8, trailer: [UInt8]) throws -> Response {
        switch type {
        case positiveResponse:
            guard trailer.isEmpty else { throw ProtocolError.unexpected("POSITIVE SESSION RESPONSE with a \(trailer.count)-byte trailer") }
            return .positive
        case negativeResponse:
            guard trailer.count == 1 else { throw ProtocolError.unexpected("NEGATIVE SESSION RESPONSE of \(trailer.count) bytes") }
            return .negative(trailer[0])
        case retargetResponse:
            guard trailer.count == 6 else { throw ProtocolError.unexpected("RETARGET SESSION RESPONSE of \(trailer.count) bytes") }
            let ip = trailer[0..<4].map(String.init).joined(separator: ".")
            return .retarget(address: ip, port: Int(trailer[4]) << 8 | Int(trailer[5]))
        default:
            throw ProtocolError.unexpected("NetBIOS session packet of type 0x\(String(type, radix: 16)) where a session response belongs")
        }
    }

    /// What a NEGATIVE SESSION RESPONSE's error code means (RFC 1002 4.3.4).
    public static func describe(negative code: UInt8) -> String {
        switch code {
        case 0x80: return "not listening on the called name"
        case 0x81: return "not listening for the calling name"
        case 0x82: return "called name not present"
        case 0x83: return "called name present, but insufficient resources"
        case 0x8F: return "unspecified error"
        default: return "error code 0x\(String(code, radix: 16))"
        }
    }
}
