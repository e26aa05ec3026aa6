@testable import SMBAuth

/// A CHALLENGE_MESSAGE shaped like Samba's: target name "Domain", TargetInfo with
/// NbDomainName "Domain", NbComputerName "Server", DnsComputerName "server.example", a timestamp.
enum Fixtures {
    static let serverChallenge = hex("0123456789abcdef")
    static let timestamp: UInt64 = 0x01d9_1234_5678_9abc
    /// UNICODE|REQUEST_TARGET|SIGN|NTLM|ALWAYS_SIGN|TARGET_TYPE_SERVER|ESS|TARGET_INFO|VERSION|128|KEY_EXCH|56
    static let challengeFlags: UInt32 = 0xE28A_8215

    static func utf16(_ s: String) -> [UInt8] { UTF16LE.encode(s) }

    static var targetInfo: [UInt8] {
        var ts = [UInt8]()
        ts.appendLE(timestamp)
        return NTLMMessage.encodeAVPairs([
            AVPair(id: 2, value: utf16("Domain")),
            AVPair(id: 1, value: utf16("Server")),
            AVPair(id: 3, value: utf16("server.example")),
            AVPair(id: 7, value: ts),
        ])
    }

    static func challenge(flags: UInt32 = challengeFlags) -> [UInt8] {
        let name = utf16("Domain")
        let info = targetInfo
        var m = NTLM.signature
        m.appendLE(UInt32(2))
        m.appendLE(UInt16(name.count)); m.appendLE(UInt16(name.count)); m.appendLE(UInt32(56))
        m.appendLE(flags)
        m += serverChallenge
        m += [UInt8](repeating: 0, count: 8)
        m.appendLE(UInt16(info.count)); m.appendLE(UInt16(info.count)); m.appendLE(UInt32(56 + name.count))
        m += [6, 1, 0xb1, 0x1d, 0, 0, 0, 0x0f]
        m += name
        m += info
        return m
    }

    static let credentials = NTLMCredentials(user: "User", password: "Password", domain: "Domain", workstation: "COMPUTER")
}
