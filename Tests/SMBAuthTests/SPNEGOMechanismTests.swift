import XCTest
@testable import SMBAuth

/// SPNEGO (RFC 4178) around a mechanism other than NTLM: the Kerberos shape of the exchange
/// (one token each way, the MIC only when the server is not done), with a scripted mechanism in
/// place of GSSAPI so every branch can be driven.
final class SPNEGOMechanismTests: XCTestCase {
    /// Answers "AP-REQ" first and completes on the server's token; MICs are "MIC" + message.
    struct Scripted: SPNEGOMechanism {
        static let name = "Kerberos"
        static let oids = KerberosMechanism.oids
        static let mustBeAdvertised = true
        var steps = 0
        var isComplete: Bool { steps == 2 }
        var sessionKey: [UInt8]? { isComplete ? Array(repeating: 7, count: 32) : nil }
        mutating func step(_ input: [UInt8]?) throws -> [UInt8] {
            steps += 1
            if steps == 1 { XCTAssertNil(input); return Array("AP-REQ".utf8) }
            XCTAssertEqual(input, Array("AP-REP".utf8))
            return []
        }
        func mic(_ message: [UInt8]) throws -> [UInt8] { Array("MIC".utf8) + message }
        func verifyMIC(_ message: [UInt8], _ mic: [UInt8]) -> Bool { mic == Array("SRV".utf8) + message }
    }

    let krb5 = KerberosMechanism.oids[0]
    var list: [UInt8] { SPNEGO.encodeMechTypeList([krb5]) }

    func resp(_ state: SPNEGO.NegState?, mech: [UInt8]? = nil, token: String? = nil, mic: [UInt8]? = nil) -> [UInt8] {
        SPNEGO.encode(SPNEGO.NegTokenResp(negState: state, supportedMech: mech, responseToken: token.map { Array($0.utf8) },
                                          mechListMIC: mic))
    }

    func started() throws -> SPNEGOClient<Scripted> {
        var c = SPNEGOClient(mechanism: Scripted())
        let first = try SPNEGO.decodeInit(try c.nextToken(serverToken: nil))
        XCTAssertEqual(first.mechTypes, [krb5], "only Kerberos is offered")
        XCTAssertEqual(first.mechToken, Array("AP-REQ".utf8))
        return c
    }

    /// The usual Kerberos answer: accept-completed with the AP-REP in the final response. No
    /// MIC is owed when the server took the client's first mechanism (RFC 4178 5).
    func testOneLegWithMutualAuthentication() throws {
        var c = try started()
        XCTAssertEqual(try c.nextToken(serverToken: resp(.acceptCompleted, mech: krb5, token: "AP-REP")), [])
        XCTAssertTrue(c.isComplete)
        XCTAssertEqual(c.sessionKey?.count, 32)
    }

    /// The older Windows OID in supportedMech is the same mechanism.
    func testMicrosoftKerberosOIDAccepted() throws {
        var c = try started()
        XCTAssertEqual(try c.nextToken(serverToken: resp(.acceptCompleted, mech: KerberosMechanism.oids[1], token: "AP-REP")), [])
        XCTAssertTrue(c.isComplete)
    }

    /// A server that sends its MIC and waits for the client's: verified, answered, then done.
    func testServerAsksForTheMIC() throws {
        var c = try started()
        let answer = try SPNEGO.decodeResp(try c.nextToken(serverToken: resp(.acceptIncomplete, mech: krb5, token: "AP-REP",
                                                                               mic: Array("SRV".utf8) + list)))
        XCTAssertNil(answer.responseToken)
        XCTAssertEqual(answer.mechListMIC, Array("MIC".utf8) + list)
        XCTAssertFalse(c.isComplete)
        XCTAssertEqual(try c.nextToken(serverToken: resp(.acceptCompleted)), [])
        XCTAssertTrue(c.isComplete)
    }

    func testBadServerMICRefused() throws {
        var c = try started()
        XCTAssertThrowsError(try c.nextToken(serverToken: resp(.acceptCompleted, token: "AP-REP", mic: Array("SRV-bad".utf8)))) {
            XCTAssertEqual($0 as? AuthError, .integrity("server mechListMIC does not verify"))
        }
        XCTAssertFalse(c.isComplete)
    }

