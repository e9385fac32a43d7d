internal import CZeroMQ

/// A libzmq context. libzmq contexts are thread-safe, so one may be shared by every thread.
public final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// Creates a context; fails only when libzmq cannot allocate one.
    public init() throws {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("creating a ZeroMQ context") }
        self.handle = handle
    }

    /// Whether this libzmq was built with CURVE security.
    public static var hasCurve: Bool { zmq_has("curve") != 0 }

    deinit {
        zmq_ctx_term(handle)
    }
}
