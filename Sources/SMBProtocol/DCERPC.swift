/// Connection-oriented DCE/RPC PDUs (C706 chapter 12, MS-RPCE 2.2.2), as carried over an SMB
/// named pipe: the BIND that picks an interface, and the REQUEST/RESPONSE of one call, split
/// into fragments of at most the negotiated size. Little-endian data representation only.
public enum DCERPC {
    /// PTYPE values (C706 12.6.4.1).
    public enum PacketType: UInt8, Sendable {
        case request = 0, response = 2, fault = 3, bind = 11, bindAck = 12, bindNak = 13
    }

    /// pfc_flags (C706 12.6.3.1).
    public static let firstFragment: UInt8 = 0x01
    public static let lastFragment: UInt8 = 0x02

    /// The common header's size (C706 12.6.3.1), and that of a REQUEST's or RESPONSE's header
    /// with alloc_hint, p_cont_id and opnum (or cancel_count) after it (12.6.4.9, 12.6.4.10).
    public static let headerSize = 16
    public static let callHeaderSize = 24

    /// The largest fragment this client offers to send and receive (the size Windows uses),
    /// and the smallest it accepts from a BIND_ACK (C706 12.6.3.6: at least 1432).
    public static let fragmentSize: UInt16 = 4280
    public static let minimumFragmentSize = 1432

    /// A response larger than this is refused (a share list of thousands of shares is a few
    /// hundred KiB; nothing here needs more).
    public static let maximumResponse = 16 << 20

    /// An interface or transfer syntax: a UUID and a version (C706 12.6.3.1 p_syntax_id_t).
    public struct SyntaxId: Sendable, Equatable {
        public var uuid: [UInt8]       // 16 bytes, as the string form reads
        public var major: UInt16
        public var minor: UInt16

        /// The UUID's string form, 8-4-4-4-12 hex digits.
        public init(_ text: String, major: UInt16, minor: UInt16) {
            var out: [UInt8] = []
            var digits = text.filter { $0 != "-" }.makeIterator()
            while let a = digits.next(), let b = digits.next() {
                out.append(UInt8(String([a, b]), radix: 16) ?? 0)
            }
            uuid = out
            self.major = major
            self.minor = minor
        }

        /// NDR puts a UUID's first three fields little-endian, the last eight bytes as they are.
        func encode(into w: inout WireWriter) {
            w.bytes([uuid[3], uuid[2], uuid[1], uuid[0], uuid[5], uuid[4], uuid[7], uuid[6]])
            w.bytes(uuid[8..<16])
            w.u16(major)
            w.u16(minor)
        }
    }

    /// NDR 2.0, the transfer syntax every server takes (C706 14; MS-RPCE 2.2.4.12).
    public static let ndr = SyntaxId("8a885d04-1ceb-11c9-9fe8-08002b104860", major: 2, minor: 0)

    private static func header(_ type: PacketType, flags: UInt8, fragmentLength: Int, callId: UInt32) -> WireWriter {
        var w = WireWriter(capacity: fragmentLength)
        w.u8(5)                                 // rpc_vers
        w.u8(0)                                 // rpc_vers_minor
        w.u8(type.rawValue)
        w.u8(flags)
        w.bytes([0x10, 0, 0, 0])                // packed_drep: little-endian, ASCII, IEEE
        w.u16(UInt16(fragmentLength))
        w.u16(0)                                // auth_length: the SMB session protects the pipe
        w.u32(callId)
        return w
    }

    /// BIND for one presentation context, `interface` over NDR (C706 12.6.4.3).
    public static func bind(interface: SyntaxId, callId: UInt32) -> [UInt8] {
        let length = headerSize + 8 + 4 + 4 + 20 + 20
        var w = header(.bind, flags: firstFragment | lastFragment, fragmentLength: length, callId: callId)
        w.u16(fragmentSize)                     // max_xmit_frag
        w.u16(fragmentSize)                     // max_recv_frag
        w.u32(0)                                // assoc_group_id: a new association
        w.u8(1)                                 // n_context_elem
        w.zeros(3)
        w.u16(0)                                // p_cont_id
        w.u8(1)                                 // n_transfer_syn
        w.u8(0)
        interface.encode(into: &w)
        ndr.encode(into: &w)
        return w.bytes
    }

