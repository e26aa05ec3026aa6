import SMBCrypto

/// NTLMv2 computations (MS-NLMP 3.3.2, 3.4.5).
enum NTLMv2 {
    /// NTOWFv2 = HMAC_MD5(MD4(UNICODE(Passwd)), UNICODE(ConcatenationOf(Uppercase(User), UserDom))).
    static func ntowfv2(user: String, password: String, domain: String) -> [UInt8] {
        ntowfv2(user: user, ntHash: Digest.md4(UTF16LE.encode(password)), domain: domain)
    }

    /// NTOWFv2 from NTOWFv1 (MD4(UNICODE(Passwd)), 3.3.1), which is what the credentials keep.
    static func ntowfv2(user: String, ntHash: [UInt8], domain: String) -> [UInt8] {
        MAC.hmacMD5(key: ntHash, data: UTF16LE.encode(UTF16LE.uppercase(user) + domain))
    }

    /// temp = Responserversion(1) HiResponserversion(1) Z(6) Time ClientChallenge Z(4) ServerName Z(4)
    /// (NTLMv2_CLIENT_CHALLENGE, MS-NLMP 2.2.2.7). `serverName` is the encoded AV pair list.
    static func clientBlob(timestamp: UInt64, clientChallenge: [UInt8], serverName: [UInt8]) -> [UInt8] {
        var temp: [UInt8] = [1, 1, 0, 0, 0, 0, 0, 0]
        temp.appendLE(timestamp)
        temp += clientChallenge
        temp += [0, 0, 0, 0]
        temp += serverName
        temp += [0, 0, 0, 0]
        return temp
    }

    /// NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge + temp).
    static func ntProofStr(responseKeyNT: [UInt8], serverChallenge: [UInt8], temp: [UInt8]) -> [UInt8] {
        MAC.hmacMD5(key: responseKeyNT, data: serverChallenge + temp)
    }

    /// LMv2 response = HMAC_MD5(ResponseKeyLM, ServerChallenge + ClientChallenge) + ClientChallenge.
    static func lmv2Response(responseKeyLM: [UInt8], serverChallenge: [UInt8], clientChallenge: [UInt8]) -> [UInt8] {
        MAC.hmacMD5(key: responseKeyLM, data: serverChallenge + clientChallenge) + clientChallenge
    }

    /// SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 KeyExchangeKey = SessionBaseKey (3.4.5.1).
    static func sessionBaseKey(responseKeyNT: [UInt8], ntProofStr: [UInt8]) -> [UInt8] {
        MAC.hmacMD5(key: responseKeyNT, data: ntProofStr)
    }

    /// EncryptedRandomSessionKey = RC4K(KeyExchangeKey, ExportedSessionKey) (3.1.5.1.2).
    static func encryptSessionKey(keyExchangeKey: [UInt8], exportedSessionKey: [UInt8]) -> [UInt8] {
        var rc4 = RC4(key: keyExchangeKey)
        return rc4.process(exportedSessionKey)
    }

    /// MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE + CHALLENGE + AUTHENTICATE with MIC zeroed) (3.1.5.1.2).
    static func mic(exportedSessionKey: [UInt8], negotiate: [UInt8], challenge: [UInt8], authenticate: [UInt8]) -> [UInt8] {
        MAC.hmacMD5(key: exportedSessionKey, data: negotiate + challenge + authenticate)
    }
}
