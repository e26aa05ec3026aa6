import XCTest
@testable import SMBAuth
import SMBCrypto

final class SPNEGOClientTests: XCTestCase {
    let esk = [UInt8](repeating: 0x55, count: 16)

    func challengeToken() -> [UInt8] {
        SPNEGO.encode(SPNEGO.NegTokenResp(negState: .acceptIncomplete, supportedMech: SPNEGO.ntlmsspOID,
                                          responseToken: Fixtures.challenge(), mechListMIC: nil))
    }

    func clientAfterAuthenticate() throws -> (SPNEGOClient<NTLMMechanism>, SPNEGO.NegTokenResp) {
        var client = SPNEGOClient(ntlm: Fixtures.credentials)
        client.ntlm.overrides = .init(clientChallenge: nil, timestamp: nil, exportedSessionKey: esk)
        let first = try client.nextToken(serverToken: nil)
        let init_ = try SPNEGO.decodeInit(first)
        XCTAssertEqual(init_.mechTypes, [SPNEGO.ntlmsspOID])
        XCTAssertEqual(Array(init_.mechToken?.prefix(12) ?? []), NTLM.signature + [1, 0, 0, 0])
        XCTAssertFalse(client.isComplete)
        let second = try client.nextToken(serverToken: challengeToken())
        return (client, try SPNEGO.decodeResp(second))
    }

    /// MS-NLMP 3.4.4.2 GSS_GetMIC with KEY_EXCH; expected values from Python (PythonExpected).
    func testMechListMICMatchesPython() {
        let list = SPNEGO.encodeMechTypeList([SPNEGO.ntlmsspOID])
        XCTAssertEqual(hexString(list), "300c060a2b06010401823702020a")
        let flags: NTLMFlags = [.negotiateKeyExchange, .negotiate128, .extendedSessionSecurity]
        var c = NTLMSigner(exportedSessionKey: esk, flags: flags, direction: .clientToServer)
        XCTAssertEqual(hexString(c.mic(list)), PythonExpected.clientMechListMIC)
        XCTAssertEqual(c.sequenceNumber, 1)
        var s = NTLMSigner(exportedSessionKey: esk, flags: flags, direction: .serverToClient)
        XCTAssertEqual(hexString(s.mic(list)), PythonExpected.serverMechListMIC)
    }

    func testFullExchange() throws {
        var (client, resp) = try clientAfterAuthenticate()
        XCTAssertEqual(resp.mechListMIC.map(hexString), PythonExpected.clientMechListMIC)
        let auth = try XCTUnwrap(resp.responseToken)
        XCTAssertEqual(Array(auth[8..<12]), [3, 0, 0, 0])
        XCTAssertEqual(client.sessionKey, esk)
        XCTAssertFalse(client.isComplete)

        let final = SPNEGO.encode(SPNEGO.NegTokenResp(negState: .acceptCompleted, supportedMech: nil, responseToken: nil,
                                                      mechListMIC: hex(PythonExpected.serverMechListMIC)))
        XCTAssertEqual(try client.nextToken(serverToken: final), [])
        XCTAssertTrue(client.isComplete)
        XCTAssertEqual(client.sessionKey, esk)
        XCTAssertThrowsError(try client.nextToken(serverToken: nil))
    }

    func testFinalWithoutMICOrEmpty() throws {
        var (a, _) = try clientAfterAuthenticate()
        XCTAssertEqual(try a.nextToken(serverToken: []), [])
        XCTAssertTrue(a.isComplete)
        var (b, _) = try clientAfterAuthenticate()
        XCTAssertEqual(try b.nextToken(serverToken: SPNEGO.encode(SPNEGO.NegTokenResp(negState: .acceptCompleted))), [])
        XCTAssertTrue(b.isComplete)
    }

    func testBadServerMIC() throws {
        var (client, _) = try clientAfterAuthenticate()
        var mic = hex(PythonExpected.serverMechListMIC)
        mic[5] ^= 1
        let final = SPNEGO.encode(SPNEGO.NegTokenResp(negState: .acceptCompleted, supportedMech: nil, responseToken: nil, mechListMIC: mic))
        XCTAssertThrowsError(try client.nextToken(serverToken: final)) {
            XCTAssertEqual($0 as? AuthError, .integrity("server mechListMIC does not verify"))
        }
        XCTAssertFalse(client.isComplete)
    }

    func testReject() throws {
        var client = SPNEGOClient(ntlm: Fixtures.credentials)
        _ = try client.nextToken(serverToken: [])
        XCTAssertThrowsError(try client.nextToken(serverToken: SPNEGO.encode(SPNEGO.NegTokenResp(negState: .reject)))) {
            XCTAssertEqual($0 as? AuthError, .logonFailure)
        }
        var (late, _) = try clientAfterAuthenticate()
        XCTAssertThrowsError(try late.nextToken(serverToken: SPNEGO.encode(SPNEGO.NegTokenResp(negState: .reject)))) {
            XCTAssertEqual($0 as? AuthError, .logonFailure)
        }
    }

    func testOtherMechanismRefused() throws {
        var client = SPNEGOClient(ntlm: Fixtures.credentials)
        _ = try client.nextToken(serverToken: nil)
        let resp = SPNEGO.encode(SPNEGO.NegTokenResp(negState: .acceptIncomplete, supportedMech: SPNEGOTokenTests.kerberosOID,
                                                     responseToken: [1], mechListMIC: nil))
        XCTAssertThrowsError(try client.nextToken(serverToken: resp)) {
            XCTAssertEqual($0 as? AuthError, .unsupported("server chose a mechanism other than NTLMSSP"))
        }
    }

    func testMissingOrGarbageChallenge() throws {
        var a = SPNEGOClient(ntlm: Fixtures.credentials)
        _ = try a.nextToken(serverToken: nil)
        XCTAssertThrowsError(try a.nextToken(serverToken: nil))
        var b = SPNEGOClient(ntlm: Fixtures.credentials)
        _ = try b.nextToken(serverToken: nil)
        XCTAssertThrowsError(try b.nextToken(serverToken: [0xa1, 0x02, 0x30, 0x00]))
        var c = SPNEGOClient(ntlm: Fixtures.credentials)
        XCTAssertThrowsError(try c.nextToken(serverToken: [0x60, 0x01]))
    }

    /// The returned AUTHENTICATE's MIC and the client mechListMIC are consistent with the
    /// exported session key a server would recover from EncryptedRandomSessionKey.
    func testServerCanRecoverKey() throws {
        let (_, resp) = try clientAfterAuthenticate()
        let auth = try XCTUnwrap(resp.responseToken)
        let r = LittleEndianReader(auth)
        let nt = Array(try r.slice(Int(try r.u32(at: 24)), Int(try r.u16(at: 20))))
        let key = NTLMv2.ntowfv2(user: "User", password: "Password", domain: "Domain")
        let base = NTLMv2.sessionBaseKey(responseKeyNT: key, ntProofStr: Array(nt[0..<16]))
        var rc4 = RC4(key: base)
        let recovered = rc4.process(Array(try r.slice(Int(try r.u32(at: 56)), Int(try r.u16(at: 52)))))
        XCTAssertEqual(recovered, esk)
    }
}
