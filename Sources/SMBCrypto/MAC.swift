/// Message authentication codes.
public enum MAC {
    /// HMAC-SHA256 (RFC 2104, FIPS 180-4): SMB 2.x signing and the SMB 3 KDF PRF.
    public static func hmacSHA256(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var h = HMACStream(.sha256, key: key)
        h.update(data)
        return h.finish()
    }

    /// HMAC-MD5 (RFC 2104): NTLMv2 (MS-NLMP 3.3.2) and NTLM signing (3.4.4.2).
    public static func hmacMD5(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var h = HMACStream(.md5, key: key)
        h.update(data)
        return h.finish()
    }

    /// AES-128-CMAC, RFC 4493. The key must be 16 bytes.
    public static func aesCMAC(key: [UInt8], data: [UInt8]) throws -> [UInt8] {
        try EVPMAC.compute(.cmac, key: key) { update in
            try data.withUnsafeBytes { try update($0) }
        }
    }

    /// AES-128-GMAC (RFC 4543): 16-byte key, 12-byte nonce, 16-byte tag; `data` is authenticated only.
    public static func aesGMAC(key: [UInt8], nonce: [UInt8], data: [UInt8]) throws -> [UInt8] {
        try EVPMAC.compute(.gmac(nonce: nonce), key: key) { update in
            try data.withUnsafeBytes { try update($0) }
        }
    }
}
