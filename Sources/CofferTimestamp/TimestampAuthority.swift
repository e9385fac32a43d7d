internal import COpenSSL
import Foundation
import Synchronization

/// Makes RFC 3161 TimeStampTokens with OpenSSL's TS API, so anyone can check a receipt with
/// `openssl ts -verify` and the deployment's CA certificate, without Coffer.
public final class TimestampAuthority: Sendable {
    /// Coffer's time-stamp policy OID (a UUID-based OID, ITU-T X.667).
    public static let policyOID = "2.25.306651263256566321883620347947210893043"

    private struct Context: @unchecked Sendable { let pointer: OpaquePointer }
    // A TS_RESP_CTX is not thread-safe: one stamp at a time.
    private let context: Mutex<Context>

    /// Creates the authority from the TSA certificate chain (PEM, signer first) and its private key (PEM).
    ///
    /// The certificate needs `extendedKeyUsage=critical,timeStamping` and must be for `keyPEM`.
    public init(certificateChainPEM: String, keyPEM: String) throws {
        var error = [CChar](repeating: 0, count: 256)
        let chain = Array(certificateChainPEM.utf8)
        let key = Array(keyPEM.utf8)
        let pointer = chain.withUnsafeBufferPointer { c in
            key.withUnsafeBufferPointer { k in
                c.withMemoryRebound(to: CChar.self) { cc in
                    k.withMemoryRebound(to: CChar.self) { kk in
                        coffer_tsa_new(cc.baseAddress, cc.count, kk.baseAddress, kk.count, Self.policyOID, &error, error.count)
                    }
                }
            }
        }
        guard let pointer else { throw TimestampError("cannot set up time-stamping: \(Self.text(error))") }
        self.context = Mutex(Context(pointer: pointer))
    }

    deinit {
        context.withLock { coffer_tsa_free($0.pointer) }
    }

    /// A DER TimeStampToken over `digest` (a SHA-256), with the TSA certificate included.
    public func stamp(sha256 digest: [UInt8]) throws -> [UInt8] {
        precondition(digest.count == 32, "a SHA-256 digest has 32 bytes")
        var error = [CChar](repeating: 0, count: 256)
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        let ok = context.withLock { ctx in
            coffer_tsa_stamp(ctx.pointer, digest, digest.count, &out, &length, &error, error.count)
        }
        defer { coffer_free(out) }
        guard ok == 1, let out else { throw TimestampError("time-stamping failed: \(Self.text(error))") }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    static func text(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Checks RFC 3161 TimeStampTokens offline.
public enum TimestampVerifier {
    /// Verifies that `token` is a valid time stamp over `digest` by a time-stamping certificate
    /// that chains to a CA in `caPEM`.
    ///
    /// - Returns: The time stamp, Unix milliseconds.
    public static func verify(token: [UInt8], sha256 digest: [UInt8], caPEM: String) throws -> Int64 {
        var error = [CChar](repeating: 0, count: 256)
        var time: Int64 = 0
        let ca = Array(caPEM.utf8)
        let ok = ca.withUnsafeBufferPointer { c in
            c.withMemoryRebound(to: CChar.self) { cc in
                coffer_ts_verify(token, token.count, digest, digest.count, cc.baseAddress, cc.count, &time, &error, error.count)
            }
        }
        guard ok == 1 else { throw TimestampError("the time stamp does not verify: \(TimestampAuthority.text(error))") }
        return time
    }
}

/// A time-stamping failure, with what OpenSSL said.
public struct TimestampError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
