import XCTest
@testable import SMBAuth
import SMBCrypto

/// MS-NLMP 4.2.4 (NTLMv2 authentication) test vectors, inputs from 4.2.1:
/// User "User", UserDom "Domain", Passwd "Password", ServerChallenge 0123456789abcdef,
/// ClientChallenge aa*8, RandomSessionKey 55*16, Time 0, AV pairs NbDomainName "Domain", NbComputerName "Server".
final class NTLMv2VectorTests: XCTestCase {
    let serverChallenge = hex("0123456789abcdef")
    let clientChallenge = [UInt8](repeating: 0xaa, count: 8)
    let randomSessionKey = [UInt8](repeating: 0x55, count: 16)

    var serverName: [UInt8] {
        NTLMMessage.encodeAVPairs([
            AVPair(id: AvId.nbDomainName.rawValue, value: UTF16LE.encode("Domain")),
            AVPair(id: AvId.nbComputerName.rawValue, value: UTF16LE.encode("Server")),
        ])
    }

    /// The credentials keep NTOWFv1 (MS-NLMP 4.2.2.1.2), not the password, whichever way it
    /// is given; NTOWFv2 from it is 4.2.4.1.1's.
    func testCredentialsKeepTheNTHashNotThePassword() {
        let fromString = NTLMCredentials(user: "User", password: "Password", domain: "Domain", workstation: "COMPUTER")
        let fromBytes = NTLMCredentials(user: "User", passwordUTF8: Array("Password".utf8), domain: "Domain", workstation: "COMPUTER")
        XCTAssertEqual(hexString(fromString.ntHash), "a4f49c406510bdcab6824ee7c30fd852")
        XCTAssertEqual(fromBytes.ntHash, fromString.ntHash)
        XCTAssertEqual(hexString(NTLMv2.ntowfv2(user: "User", ntHash: fromBytes.ntHash, domain: "Domain")),
                       "0c868a403bfd7a93a3001ef22ef02e3f")
        XCTAssertFalse(Mirror(reflecting: fromString).children.contains { ($0.value as? String) == "Password" })
        let accented = NTLMCredentials(user: "u", passwordUTF8: Array("Grüße€".utf8), domain: "", workstation: "")
        XCTAssertEqual(accented.ntHash, NTLMCredentials(user: "u", password: "Grüße€", domain: "", workstation: "").ntHash)
    }

