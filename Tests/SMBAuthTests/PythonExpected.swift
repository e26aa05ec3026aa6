/// Values computed by an independent Python script (hmac/hashlib + cryptography's ARC4) that builds
/// the same messages from MS-NLMP 2.2.1.3 / 3.1.5.1.2 / 3.4.4.2 for the inputs in Fixtures.
enum PythonExpected {
    /// SHA-256 of the AUTHENTICATE_MESSAGE for Fixtures.challenge(), client challenge aa*8, ExportedSessionKey 55*16.
    static let authenticateSHA256 = "3142cfec75039719d6b5d6a368e10f08889456d2c427e94a39922bb388640d91"
    static let authenticateMIC = "960adb96a1bdad03c36aa2fd461ee323"
    /// mechListMIC over 300c060a2b06010401823702020a, ExportedSessionKey 55*16, KEY_EXCH|128, seq 0.
    static let clientMechListMIC = "0100000022a3984fefbb9c3200000000"
    static let serverMechListMIC = "010000007dd6da05648a73ae00000000"
}
