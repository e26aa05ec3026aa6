import SMBAuth
import SMBCrypto
import SMBProtocol

/// One decoder family fed arbitrary bytes as a server would send them. A decoder may only
/// accept the input or throw a decoding error: a trap, an out-of-bounds access
/// (AddressSanitizer) or a run that does not end is the bug being looked for.
public struct FuzzTarget: Sendable {
    public let name: String
    /// The SMB2 commands whose responses seed this target (Scripts/fuzz sorts captures by it).
    public let commands: [Command]
    /// Feeds the input to each decoder of the family; returns how many accepted it.
    public let run: @Sendable ([UInt8]) -> Int

    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "frame", commands: []) { frameTarget($0) },
        FuzzTarget(name: "negotiate", commands: [.negotiate]) { negotiateTarget($0) },
        FuzzTarget(name: "session", commands: [.sessionSetup, .treeConnect]) { sessionTarget($0) },
        FuzzTarget(name: "auth", commands: []) { authTarget($0) },
        FuzzTarget(name: "create", commands: [.create, .close]) { createTarget($0) },
        FuzzTarget(name: "directory", commands: [.queryDirectory]) { directoryTarget($0) },
        FuzzTarget(name: "info", commands: [.queryInfo, .setInfo]) { infoTarget($0) },
        FuzzTarget(name: "notify", commands: [.changeNotify, .oplockBreak]) { notifyTarget($0) },
        FuzzTarget(name: "ioctl", commands: [.ioctl]) { ioctlTarget($0) },
        FuzzTarget(name: "io", commands: [.read, .write, .lock, .flush, .echo, .logoff, .treeDisconnect]) { ioTarget($0) },
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// The largest output a request of this client asks for (the negotiated maximum of Samba).
private let maxOutput: UInt32 = 8 << 20

/// Counts the decoders that accepted an input.
private struct Tally {
    var accepted = 0

    @discardableResult
    mutating func count<T>(_ decode: () throws -> T) -> T? {
        guard let value = try? decode() else { return nil }
        accepted += 1
        return value
    }
}

/// A whole received frame: Direct TCP prefix, the TRANSFORM_HEADER check, the NextCommand
/// chain (MS-SMB2 3.2.5.1.9), then each message by its command, as the connection dispatches.
private func frameTarget(_ data: [UInt8]) -> Int {
    var t = Tally()
    if data.count >= 4 { t.count { try DirectTCP.frameLength(data[0], data[1], data[2], data[3]) } }
    if TransformHeader.isTransform(data) { t.count { try TransformHeader.decode(data) } }
    _ = MultiProtocolNegotiate.isSMB1(data)
    guard let messages = t.count({ try CompoundResponse.split(data) }) else { return t.accepted }
    for (header, range) in messages {
        let m = Array(data[range])
        if header.status != .success && header.status != .moreProcessingRequired && header.status != .bufferOverflow {
            t.accepted += errorTarget(m)
            continue
        }
        switch header.command {
        case .negotiate: t.accepted += negotiateTarget(m)
        case .sessionSetup, .treeConnect: t.accepted += sessionTarget(m)
        case .create, .close: t.accepted += createTarget(m)
        case .queryDirectory: t.accepted += directoryTarget(m)
        case .queryInfo, .setInfo: t.accepted += infoTarget(m)
        case .changeNotify, .oplockBreak: t.accepted += notifyTarget(m)
        case .ioctl: t.accepted += ioctlTarget(m)
        default: t.accepted += ioTarget(m)
        }
    }
    return t.accepted
}

/// An ERROR response (MS-SMB2 2.2.2) and the symbolic link error context it may carry (2.2.2.2.1).
private func errorTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    if let e = t.count({ try ErrorResponse.decode(message: m) }) {
        t.count { try SymbolicLinkErrorResponse.decode(e.errorData) }
        t.count { try SMB2ErrorContext.decodeList(e.errorData, count: Int(m.count > 66 ? m[66] : 0)) }
    }
    t.count { try SymbolicLinkErrorResponse.decode(message: m) }
    return t.accepted
}

