import XCTest
@testable import SMBCrypto

final class MACTests: XCTestCase {
    /// RFC 4231 test case 2.
    func testHMACSHA256RFC4231Case2() {
        XCTAssertEqual(hexString(MAC.hmacSHA256(key: ascii("Jefe"), data: ascii("what do ya want for nothing?"))),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    /// RFC 4231 test case 6: key longer than the block size.
    func testHMACSHA256LongKey() {
        let key = [UInt8](repeating: 0xaa, count: 131)
        XCTAssertEqual(hexString(MAC.hmacSHA256(key: key, data: ascii("Test Using Larger Than Block-Size Key - Hash Key First"))),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// RFC 2104 appendix sample.
    func testHMACMD5RFC2104() {
        XCTAssertEqual(hexString(MAC.hmacMD5(key: ascii("Jefe"), data: ascii("what do ya want for nothing?"))),
                       "750c783e6ab0b503eaa86e310a5db738")
    }

    /// RFC 4493 section 4, all four examples.
    func testAESCMACRFC4493() throws {
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c")
        let m = hex("6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
                    + "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710")
        XCTAssertEqual(hexString(try MAC.aesCMAC(key: key, data: [])), "bb1d6929e95937287fa37d129b756746")
        XCTAssertEqual(hexString(try MAC.aesCMAC(key: key, data: Array(m[0..<16]))), "070a16b46b4d4144f79bdd9dd04a287c")
        XCTAssertEqual(hexString(try MAC.aesCMAC(key: key, data: Array(m[0..<40]))), "dfa66747de9ae63030ca32611497c827")
        XCTAssertEqual(hexString(try MAC.aesCMAC(key: key, data: m)), "51f0bebf7e3b9d92fc49741779363cfe")
    }

    func testAESCMACRejectsBadKey() {
        XCTAssertThrowsError(try MAC.aesCMAC(key: [1, 2, 3], data: [])) { error in
            XCTAssertEqual(error as? CryptoError, .invalidKeyLength(3))
        }
    }

    /// GCM spec (McGrew/Viega) test case 1: zero key and IV, nothing authenticated.
    func testAESGMACGCMSpecCase1() throws {
        XCTAssertEqual(hexString(try MAC.aesGMAC(key: [UInt8](repeating: 0, count: 16),
                                                 nonce: [UInt8](repeating: 0, count: 12), data: [])),
                       "58e2fccefa7e3061367f1d57a4e7455a")
    }

    /// Key, IV and AAD of GCM spec test case 4 with an empty plaintext; the tag was computed with
    /// Python `cryptography` AESGCM(key).encrypt(iv, b"", aad).
    func testAESGMACWithAAD() throws {
        let tag = try MAC.aesGMAC(key: hex("feffe9928665731c6d6a8f9467308308"),
                                  nonce: hex("cafebabefacedbaddecaf888"),
                                  data: hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"))
        XCTAssertEqual(hexString(tag), "346434fd51d5cd0c5887ec63e39b907a")
    }

    func testAESGMACRejectsBadNonce() {
        XCTAssertThrowsError(try MAC.aesGMAC(key: [UInt8](repeating: 0, count: 16), nonce: [0], data: []))
    }

    /// Well-known RC4 vectors (Wikipedia "RC4" test vectors).
    func testRC4() {
        var a = RC4(key: ascii("Key"))
        XCTAssertEqual(hexString(a.process(ascii("Plaintext"))), "bbf316e8d940af0ad3")
        var b = RC4(key: ascii("Wiki"))
        XCTAssertEqual(hexString(b.process(ascii("pedia"))), "1021bf0420")
        var c = RC4(key: ascii("Secret"))
        XCTAssertEqual(hexString(c.process(ascii("Attack at dawn"))), "45a01f645fc35b383552544b9bf5")
    }

    /// The stream state carries over between calls.
    func testRC4IsStateful() {
        var whole = RC4(key: ascii("Secret"))
        var split = RC4(key: ascii("Secret"))
        let data = ascii("Attack at dawn")
        let expected = whole.process(data)
        XCTAssertEqual(split.process(Array(data[0..<5])) + split.process(Array(data[5...])), expected)
    }
}
