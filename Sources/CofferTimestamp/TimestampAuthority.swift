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
    /// The signer of an external key and what OpenSSL keeps for it, when the key lives elsewhere.
    private let external: External?

    private struct External: @unchecked Sendable {
        let signer: ExternalSigner
        let state: UnsafeMutableRawPointer
    }

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
        self.external = nil
    }

    /// Creates the authority from the TSA certificate chain (PEM, signer first), which must be for
    /// the P-256 key `publicKeyX963`, and a signer of SHA-256 digests with that key, kept elsewhere
    /// (a cryptographic device): `sign` gives r ‖ s, 64 bytes. It is called while a stamp is made,
    /// on the caller's thread; its error is rethrown by ``stamp(sha256:)`` as it is.
    public init(certificateChainPEM: String, publicKeyX963: [UInt8], sign: @escaping @Sendable ([UInt8]) throws -> [UInt8]) throws {
        var error = [CChar](repeating: 0, count: 256)
        let chain = Array(certificateChainPEM.utf8)
        let signer = ExternalSigner(sign: sign)
        var state: UnsafeMutableRawPointer?
        let callback: coffer_digest_signer = { context, digest, length, signature in
            guard let context, let digest, let signature else { return 0 }
            let signer = Unmanaged<ExternalSigner>.fromOpaque(context).takeUnretainedValue()
            return signer.sign(Array(UnsafeBufferPointer(start: digest, count: length)), into: signature) ? 1 : 0
        }
        let pointer = chain.withUnsafeBufferPointer { c in
            c.withMemoryRebound(to: CChar.self) { cc in
                coffer_tsa_new_external(cc.baseAddress, cc.count, publicKeyX963, publicKeyX963.count, callback,
                                        Unmanaged.passUnretained(signer).toOpaque(), Self.policyOID, &state, &error, error.count)
            }
        }
        guard let pointer, let state else { throw TimestampError("cannot set up time-stamping: \(Self.text(error))") }
        self.context = Mutex(Context(pointer: pointer))
        self.external = External(signer: signer, state: state)
    }

    deinit {
        context.withLock { coffer_tsa_free($0.pointer) }
        if let external { coffer_external_free(external.state) }
    }

    /// A DER TimeStampToken over `digest` (a SHA-256), with the TSA certificate included.
    public func stamp(sha256 digest: [UInt8]) throws -> [UInt8] {
        precondition(digest.count == 32, "a SHA-256 digest has 32 bytes")
        var error = [CChar](repeating: 0, count: 256)
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        let (ok, failure) = context.withLock { ctx -> (Int32, (any Error)?) in
            let ok = coffer_tsa_stamp(ctx.pointer, digest, digest.count, &out, &length, &error, error.count)
            return (ok, ok == 1 ? nil : external?.signer.takeFailure())
        }
        defer { coffer_free(out) }
        if let failure { throw failure }
        guard ok == 1, let out else { throw TimestampError("time-stamping failed: \(Self.text(error))") }
        return Array(UnsafeBufferPointer(start: out, count: length))
    }

    static func text(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The signer of an external TSA key, and the last error it met (read under the authority's lock,
/// the only place it is called from).
private final class ExternalSigner: @unchecked Sendable {
    let sign: @Sendable ([UInt8]) throws -> [UInt8]
    private var failure: (any Error)?

    init(sign: @escaping @Sendable ([UInt8]) throws -> [UInt8]) { self.sign = sign }

    func sign(_ digest: [UInt8], into signature: UnsafeMutablePointer<UInt8>) -> Bool {
        do {
            let rs = try sign(digest)
            guard rs.count == 64 else { throw TimestampError("the external signer gave \(rs.count) bytes, not r ‖ s of P-256") }
            signature.update(from: rs, count: 64)
            return true
        } catch {
            failure = error
            return false
        }
    }

    func takeFailure() -> (any Error)? {
        defer { failure = nil }
        return failure
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