private func negotiateTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    t.count { try NegotiateResponse.decode(message: m) }
    return t.accepted
}

private func sessionTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    t.count { try SessionSetupResponse.decode(message: m) }
    t.count { try TreeConnectResponse.decode(message: m) }
    return t.accepted
}

/// The security blob of SESSION_SETUP and NEGOTIATE: SPNEGO (RFC 4178) around NTLMSSP
/// (MS-NLMP 2.2.1.2). The first byte picks where the rest goes: 0, the NEGOTIATE hint
/// (NegTokenInit2, MS-SPNG 2.2.1); 1, the server's first NegTokenResp; otherwise a
/// CHALLENGE_MESSAGE wrapped in a well-formed NegTokenResp, so the NTLM decoder is reached
/// without the fuzzer first having to find valid DER.
private func authTarget(_ data: [UInt8]) -> Int {
    var t = Tally()
    guard let mode = data.first else { return 0 }
    let rest = Array(data.dropFirst())
    var client = SPNEGOClient(ntlm: NTLMCredentials(user: "fuzz", password: "fuzz", domain: "FUZZ", workstation: "FUZZER"))
    if mode == 0 {
        t.count { try client.nextToken(serverToken: rest) }
        return t.accepted
    }
    guard (try? client.nextToken(serverToken: nil)) != nil else { return 0 }
    let token = mode == 1 ? rest : DERWrap.negTokenRespAcceptIncomplete(ntlm: rest)
    guard t.count({ try client.nextToken(serverToken: token) }) != nil else { return 0 }
    // The final round: accept-completed with the server's mechListMIC (any 16 bytes).
    t.count { try client.nextToken(serverToken: DERWrap.negTokenRespAcceptCompleted(mic: Array(rest.suffix(16)))) }
    return t.accepted
}

private func createTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    if let r = t.count({ try CreateResponse.decode(message: m) }) {
        _ = r.diskFileIndex
        for c in r.contexts {
            t.count { try LeaseContext.decode(c.data) }
            t.count { try DurableHandleResponseV2.decode(c.data) }
        }
    }
    t.count { try CloseResponse.decode(message: m) }
    // A CREATE that fails may carry the symbolic link error response (MS-SMB2 2.2.2.2.1).
    t.accepted += errorTarget(m)
    return t.accepted
}

private func directoryTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    if let buf = t.count({ try OutputBufferResponse.decode(message: m, command: .queryDirectory, maxLength: maxOutput) }) {
        t.count { try FileIdBothDirectoryInformation.decodeList(buf) }
        t.count { try PosixDirectoryInformation.decodeList(buf) }
    }
    t.count { try FileIdBothDirectoryInformation.decodeList(m) }
    t.count { try PosixDirectoryInformation.decodeList(m) }
    return t.accepted
}

/// QUERY_INFO output (MS-SMB2 2.2.38) through every information class this client reads, and
/// the file contents it interprets (Minshall+French symlinks).
private func infoTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    let buf = t.count { try OutputBufferResponse.decode(message: m, command: .queryInfo, maxLength: maxOutput) } ?? m
    t.count { try FileAllInformation.decode(buf) }
    t.count { try FileFsFullSizeInformation.decode(buf) }
    t.count { try FileStandardInformation.decode(buf) }
    t.count { try FileFullEaInformation.decodeList(buf) }
    t.count { try FilePosixInformation.decode(buf) }
    // Interix special files are file contents this client interprets (`sfu`).
    if let special = InterixSpecialFile.decode(buf), InterixSpecialFile.decode(special.encode()) != special {
        fatalError("Interix special file does not survive its own encoding")
    }
    // A descriptor decoded is encoded again and decoded to the same value.
    if let sd = t.count({ try SecurityDescriptor.decode(buf) }), (try? SecurityDescriptor.decode(sd.encode())) != sd {
        fatalError("security descriptor does not survive its own encoding")
    }
    t.count { try PosixCreateResponse.decode(buf) }
    // An NFS special file decoded is encoded again and decoded to the same value.
    if let r = t.count({ try REPARSE_DATA_BUFFER.decode(buf) }), let special = NFSReparseData.decode(r),
       NFSReparseData.encode(special).flatMap({ try? REPARSE_DATA_BUFFER.decode($0) }).flatMap(NFSReparseData.decode) != special {
        fatalError("NFS special file does not survive its own encoding")
    }
    t.count { try SymbolicLinkReparseDataBuffer.decode(buf) }
    t.count { try MFSymlink.decode(buf, md5: Digest.md5) }
    t.count { try SetInfoRequest.decodeResponse(message: m) }
    return t.accepted
}

