import SMBProtocol

/// Named pipes on IPC$ (MS-SMB2 3.2.4.20.4, 3.2.4.6): a message written and its answer read
/// back. An answer larger than the buffer asked for arrives in parts, each part but the last
/// with STATUS_BUFFER_OVERFLOW (MS-SMB2 3.3.4.4), which here means "more follows", not failure.
extension Share {
    /// The most a pipe READ or TRANSCEIVE asks for at once.
    static let pipeBuffer = 65536

    /// FSCTL_PIPE_TRANSCEIVE: writes `message` and returns the first part of the answer, and
    /// whether more of the same message is to be read.
    func transceive(_ fileId: FileId, _ message: [UInt8]) async throws -> (data: [UInt8], more: Bool) {
        let max = Self.pipeBuffer
        let r = try await call(.ioctl, fileId: fileId, charge: 1, allowing: [.bufferOverflow]) { fid in
            IoctlRequest(ctlCode: FSCTL.FSCTL_PIPE_TRANSCEIVE, fileId: fid, input: message, maxOutputResponse: UInt32(max)).encodeBody()
        }
        let out = try decode("IOCTL") { try IoctlResponse.decode(message: r.message, maxOutputResponse: UInt32(max)).output }
        return (out, r.header.status == .bufferOverflow)
    }

    /// WRITE of one message to the pipe.
    func writePipe(_ fileId: FileId, _ message: [UInt8]) async throws {
        try await write(fileId, offset: 0, data: message)
    }

    /// READ of what the pipe holds, up to `pipeBuffer` bytes.
    func readPipe(_ fileId: FileId) async throws -> (data: [UInt8], more: Bool) {
        let max = Self.pipeBuffer
        let r = try await call(.read, fileId: fileId, charge: 1, allowing: [.bufferOverflow]) { fid in
            ReadRequest(fileId: fid, offset: 0, length: UInt32(max)).encodeBody()
        }
        let rr = try decode("READ") { try ReadResponse.decode(message: r.message, requested: UInt32(max)) }
        return (Array(r.message[rr.dataRange]), r.header.status == .bufferOverflow)
    }
}
