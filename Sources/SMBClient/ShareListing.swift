import SMBProtocol

extension Share {
    /// The server's shares, through the srvsvc pipe of this tree, which must be IPC$: a
    /// DCE/RPC BIND to the srvsvc interface, then NetrShareEnum at level 1 (MS-SRVS 3.1.4.8),
    /// asked again from the resume handle while the server answers ERROR_MORE_DATA.
    public func enumerateShares(server: String) async throws -> [SRVS.ShareInfo1] {
        let pipe = try await create(path: SRVS.pipeName,
                                    access: [.readData, .writeData, .readAttributes, .readControl, .synchronize],
                                    options: [.nonDirectoryFile], shareAccess: [.read, .write])
        do {
            let shares = try await enumerate(pipe: pipe.fileId, server: server)
            try? await close(pipe.fileId)
            return shares
        } catch {
            try? await close(pipe.fileId)
            throw error
        }
    }

    /// Rounds of ERROR_MORE_DATA followed before the answer is called hostile.
    private static let maximumRounds = 1000

    private func enumerate(pipe: FileId, server: String) async throws -> [SRVS.ShareInfo1] {
        let bound = try await call(pipe: pipe, message: DCERPC.bind(interface: SRVS.interface, callId: 1), callId: 1,
                                   assemble: false)
        let sizes = try decode("BIND_ACK") { try DCERPC.decodeBindAck(bound, callId: 1) }
        var shares: [SRVS.ShareInfo1] = []
        var resume: UInt32 = 0
        for round in 0..<Self.maximumRounds {
            let callId = UInt32(round + 2)
            let fragments = DCERPC.request(opnum: SRVS.netrShareEnum,
                                           stub: SRVS.shareEnumRequest(server: server, resumeHandle: resume),
                                           callId: callId, maxFragment: sizes.maxReceiveFragment)
            for f in fragments.dropLast() { try await writePipe(pipe, f) }
            let stub = try await call(pipe: pipe, message: fragments[fragments.count - 1], callId: callId, assemble: true)
            let answer = try decode("NetrShareEnum") { try SRVS.decodeShareEnumResponse(stub) }
            shares += answer.shares
            switch answer.status {
            case SRVS.errorSuccess:
                return shares
            case SRVS.errorMoreData:
                guard let next = answer.resumeHandle, !answer.shares.isEmpty else {
                    throw SMBError.malformed("NetrShareEnum: more data, but no way to ask for it")
                }
                resume = next
            default:
                throw SMBError.remoteCall("listing the shares failed: \(Win32Error.describe(answer.status))")
            }
        }
        throw SMBError.malformed("NetrShareEnum: more than \(Self.maximumRounds) rounds of ERROR_MORE_DATA")
    }

    /// Sends the last (or only) fragment of a call with TRANSCEIVE and reads until the answer is
    /// whole: the BIND_ACK PDU as it is (`assemble` false), or a RESPONSE's stub gathered from
    /// its fragments.
    private func call(pipe: FileId, message: [UInt8], callId: UInt32, assemble: Bool) async throws -> [UInt8] {
        var (data, more) = try await transceive(pipe, message)
        guard assemble else {
            var pdu = data
            while more {
                let next = try await readPipe(pipe)
                pdu += next.data
                more = next.more
                guard pdu.count <= DCERPC.maximumResponse else { throw SMBError.malformed("DCE/RPC: an oversized BIND answer") }
            }
            return pdu
        }
        var response = DCERPC.ResponseAssembler(callId: callId)
        do {
            try response.add(data)
            while !response.complete {
                let next = try await readPipe(pipe)
                guard !next.data.isEmpty else { throw ProtocolError.unexpected("DCE/RPC: the pipe ended inside a response") }
                try response.add(next.data)
            }
        } catch let e as ProtocolError {
            throw SMBError.malformed("\(e)")
        } catch let f as DCERPCFault {
            throw SMBError.remoteCall("listing the shares failed: \(f)")
        }
        return response.stub
    }
}

/// The Win32 errors NetrShareEnum returns (MS-ERREF 2.2), for messages.
enum Win32Error {
    static func describe(_ code: UInt32) -> String {
        switch code {
        case 5: return "access denied (ERROR_ACCESS_DENIED)"
        case 8: return "the server is out of memory (ERROR_NOT_ENOUGH_MEMORY)"
        case 87: return "invalid parameter (ERROR_INVALID_PARAMETER)"
        case 124: return "invalid level (ERROR_INVALID_LEVEL)"
        default: return "Win32 error \(code)"
        }
    }
}