private func notifyTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    t.count { try ChangeNotifyRequest.decodeResponse(message: m, maxLength: 64 << 10) }
    t.count { try FileNotifyInformation.decodeList(m) }
    t.count { try LeaseBreakNotification.decode(message: m) }
    t.count { try LeaseBreakAcknowledgment.decodeResponse(message: m) }
    return t.accepted
}

/// IOCTL (MS-SMB2 2.2.32) and the FSCTL outputs this client reads.
private func ioctlTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    let output = t.count { try IoctlResponse.decode(message: m, maxOutputResponse: 64 << 10) }?.output ?? m
    t.count { try VALIDATE_NEGOTIATE_INFO_Response.decode(output) }
    t.count { try ValidateNegotiateInfo.decodeResponse(output) }
    t.count { try SRV_REQUEST_RESUME_KEY.decode(output) }
    t.count { try SRV_COPYCHUNK_RESPONSE.decode(output) }
    t.count { try FILE_ALLOCATED_RANGE_BUFFER.decodeList(output) }
    t.count { try REPARSE_DATA_BUFFER.decode(output) }
    t.count { try DFSReferralResponse.decode(output) }
    // FSCTL_PIPE_TRANSCEIVE output: DCE/RPC PDUs and the share list in their stub.
    t.count { try DCERPC.decodeBindAck(output, callId: 1) }
    let callId = output.count >= 16 ? UInt32(output[12]) | UInt32(output[13]) << 8 | UInt32(output[14]) << 16 | UInt32(output[15]) << 24 : 0
    var response = DCERPC.ResponseAssembler(callId: callId)
    t.count { try response.add(output) }
    t.count { try SRVS.decodeShareEnumResponse(response.complete ? response.stub : output) }
    return t.accepted
}

private func ioTarget(_ m: [UInt8]) -> Int {
    var t = Tally()
    t.count { try ReadResponse.decode(message: m, requested: maxOutput) }
    t.count { try WriteResponse.decode(message: m, requested: Int(maxOutput)) }
    t.count { try LockResponse.decode(message: m) }
    if let h = try? Header.decode(m) { t.count { try SimpleRequest.decodeResponse(message: m, command: h.command) } }
    return t.accepted
}

/// Minimal DER (X.690) for the NegTokenResp wrappers of the auth target (RFC 4178 4.2.2).
private enum DERWrap {
    static let ntlmsspOID = NTLMMechanism.oids[0]

    static func tlv(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        let n = body.count
        let length: [UInt8]
        switch n {
        case ..<0x80: length = [UInt8(n)]
        case ..<0x100: length = [0x81, UInt8(n)]
        case ..<0x10000: length = [0x82, UInt8(n >> 8), UInt8(n & 0xFF)]
        default: length = [0x83, UInt8(n >> 16), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
        }
        return [tag] + length + body
    }

    /// negState accept-incomplete, supportedMech NTLMSSP, responseToken.
    static func negTokenRespAcceptIncomplete(ntlm: [UInt8]) -> [UInt8] {
        tlv(0xA1, tlv(0x30, tlv(0xA0, tlv(0x0A, [1])) + tlv(0xA1, tlv(0x06, ntlmsspOID)) + tlv(0xA2, tlv(0x04, ntlm))))
    }

    /// negState accept-completed and a mechListMIC.
    static func negTokenRespAcceptCompleted(mic: [UInt8]) -> [UInt8] {
        tlv(0xA1, tlv(0x30, tlv(0xA0, tlv(0x0A, [0])) + tlv(0xA3, tlv(0x04, mic))))
    }
}