    /// One call's REQUEST PDUs: the stub cut into fragments no larger than `maxFragment`
    /// (C706 12.6.4.9; alloc_hint is the whole stub's size).
    public static func request(opnum: UInt16, stub: [UInt8], callId: UInt32, maxFragment: Int) -> [[UInt8]] {
        let room = max(8, (maxFragment - callHeaderSize) / 8 * 8)
        var fragments: [[UInt8]] = []
        var at = 0
        repeat {
            let n = min(room, stub.count - at)
            var flags: UInt8 = at == 0 ? firstFragment : 0
            if at + n == stub.count { flags |= lastFragment }
            var w = header(.request, flags: flags, fragmentLength: callHeaderSize + n, callId: callId)
            w.u32(UInt32(stub.count - at))      // alloc_hint
            w.u16(0)                            // p_cont_id
            w.u16(opnum)
            w.bytes(stub[at..<(at + n)])
            fragments.append(w.bytes)
            at += n
        } while at < stub.count
        return fragments
    }

    /// The common header of a PDU at the start of `bytes`.
    public struct Header: Sendable, Equatable {
        public var type: UInt8
        public var flags: UInt8
        public var fragmentLength: Int
        public var authLength: Int
        public var callId: UInt32

        public var isLast: Bool { flags & lastFragment != 0 }

        /// Nil while fewer than 16 bytes are there.
        public static func peek(_ bytes: ArraySlice<UInt8>) throws -> Header? {
            guard bytes.count >= headerSize else { return nil }
            var r = WireReader(Array(bytes.prefix(headerSize)))
            let version = try r.u8(), minor = try r.u8()
            guard version == 5, minor <= 1 else {
                throw ProtocolError.unexpected("DCE/RPC: version \(version).\(minor), expected 5.0 or 5.1")
            }
            let type = try r.u8(), flags = try r.u8()
            let drep = try r.read(4)
            guard drep[0] & 0xF0 == 0x10 else { throw ProtocolError.unexpected("DCE/RPC: big-endian data representation") }
            let length = Int(try r.u16()), auth = Int(try r.u16())
            let callId = try r.u32()
            guard length >= headerSize, auth <= length - headerSize else {
                throw ProtocolError.unexpected("DCE/RPC: fragment length \(length) with auth length \(auth)")
            }
            return Header(type: type, flags: flags, fragmentLength: length, authLength: auth, callId: callId)
        }
    }

    /// What a BIND is answered with (C706 12.6.4.4, 12.6.4.5).
    public struct BindResult: Sendable, Equatable {
        public var maxTransmitFragment: Int
        public var maxReceiveFragment: Int
    }

    /// BIND_ACK accepting context 0 with NDR; a BIND_NAK or a refused context is an error
    /// that says why.
    public static func decodeBindAck(_ pdu: [UInt8], callId: UInt32) throws -> BindResult {
        guard let h = try Header.peek(pdu[...]), h.fragmentLength == pdu.count else {
            throw ProtocolError.unexpected("DCE/RPC: a truncated BIND answer")
        }
        guard h.callId == callId else { throw ProtocolError.unexpected("DCE/RPC: BIND answered for call \(h.callId)") }
        var r = WireReader(pdu, position: headerSize)
        if h.type == PacketType.bindNak.rawValue {
            let reason = try r.u16()
            throw ProtocolError.unexpected("DCE/RPC: the server refused the BIND (reason \(reason))")
        }
        guard h.type == PacketType.bindAck.rawValue else {
            throw ProtocolError.unexpected("DCE/RPC: BIND answered with PDU type \(h.type)")
        }
        let xmit = Int(try r.u16()), recv = Int(try r.u16())
        try r.skip(4)                               // assoc_group_id
        let addressLength = Int(try r.u16())
        try r.skip(addressLength)                   // sec_addr.port_spec
        let pad = (4 - r.position % 4) % 4          // p_result_list is 4-aligned in the PDU
        try r.skip(pad)
        let results = try r.u8()
        try r.skip(3)
        guard results >= 1 else { throw ProtocolError.unexpected("DCE/RPC: BIND_ACK without a result") }
        let result = try r.u16(), reason = try r.u16()
        guard result == 0 else {
            throw ProtocolError.unexpected("DCE/RPC: the server refused the interface (result \(result), reason \(reason))")
        }
        guard xmit >= minimumFragmentSize, recv >= minimumFragmentSize else {
            throw ProtocolError.unexpected("DCE/RPC: fragment sizes \(xmit)/\(recv) below \(minimumFragmentSize)")
        }
        return BindResult(maxTransmitFragment: xmit, maxReceiveFragment: recv)
    }