    /// Completed by the server while the mechanism still waits for a token (no AP-REP, so the
    /// server never proved itself): refused.
    func testCompletedWithoutMutualAuthenticationRefused() throws {
        var c = try started()
        XCTAssertThrowsError(try c.nextToken(serverToken: resp(.acceptCompleted, mech: krb5))) {
            XCTAssertEqual($0 as? AuthError, .unsupported("server completed SPNEGO before Kerberos did"))
        }
        XCTAssertFalse(c.isComplete)
    }

    /// A server that keeps saying accept-incomplete once there is nothing left to send.
    func testServerAskingForMoreForeverRefused() throws {
        var c = try started()
        _ = try c.nextToken(serverToken: resp(.acceptIncomplete, token: "AP-REP"))   // sends the MIC
        XCTAssertThrowsError(try c.nextToken(serverToken: resp(.acceptIncomplete))) {
            XCTAssertEqual($0 as? AuthError, .unsupported("the server asks for more than Kerberos has to send"))
        }
    }

    /// The NEGOTIATE response's hint lists the server's mechanisms: without Kerberos among them
    /// the mount fails at once with a line that says so; NTLM is never offered instead.
    func testServerWithoutKerberos() throws {
        let hint = SPNEGO.encodeInitialContextToken(SPNEGO.NegTokenInit(mechTypes: [SPNEGO.ntlmsspOID], mechToken: nil, mechListMIC: nil))
        var c = SPNEGOClient(mechanism: Scripted())
        XCTAssertThrowsError(try c.nextToken(serverToken: hint)) {
            XCTAssertEqual($0 as? AuthError, .unsupported("the server does not offer Kerberos"))
        }
        let both = SPNEGO.encodeInitialContextToken(SPNEGO.NegTokenInit(mechTypes: [KerberosMechanism.oids[1], SPNEGO.ntlmsspOID],
                                                                        mechToken: nil, mechListMIC: nil))
        var d = SPNEGOClient(mechanism: Scripted())
        XCTAssertEqual(try SPNEGO.decodeInit(try d.nextToken(serverToken: both)).mechTypes, [krb5])
    }

    func testOtherMechanismOrRejectRefused() throws {
        var c = try started()
        XCTAssertThrowsError(try c.nextToken(serverToken: resp(.acceptIncomplete, mech: SPNEGO.ntlmsspOID, token: "AP-REP"))) {
            XCTAssertEqual($0 as? AuthError, .unsupported("server chose a mechanism other than Kerberos"))
        }
        var d = try started()
        XCTAssertThrowsError(try d.nextToken(serverToken: resp(.reject))) { XCTAssertEqual($0 as? AuthError, .logonFailure) }
    }

    /// The target name: a principal without realm becomes GSSAPI's host-based form, so
    /// krb5.conf's domain_realm picks the realm; with a realm it is taken as is.
    func testServiceNameForms() {
        XCTAssertEqual(KerberosCredentials(servicePrincipal: "cifs/fs.example.com").gssName, "cifs@fs.example.com")
        XCTAssertEqual(KerberosCredentials(servicePrincipal: "cifs/fs.example.com@EXAMPLE.COM").gssName, "cifs/fs.example.com@EXAMPLE.COM")
    }

    /// GSSAPI itself, without a KDC: an empty cache is "no ticket" (the line that says kinit).
    func testNoTicketFromGSSAPI() throws {
        let dir = NSTemporaryDirectory() + "spnego-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let conf = dir + "/krb5.conf"
        try "[libdefaults]\n default_realm = NOWHERE.TEST\n dns_lookup_kdc = false\n dns_lookup_realm = false\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        setenv("KRB5_CONFIG", conf, 1)
        defer { unsetenv("KRB5_CONFIG") }
        XCTAssertThrowsError(try KerberosCredentials(servicePrincipal: "cifs/fs.nowhere.test", cache: "FILE:\(dir)/none").check()) {
            XCTAssertTrue(($0 as? GSSError)?.isMissingTicket ?? false, "\($0)")
        }
    }
}
