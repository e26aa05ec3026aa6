#if canImport(Glibc)
import Glibc
#endif

/// Where a server's address lies, for the default of encrypting off the local network (the port
/// 445 reference counts unencrypted SMB to public addresses as an anti-pattern).
public enum AddressScope: Sendable, Equatable {
    /// Loopback, link-local, or private: RFC 1918 (IPv4), RFC 4193 unique local (IPv6).
    case local
    case publicNetwork

    /// The scope of a numeric IPv4 or IPv6 address; anything that does not parse is public
    /// (the safe side: it gets encrypted).
    public static func of(_ address: String) -> AddressScope {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return ofIPv4(withUnsafeBytes(of: v4.s_addr) { Array($0) })
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return .publicNetwork }
        let b = withUnsafeBytes(of: v6) { Array($0) }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .local }               // ::1
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return .local }                           // fe80::/10
        if b[0] & 0xfe == 0xfc { return .local }                                           // fc00::/7
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {           // ::ffff:a.b.c.d
            return ofIPv4(Array(b[12..<16]))
        }
        return .publicNetwork
    }

    /// `b`: the four bytes in network order.
    static func ofIPv4(_ b: [UInt8]) -> AddressScope {
        switch (b[0], b[1]) {
        case (127, _), (10, _): return .local                    // loopback, RFC 1918 10/8
        case (169, 254): return .local                           // link-local
        case (172, 16...31), (192, 168): return .local           // RFC 1918 172.16/12, 192.168/16
        default: return .publicNetwork
        }
    }
}