    /// A call's RESPONSE, gathered from its fragments as they come off the pipe.
    public struct ResponseAssembler: Sendable {
        public let callId: UInt32
        private var pending: [UInt8] = []
        public private(set) var stub: [UInt8] = []
        public private(set) var complete = false
        private var fragments = 0

        public init(callId: UInt32) { self.callId = callId }

        /// Takes bytes read from the pipe; a FAULT, a PDU of another call or type, a fragment
        /// out of order, or a response over `maximumResponse` is an error.
        public mutating func add(_ bytes: [UInt8]) throws {
            guard !complete else { throw ProtocolError.unexpected("DCE/RPC: bytes after the last fragment") }
            pending += bytes
            while !complete, let h = try Header.peek(pending[...]), pending.count >= h.fragmentLength {
                let pdu = Array(pending[..<h.fragmentLength])
                pending.removeFirst(h.fragmentLength)
                guard h.callId == callId else { throw ProtocolError.unexpected("DCE/RPC: a fragment of call \(h.callId)") }
                var r = WireReader(pdu, position: headerSize)
                if h.type == PacketType.fault.rawValue {
                    try r.skip(8)                   // alloc_hint, p_cont_id, cancel_count, reserved
                    let status = try r.u32()
                    throw DCERPCFault(status: status)
                }
                guard h.type == PacketType.response.rawValue else {
                    throw ProtocolError.unexpected("DCE/RPC: PDU type \(h.type) where a RESPONSE was due")
                }
                guard (h.flags & firstFragment != 0) == (fragments == 0) else {
                    throw ProtocolError.unexpected("DCE/RPC: response fragments out of order")
                }
                // The stub runs to the fragment's end, less any authentication trailer
                // (auth_length bytes plus its 8-byte sec_trailer, C706 13.2.6.1).
                let trailer = h.authLength > 0 ? h.authLength + 8 : 0
                let stubEnd = h.fragmentLength - trailer
                guard stubEnd >= callHeaderSize else { throw ProtocolError.unexpected("DCE/RPC: a RESPONSE fragment of \(h.fragmentLength) bytes") }
                guard stub.count + stubEnd - callHeaderSize <= maximumResponse else {
                    throw ProtocolError.unexpected("DCE/RPC: a response over \(maximumResponse) bytes")
                }
                stub += pdu[callHeaderSize..<stubEnd]
                fragments += 1
                complete = h.isLast
            }
            if complete && !pending.isEmpty { throw ProtocolError.unexpected("DCE/RPC: bytes after the last fragment") }
        }
    }
}

/// A FAULT PDU: the call failed on the server (C706 12.6.4.7; status codes in C706 appendix E
/// and MS-RPCE 2.2.2.15, e.g. 0x1C010002 nca_s_op_rng_error, 0x00000005 access denied).
public struct DCERPCFault: Error, Equatable, Sendable, CustomStringConvertible {
    public var status: UInt32
    public var description: String { "the RPC call failed on the server (fault 0x\(String(status, radix: 16)))" }
}
