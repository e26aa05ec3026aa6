import SMBCrypto

/// NTLM message integrity with extended session security (MS-NLMP 3.4.4.2, 3.4.5.2, 3.4.5.3),
/// used for the SPNEGO mechListMIC. One instance per direction; sequence numbers start at 0.
struct NTLMSigner {
    enum Direction {
        case clientToServer, serverToClient
    }

    private let signingKey: [UInt8]
    private var sealingHandle: RC4?
    private(set) var sequenceNumber: UInt32 = 0

    init(exportedSessionKey: [UInt8], flags: NTLMFlags, direction: Direction) {
        let name = direction == .clientToServer ? "client-to-server" : "server-to-client"
        // SIGNKEY (3.4.5.2).
        signingKey = Digest.md5(exportedSessionKey + Array("session key to \(name) signing key magic constant".utf8) + [0])
        // SEALKEY (3.4.5.3): 128, 56 or 40 bits of the session key, then MD5 with the magic constant.
        if flags.contains(.negotiateKeyExchange) {
            let keyBytes: [UInt8]
            if flags.contains(.negotiate128) {
                keyBytes = exportedSessionKey
            } else if flags.contains(.negotiate56) {
                keyBytes = Array(exportedSessionKey.prefix(7))
            } else {
                keyBytes = Array(exportedSessionKey.prefix(5))
            }
            let sealKey = Digest.md5(keyBytes + Array("session key to \(name) sealing key magic constant".utf8) + [0])
            sealingHandle = RC4(key: sealKey)
        }
    }

    /// GSS_GetMIC (MAC, 3.4.4.2): Version(1) + Checksum(8) + SeqNum, where Checksum is the first 8 bytes of
    /// HMAC_MD5(SigningKey, SeqNum + message), RC4-encrypted with the sealing handle when KEY_EXCH.
    mutating func mic(_ message: [UInt8]) -> [UInt8] {
        var seq = [UInt8]()
        seq.appendLE(sequenceNumber)
        var checksum = Array(MAC.hmacMD5(key: signingKey, data: seq + message).prefix(8))
        if var handle = sealingHandle {
            checksum = handle.process(checksum)
            sealingHandle = handle
        }
        var signature = [UInt8]()
        signature.appendLE(NTLM.messageSignatureVersion)
        signature += checksum
        signature += seq
        sequenceNumber &+= 1
        return signature
    }
}
