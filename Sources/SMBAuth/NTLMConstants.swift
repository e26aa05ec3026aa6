/// NTLM constants (MS-NLMP 2.2).
enum NTLM {
    /// MS-NLMP 2.2.1: "NTLMSSP\0".
    static let signature: [UInt8] = Array("NTLMSSP".utf8) + [0]
    static let negotiateType: UInt32 = 1
    static let challengeType: UInt32 = 2
    static let authenticateType: UInt32 = 3

    /// MS-NLMP 2.2.1.2: fixed part of CHALLENGE_MESSAGE up to and including TargetInfoFields.
    static let challengeMinimumSize = 48
    /// MS-NLMP 2.2.1.1: NEGOTIATE_MESSAGE with Version.
    static let negotiateSize = 40
    /// MS-NLMP 2.2.1.3: AUTHENTICATE_MESSAGE fixed part with Version and MIC.
    static let authenticateHeaderSize = 88
    /// Offset of the MIC in AUTHENTICATE_MESSAGE.
    static let micOffset = 72

    /// MS-NLMP 2.2.2.10 VERSION: 10.0, build 0, NTLMSSP_REVISION_W2K3 (0x0F).
    static let version: [UInt8] = [10, 0, 0, 0, 0, 0, 0, 0x0f]

    /// MS-NLMP 3.4.4.2: signature Version field = 1.
    static let messageSignatureVersion: UInt32 = 1
}

/// MS-NLMP 2.2.2.5 NEGOTIATE flags.
struct NTLMFlags: OptionSet, Sendable {
    let rawValue: UInt32

    static let negotiateUnicode = NTLMFlags(rawValue: 0x0000_0001)
    static let negotiateOEM = NTLMFlags(rawValue: 0x0000_0002)
    static let requestTarget = NTLMFlags(rawValue: 0x0000_0004)
    static let negotiateSign = NTLMFlags(rawValue: 0x0000_0010)
    static let negotiateSeal = NTLMFlags(rawValue: 0x0000_0020)
    static let negotiateNTLM = NTLMFlags(rawValue: 0x0000_0200)
    static let negotiateAlwaysSign = NTLMFlags(rawValue: 0x0000_8000)
    static let extendedSessionSecurity = NTLMFlags(rawValue: 0x0008_0000)
    static let negotiateTargetInfo = NTLMFlags(rawValue: 0x0080_0000)
    static let negotiateVersion = NTLMFlags(rawValue: 0x0200_0000)
    static let negotiate128 = NTLMFlags(rawValue: 0x2000_0000)
    static let negotiateKeyExchange = NTLMFlags(rawValue: 0x4000_0000)
    static let negotiate56 = NTLMFlags(rawValue: 0x8000_0000)

    /// What this client asks for: Unicode, NTLMv2 with extended session security, signing and
    /// sealing keys (MS-NLMP 3.1.5.1.1), 128-bit keys and key exchange. 0xE2888235.
    static let client: NTLMFlags = [
        .negotiateUnicode, .requestTarget, .negotiateSign, .negotiateSeal, .negotiateNTLM,
        .negotiateAlwaysSign, .extendedSessionSecurity, .negotiateTargetInfo, .negotiateVersion,
        .negotiate128, .negotiateKeyExchange, .negotiate56,
    ]
}

/// MS-NLMP 2.2.2.1 AV_PAIR AvId values.
enum AvId: UInt16 {
    case eol = 0
    case nbComputerName = 1
    case nbDomainName = 2
    case dnsComputerName = 3
    case dnsDomainName = 4
    case dnsTreeName = 5
    case flags = 6
    case timestamp = 7
    case singleHost = 8
    case targetName = 9
    case channelBindings = 10
}

/// MS-NLMP 2.2.2.1 MsvAvFlags bit 0x2: the AUTHENTICATE message carries a MIC.
let msvAvFlagMICPresent: UInt32 = 0x0000_0002
