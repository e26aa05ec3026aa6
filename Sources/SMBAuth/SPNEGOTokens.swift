/// SPNEGO tokens (RFC 4178 4.2, MS-SPNG 2.2) and the GSS-API framing of the first one (RFC 2743 3.1).
enum SPNEGO {
    /// 1.3.6.1.5.5.2, the SPNEGO mechanism (RFC 4178 3), as DER OID contents.
    static let spnegoOID: [UInt8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]
    /// 1.3.6.1.4.1.311.2.2.10, NTLMSSP (MS-NLMP 1.9 / MS-SPNG 1.9).
    static let ntlmsspOID: [UInt8] = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a]

    /// RFC 4178 4.2.2 negState.
    enum NegState: UInt8, Equatable {
        case acceptCompleted = 0
        case acceptIncomplete = 1
        case reject = 2
        case requestMIC = 3
    }

    /// RFC 4178 4.2.1 NegTokenInit, also read in its MS-SPNG 2.2.1 NegTokenInit2 form
    /// (negHints at [3], mechListMIC at [4]).
    struct NegTokenInit: Equatable {
        /// OID contents (without tag and length), in the order sent.
        var mechTypes: [[UInt8]]
        var mechToken: [UInt8]?
        var mechListMIC: [UInt8]?
    }

    /// RFC 4178 4.2.2 NegTokenResp.
    struct NegTokenResp: Equatable {
        var negState: NegState?
        var supportedMech: [UInt8]?
        var responseToken: [UInt8]?
        var mechListMIC: [UInt8]?
    }

    // MARK: encoding

    /// RFC 4178 4.2.1 MechTypeList ::= SEQUENCE OF MechType. Its DER is what mechListMIC covers.
    static func encodeMechTypeList(_ mechTypes: [[UInt8]]) -> [UInt8] {
        DER.tlv(DER.sequence, mechTypes.flatMap { DER.tlv(DER.oid, $0) })
    }

    /// NegotiationToken negTokenInit: [0] NegTokenInit.
    static func encode(_ token: NegTokenInit) -> [UInt8] {
        var fields = DER.tlv(DER.context(0), encodeMechTypeList(token.mechTypes))
        if let t = token.mechToken { fields += DER.tlv(DER.context(2), DER.tlv(DER.octetString, t)) }
        if let m = token.mechListMIC { fields += DER.tlv(DER.context(3), DER.tlv(DER.octetString, m)) }
        return DER.tlv(DER.context(0), DER.tlv(DER.sequence, fields))
    }

    /// RFC 2743 3.1 InitialContextToken: [APPLICATION 0] { thisMech OID, innerContextToken }.
    static func encodeInitialContextToken(_ token: NegTokenInit) -> [UInt8] {
        DER.tlv(DER.application0, DER.tlv(DER.oid, spnegoOID) + encode(token))
    }

    /// NegotiationToken negTokenResp: [1] NegTokenResp.
    static func encode(_ token: NegTokenResp) -> [UInt8] {
        var fields = [UInt8]()
        if let s = token.negState { fields += DER.tlv(DER.context(0), DER.tlv(DER.enumerated, [s.rawValue])) }
        if let m = token.supportedMech { fields += DER.tlv(DER.context(1), DER.tlv(DER.oid, m)) }
        if let t = token.responseToken { fields += DER.tlv(DER.context(2), DER.tlv(DER.octetString, t)) }
        if let m = token.mechListMIC { fields += DER.tlv(DER.context(3), DER.tlv(DER.octetString, m)) }
        return DER.tlv(DER.context(1), DER.tlv(DER.sequence, fields))
    }

    // MARK: decoding

    /// Decodes an InitialContextToken carrying SPNEGO, or a bare [0] NegTokenInit.
    static func decodeInit(_ bytes: [UInt8]) throws -> NegTokenInit {
        var top = try DER.Reader(bytes)
        if top.peekTag() == DER.application0 {
            let app = try top.read(tag: DER.application0)
            try top.expectEnd()
            var inner = try top.children(of: app)
            let mech = try inner.read(tag: DER.oid)
            guard Array(mech.contents) == spnegoOID else { throw AuthError.unsupported("GSS-API token is not SPNEGO") }
            let token = try decodeNegTokenInit(&inner)
            try inner.expectEnd()
            return token
        }
        let token = try decodeNegTokenInit(&top)
        try top.expectEnd()
        return token
    }

    private static func decodeNegTokenInit(_ reader: inout DER.Reader) throws -> NegTokenInit {
        let choice = try reader.read(tag: DER.context(0))
        var choiceReader = try reader.children(of: choice)
        let seq = try choiceReader.read(tag: DER.sequence)
        try choiceReader.expectEnd()
        var fields = try choiceReader.children(of: seq)

        var token = NegTokenInit(mechTypes: [])
        // mechTypes [0] is mandatory.
        let mechTypesOuter = try fields.read(tag: DER.context(0))
        var mechTypesWrap = try fields.children(of: mechTypesOuter)
        let list = try mechTypesWrap.read(tag: DER.sequence)
        try mechTypesWrap.expectEnd()
        var oids = try mechTypesWrap.children(of: list)
        while !oids.isAtEnd {
            token.mechTypes.append(Array(try oids.read(tag: DER.oid).contents))
        }

        var lastTag: UInt8 = 0
        while !fields.isAtEnd {
            let field = try fields.read()
            let number = field.tag & 0x1f
            guard field.tag & 0xe0 == 0xa0, number > lastTag, number <= 4 else {
                throw AuthError.malformed("NegTokenInit: unexpected field tag 0x\(String(field.tag, radix: 16))")
            }
            lastTag = number
            var inner = try fields.children(of: field)
            let value = try inner.read()
            try inner.expectEnd()
            switch (number, value.tag) {
            case (1, DER.bitString):                 // reqFlags: ignored
                break
            case (2, DER.octetString):
                token.mechToken = Array(value.contents)
            case (3, DER.sequence):                  // MS-SPNG negHints: validate, ignore
                var hints = try inner.children(of: value)
                while !hints.isAtEnd {
                    let hint = try hints.read()
                    guard hint.tag & 0xe0 == 0xa0 else { throw AuthError.malformed("NegHints: bad field") }
                    var hintInner = try hints.children(of: hint)
                    _ = try hintInner.read()
                    try hintInner.expectEnd()
                }
            case (3, DER.octetString), (4, DER.octetString):
                token.mechListMIC = Array(value.contents)
            default:
                throw AuthError.malformed("NegTokenInit: field [\(number)] has tag 0x\(String(value.tag, radix: 16))")
            }
        }
        return token
    }

    /// Decodes a [1] NegTokenResp.
    static func decodeResp(_ bytes: [UInt8]) throws -> NegTokenResp {
        var top = try DER.Reader(bytes)
        let choice = try top.read(tag: DER.context(1))
        try top.expectEnd()
        var choiceReader = try top.children(of: choice)
        let seq = try choiceReader.read(tag: DER.sequence)
        try choiceReader.expectEnd()
        var fields = try choiceReader.children(of: seq)

        var token = NegTokenResp()
        var lastTag: Int = -1
        while !fields.isAtEnd {
            let field = try fields.read()
            let number = Int(field.tag & 0x1f)
            guard field.tag & 0xe0 == 0xa0, number > lastTag, number <= 3 else {
                throw AuthError.malformed("NegTokenResp: unexpected field tag 0x\(String(field.tag, radix: 16))")
            }
            lastTag = number
            var inner = try fields.children(of: field)
            let value = try inner.read()
            try inner.expectEnd()
            switch (number, value.tag) {
            case (0, DER.enumerated):
                guard value.contents.count == 1, let first = value.contents.first,
                      let state = NegState(rawValue: first) else {
                    throw AuthError.malformed("NegTokenResp: bad negState")
                }
                token.negState = state
            case (1, DER.oid):
                token.supportedMech = Array(value.contents)
            case (2, DER.octetString):
                token.responseToken = Array(value.contents)
            case (3, DER.octetString):
                token.mechListMIC = Array(value.contents)
            default:
                throw AuthError.malformed("NegTokenResp: field [\(number)] has tag 0x\(String(value.tag, radix: 16))")
            }
        }
        return token
    }
}
