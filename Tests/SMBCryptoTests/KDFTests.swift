import XCTest
@testable import SMBCrypto

/// MS-SMB2 3.1.4.2 KDF. Expected values were computed with Python `cryptography`'s KBKDFHMAC
/// (SHA256, CounterMode, rlen=4, llen=4, location=BeforeFixed, label, context), an independent
/// SP800-108 implementation.
final class KDFTests: XCTestCase {
    let sessionKey = hex("270e1ba896585eeb7af3472d3b4c75a7")

    /// SMB 3.0 signing key: label "SMB2AESCMAC\0", context "SmbSign\0".
    func testSMB30SigningKey() {
        let key = KDF.smb3(key: sessionKey, label: ascii("SMB2AESCMAC\0"), context: ascii("SmbSign\0"))
        XCTAssertEqual(hexString(key), "4eeaf9e6bc024e1adf4a560f01570deb")
    }

    /// SMB 3.1.1 signing key: label "SMBSigningKey\0", context = 64-byte preauth hash (here 00 01 .. 3f).
    func testSMB311SigningKey() {
        let preauth = (0..<64).map { UInt8($0) }
        let key = KDF.smb3(key: sessionKey, label: ascii("SMBSigningKey\0"), context: preauth)
        XCTAssertEqual(hexString(key), "fa0dcbeacdef1a2ea760aa17d5a0be92")
    }

    /// 256-bit output (AES-256 cipher keys, MS-SMB2 3.2.5.3.1).
    func testSMB311CipherKey256() {
        let preauth = (0..<64).map { UInt8($0) }
        let key = KDF.smb3(key: sessionKey, label: ascii("SMBC2SCipherKey\0"), context: preauth, outputBits: 256)
        XCTAssertEqual(hexString(key), "c273f0de35671e766ef5106b605054d70385f9237f1327662763de8ac2444317")
    }
}
