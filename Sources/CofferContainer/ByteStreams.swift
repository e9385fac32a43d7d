public import Foundation
import Glibc

/// A source of bytes read in order, such as an open file.
public protocol ByteSource {
    /// Reads up to `count` bytes; returns fewer only at the end of the input, and none after it.
    mutating func read(upTo count: Int) throws -> [UInt8]
}

/// A sink that bytes are written to in order, such as an open file.
public protocol ByteSink {
    /// Writes all of `bytes`.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSink {
    /// Writes all of `bytes` (an array, `Data` or a slice of either) without copying them first.
    public mutating func write(_ bytes: some ContiguousBytes) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// Reads from an open file descriptor, retrying short reads and `EINTR`.
public struct FileDescriptorSource: ByteSource {
    /// The descriptor read from; the caller owns and closes it.
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public mutating func read(upTo count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        try out.withUnsafeMutableBytes { buffer in
            while filled < count {
                let n = Glibc.read(fd, buffer.baseAddress! + filled, count - filled)
                if n == 0 { break }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ContainerError(.io, "reading failed: \(String(cString: strerror(errno)))")
                }
                filled += n
            }
        }
        out.removeSubrange(filled...)
        return out
    }
}

/// Writes to an open file descriptor, retrying short writes and `EINTR`.
public struct FileDescriptorSink: ByteSink {
    /// The descriptor written to; the caller owns and closes it.
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public mutating func write(_ buffer: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ContainerError(.io, "writing failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }
}

/// An in-memory source, for tests and small inputs.
public struct MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func read(upTo count: Int) throws -> [UInt8] {
        let end = min(bytes.count, offset + count)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

/// An in-memory sink, for tests and small outputs.
public struct MemorySink: ByteSink {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ buffer: UnsafeRawBufferPointer) throws { bytes += buffer }
}
