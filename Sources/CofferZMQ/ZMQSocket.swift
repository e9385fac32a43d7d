internal import CZeroMQ
#if canImport(Glibc)
import Glibc
#endif

/// A libzmq socket. Sockets are not thread-safe: create, use and close one on a single thread.
public final class ZMQSocket {
    let handle: UnsafeMutableRawPointer

    /// The socket kinds Coffer uses.
    public enum Kind: Sendable {
        case router, dealer, rep, req
        var value: Int32 {
            switch self {
            case .router: ZMQ_ROUTER
            case .dealer: ZMQ_DEALER
            case .rep: ZMQ_REP
            case .req: ZMQ_REQ
            }
        }
    }

    /// Opens a socket of `kind` in `context`, with linger 0 so closing never blocks.
    public init(_ context: ZMQContext, _ kind: Kind) throws {
        guard let handle = zmq_socket(context.handle, kind.value) else {
            throw ZMQError.last("creating a ZeroMQ socket")
        }
        self.handle = handle
        var linger: Int32 = 0
        zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
    }

    deinit {
        zmq_close(handle)
    }

    /// Sets an integer option.
    public func set(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("setting ZeroMQ option \(option)")
        }
    }

    /// Sets a 64-bit integer option.
    public func set(_ option: Int32, int64 value: Int64) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("setting ZeroMQ option \(option)")
        }
    }

    /// Sets a string or binary option.
    public func set(_ option: Int32, bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard rc == 0 else { throw ZMQError.last("setting ZeroMQ option \(option)") }
    }

    /// Makes this socket a CURVE server with `secretKey` (Z85).
    public func makeCurveServer(secretKey: String, domain: String) throws {
        try set(ZMQ_CURVE_SERVER, 1)
        try set(ZMQ_CURVE_SECRETKEY, bytes: Array(secretKey.utf8))
        try set(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8))
    }

    /// Makes this socket a CURVE client of the server whose public key is `serverKey`.
    public func makeCurveClient(keys: CurveKeyPair, serverKey: String) throws {
        try set(ZMQ_CURVE_SERVERKEY, bytes: Array(serverKey.utf8))
        try set(ZMQ_CURVE_PUBLICKEY, bytes: Array(keys.publicKey.utf8))
        try set(ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8))
    }

    /// Binds to `endpoint`, for example `tcp://127.0.0.1:5555` or `tcp://127.0.0.1:*`.
    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("binding \(endpoint)") }
    }

    /// Connects to `endpoint`; libzmq reconnects by itself if the peer goes away.
    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("connecting to \(endpoint)") }
    }

    /// The endpoint last bound, with the port the system chose for `*`.
    public var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends a multipart message.
    ///
    /// - Parameter wait: Whether to wait (up to the send timeout) when the message cannot be queued.
    /// - Returns: `false` when it could not be sent now (no peer, or queue full).
    public func send(_ frames: [[UInt8]], wait: Bool = false) throws -> Bool {
        for (i, frame) in frames.enumerated() {
            var flags: Int32 = wait ? 0 : ZMQ_DONTWAIT
            if i < frames.count - 1 { flags |= ZMQ_SNDMORE }
            let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if rc < 0 {
                let e = zmq_errno()
                if e == EAGAIN || e == EHOSTUNREACH { return false }
                if e == EINTR { return false }
                throw ZMQError.last("sending a ZeroMQ message")
            }
        }
        return true
    }

    /// Receives a multipart message without waiting; `nil` when none is queued.
    public func receive() throws -> [[UInt8]]? {
        var frames: [[UInt8]] = []
        while true {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            let rc = zmq_msg_recv(&msg, handle, frames.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                let e = zmq_errno()
                if frames.isEmpty && (e == EAGAIN || e == EINTR) { return nil }
                throw ZMQError.last("receiving a ZeroMQ message")
            }
            let size = zmq_msg_size(&msg)
            let data = zmq_msg_data(&msg)!
            frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            if zmq_msg_more(&msg) == 0 { return frames }
        }
    }

    /// Waits until this socket or `fd` is readable, or `timeoutMilliseconds` pass.
    ///
    /// - Returns: Whether the socket, and whether `fd`, is readable.
    public func poll(alsoFD fd: Int32 = -1, timeoutMilliseconds: Int) throws -> (socket: Bool, fd: Bool) {
        var items = [zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)]
        if fd >= 0 {
            items.append(zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0))
        }
        let rc = zmq_poll(&items, Int32(items.count), timeoutMilliseconds)
        if rc < 0 {
            if zmq_errno() == EINTR { return (false, false) }
            throw ZMQError.last("polling ZeroMQ sockets")
        }
        let socketReady = items[0].revents & Int16(ZMQ_POLLIN) != 0
        let fdReady = items.count > 1 && items[1].revents & Int16(ZMQ_POLLIN) != 0
        return (socketReady, fdReady)
    }
}
