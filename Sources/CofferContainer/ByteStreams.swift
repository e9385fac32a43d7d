public import Foundation
import Glibc

/// A source of bytes read in order, such as an open file.
public protocol ByteSource {
    /// Reads up to `count` bytes; returns fewer only at the end of the input, and none after it.
    mutating func read(upTo count: Int) throws -> [UInt8]
}

/// A source that can also be read at any offset without moving its position, and knows its size:
/// a version 2 container's receipt follows its payload.
public protocol RandomAccessByteSource: ByteSource {
    /// The size of the whole input in bytes.
    func size() throws -> Int64
    /// Reads exactly `count` bytes at `offset`, fewer only at the end of the input.
    func read(at offset: Int64, count: Int) throws -> [UInt8]
}

/// A sink that bytes are written to in order, such as an open file.
public protocol ByteSink {
    /// Writes all of `bytes`.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
    /// Writes all of `pieces`, in order, which the caller hands over and will not change: a sink
    /// that keeps them for later (``ParallelSink``) needs no copy.
    mutating func write(owned pieces: [Data]) throws
}

extension ByteSink {
    public mutating func write(owned pieces: [Data]) throws {
        for piece in pieces { try piece.withUnsafeBytes { try write($0) } }
    }

    /// Writes all of `bytes` (an array, `Data` or a slice of either) without copying them first.
    public mutating func write(_ bytes: some ContiguousBytes) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// A sink that can also overwrite bytes it has already written: a version 2 container's header is
/// written last, in the region reserved for it at the start.
public protocol PositionalByteSink: ByteSink {
    /// Writes all of `bytes` at `offset`, which must lie within what was written so far.
    mutating func write(_ bytes: [UInt8], at offset: Int64) throws
}

/// Reads from an open file descriptor, retrying short reads and `EINTR`.
public struct FileDescriptorSource: RandomAccessByteSource {
    /// The descriptor read from; the caller owns and closes it.
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public mutating func read(upTo count: Int) throws -> [UInt8] {
        // Uninitialized: the kernel fills what is kept, and the rest is cut off.
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var filled = 0
            defer { initialized = filled }
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
    }

    public func size() throws -> Int64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ContainerError(.io, "reading failed: \(String(cString: strerror(errno)))")
        }
        return Int64(info.st_size)
    }

    public func read(at offset: Int64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        try out.withUnsafeMutableBytes { buffer in
            while filled < count {
                let n = pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
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
public struct FileDescriptorSink: PositionalByteSink {
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

    public mutating func write(_ bytes: [UInt8], at offset: Int64) throws {
        var done = 0
        try bytes.withUnsafeBytes { buffer in
            while done < buffer.count {
                let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ContainerError(.io, "writing failed: \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
    }
}

/// An in-memory source, for tests and small inputs.
public struct MemorySource: RandomAccessByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public mutating func read(upTo count: Int) throws -> [UInt8] {
        let end = min(bytes.count, offset + count)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }

    public func size() -> Int64 { Int64(bytes.count) }

    public func read(at offset: Int64, count: Int) -> [UInt8] {
        let start = Int(min(Int64(bytes.count), max(0, offset)))
        return Array(bytes[start..<min(bytes.count, start + count)])
    }
}

/// An in-memory sink, for tests and small outputs.
public struct MemorySink: PositionalByteSink {
    /// Everything written so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ buffer: UnsafeRawBufferPointer) throws { bytes += buffer }

    public mutating func write(_ bytes: [UInt8], at offset: Int64) throws {
        let start = Int(offset)
        precondition(start >= 0 && start + bytes.count <= self.bytes.count, "positional write past the end")
        self.bytes.replaceSubrange(start..<(start + bytes.count), with: bytes)
    }
}