    func testVectors() {
        let key = NTLMv2.ntowfv2(user: "User", password: "Password", domain: "Domain")
        XCTAssertEqual(hexString(key), "0c868a403bfd7a93a3001ef22ef02e3f")                                     // 4.2.4.1.1

        let lm = NTLMv2.lmv2Response(responseKeyLM: key, serverChallenge: serverChallenge, clientChallenge: clientChallenge)
        XCTAssertEqual(hexString(lm), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")                      // 4.2.4.2.1

        let temp = NTLMv2.clientBlob(timestamp: 0, clientChallenge: clientChallenge, serverName: serverName)
        let proof = NTLMv2.ntProofStr(responseKeyNT: key, serverChallenge: serverChallenge, temp: temp)
        XCTAssertEqual(hexString(proof), "68cd0ab851e51c96aabc927bebef6a1c")                                   // 4.2.4.2.2

        let sessionBaseKey = NTLMv2.sessionBaseKey(responseKeyNT: key, ntProofStr: proof)
        XCTAssertEqual(hexString(sessionBaseKey), "8de40ccadbc14a82f15cb0ad0de95ca3")                          // 4.2.4.1.2

        let encrypted = NTLMv2.encryptSessionKey(keyExchangeKey: sessionBaseKey, exportedSessionKey: randomSessionKey)
        XCTAssertEqual(hexString(encrypted), "c5dad2544fc9799094ce1ce90bc9d03e")                               // 4.2.4.2.3
    }

    func testUppercaseIsPerScalar() {
        XCTAssertEqual(UTF16LE.uppercase("user"), "USER")
        XCTAssertEqual(UTF16LE.uppercase("straße"), "STRAßE")  // U+00DF has no single-scalar uppercase
    }

    /// The whole client path with the injected values, checked field by field.
    func testAuthenticateMessage() throws {
        var client = NTLMClient(credentials: Fixtures.credentials)
        client.overrides = .init(clientChallenge: clientChallenge, timestamp: nil, exportedSessionKey: randomSessionKey)
        let negotiate = client.negotiate()
        XCTAssertEqual(negotiate.count, 40)
        XCTAssertEqual(Array(negotiate[12..<16]), [0x35, 0x82, 0x88, 0xe2])

        let challenge = Fixtures.challenge()
        let auth = try client.authenticate(challenge: challenge)
        let m = auth.message
        let r = LittleEndianReader(m)
        XCTAssertEqual(Array(m[0..<8]), NTLM.signature)
        XCTAssertEqual(try r.u32(at: 8), 3)
        func field(_ at: Int) throws -> [UInt8] {
            Array(try r.slice(Int(try r.u32(at: at + 4)), Int(try r.u16(at: at))))
        }
        XCTAssertEqual(try field(12), [UInt8](repeating: 0, count: 24))              // LM: Z(24) with MIC
        XCTAssertEqual(try field(28), UTF16LE.encode("Domain"))
        XCTAssertEqual(try field(36), UTF16LE.encode("User"))
        XCTAssertEqual(try field(44), UTF16LE.encode("COMPUTER"))
        XCTAssertEqual(try r.u32(at: 60), Fixtures.challengeFlags & 0xE288_8235)

        // NT response: proof + temp; temp carries the server's timestamp and our AV pairs.
        let nt = try field(20)
        let temp = Array(nt[16...])
        XCTAssertEqual(Array(temp[0..<2]), [1, 1])
        XCTAssertEqual(try LittleEndianReader(temp).u64(at: 8), Fixtures.timestamp)
        XCTAssertEqual(Array(temp[16..<24]), clientChallenge)
        let pairs = try ChallengeMessage.parseAVPairs(Array(temp[28..<(temp.count - 4)]))
        XCTAssertEqual(pairs.first { $0.id == AvId.flags.rawValue }?.value, [2, 0, 0, 0])
        XCTAssertEqual(pairs.first { $0.id == AvId.targetName.rawValue }?.value, UTF16LE.encode("cifs/server.example"))
        let key = NTLMv2.ntowfv2(user: "User", password: "Password", domain: "Domain")
        XCTAssertEqual(Array(nt[0..<16]), NTLMv2.ntProofStr(responseKeyNT: key, serverChallenge: Fixtures.serverChallenge, temp: temp))

        // Session key exchange.
        let baseKey = NTLMv2.sessionBaseKey(responseKeyNT: key, ntProofStr: Array(nt[0..<16]))
        var rc4 = RC4(key: baseKey)
        XCTAssertEqual(rc4.process(try field(52)), randomSessionKey)
        XCTAssertEqual(auth.exportedSessionKey, randomSessionKey)

        // MIC over the three messages with the MIC field zeroed.
        var zeroed = m
        for i in 72..<88 { zeroed[i] = 0 }
        XCTAssertEqual(Array(m[72..<88]), MAC.hmacMD5(key: randomSessionKey, data: negotiate + challenge + zeroed))
    }

    /// Cross-checked with an independent Python build of the same AUTHENTICATE (Tests/SMBAuthTests comment in report).
    func testAuthenticateMessageBytesMatchPython() throws {
        var client = NTLMClient(credentials: Fixtures.credentials)
        client.overrides = .init(clientChallenge: clientChallenge, timestamp: nil, exportedSessionKey: randomSessionKey)
        _ = client.negotiate()
        let auth = try client.authenticate(challenge: Fixtures.challenge())
        XCTAssertEqual(hexString(Digest.sha256(auth.message)), PythonExpected.authenticateSHA256)
        XCTAssertEqual(hexString(Array(auth.message[72..<88])), PythonExpected.authenticateMIC)
    }

    func testNoKeyExchange() throws {
        var client = NTLMClient(credentials: Fixtures.credentials)
        _ = client.negotiate()
        let auth = try client.authenticate(challenge: Fixtures.challenge(flags: Fixtures.challengeFlags & ~0x4000_0000))
        let r = LittleEndianReader(auth.message)
        XCTAssertEqual(try r.u16(at: 52), 0)       // no EncryptedRandomSessionKey
        XCTAssertEqual(auth.exportedSessionKey.count, 16)
    }

    func testRequiresExtendedSessionSecurity() {
        var client = NTLMClient(credentials: Fixtures.credentials)
        _ = client.negotiate()
        XCTAssertThrowsError(try client.authenticate(challenge: Fixtures.challenge(flags: Fixtures.challengeFlags & ~0x0008_0000))) {
            XCTAssertEqual($0 as? AuthError, .unsupported("server does not offer extended session security"))
        }
    }
}
