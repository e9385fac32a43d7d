internal import CZeroMQ

/// A failure reported by libzmq or by the request layer over it.
public struct ZMQError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kinds of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: Hashable, Sendable { case library, timeout, unavailable, busy, closed, invalidKey }
        let base: Base
        /// libzmq returned an error; ``ZMQError/errno`` says which.
        public static let library = Code(base: .library)
        /// No answer arrived within the request's timeout.
        public static let timeout = Code(base: .timeout)
        /// No peer is connected to send the request to.
        public static let unavailable = Code(base: .unavailable)
        /// Too many requests are already waiting: back pressure, not worth retrying.
        public static let busy = Code(base: .busy)
        /// The socket or client was shut down.
        public static let closed = Code(base: .closed)
        /// A CURVE key is not valid Z85 of the right length.
        public static let invalidKey = Code(base: .invalidKey)
        public var description: String { String(describing: base) }
    }

    public let code: Code
    /// The libzmq errno, or 0.
    public let errno: Int32
    public let message: String

    init(_ code: Code, _ message: String, errno: Int32 = 0) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// The error for the current libzmq errno.
    static func last(_ what: String) -> ZMQError {
        let e = zmq_errno()
        return ZMQError(.library, "\(what): \(String(cString: zmq_strerror(e)))", errno: e)
    }

    public var description: String { message }
}
