import Foundation

/// A throwaway CA, a TLS server certificate for localhost and a time-stamping certificate, made with `openssl`.
public struct TestCertificates: Sendable {
    public let directory: String
    public var caCertificate: String { directory + "/ca.crt" }
    public var serverCertificate: String { directory + "/server.crt" }
    public var serverKey: String { directory + "/server.key" }
    public var tsaCertificate: String { directory + "/tsa.crt" }

    /// The certificates made earlier in `directory` (a deployment's `tls` folder).
    public init(directory: String) { self.directory = directory }

    /// Makes the CA and the TLS certificate in `directory`; with `tsaKey` (a PEM key file) also a TSA certificate for it.
    /// With `tsaPublicKey` instead (a PEM public key whose private half is in a token), the TSA
    /// certificate is for that key: the request is signed by a throwaway key and the CA puts the
    /// token's key in (`-force_pubkey`), as an operator does for a key that never leaves its device.
    /// With `serverPublicKey`, the TLS certificate is for that key (kept in a token) the same way.
    public static func make(in directory: String, tsaKey: String? = nil, tsaPublicKey: String? = nil, serverPublicKey: String? = nil,
                            tsaExtensions: String = "extendedKeyUsage=critical,timeStamping\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n") async throws -> TestCertificates {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let d = directory
        try await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                           "-subj", "/CN=Coffer test CA", "-keyout", d + "/ca.key", "-out", d + "/ca.crt",
                           "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], in: d)
        try await openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                           "-keyout", d + "/server.key", "-out", d + "/server.csr"], in: d)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".write(toFile: d + "/server.ext", atomically: true, encoding: .utf8)
        try await openssl(["x509", "-req", "-in", d + "/server.csr"] + (serverPublicKey.map { ["-force_pubkey", $0] } ?? []) + [
                           "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
                           "-CAcreateserial", "-days", "2", "-extfile", d + "/server.ext", "-out", d + "/server.crt"], in: d)
        if serverPublicKey != nil { try? FileManager.default.removeItem(atPath: d + "/server.key") }
        if let tsaKey {
            try await openssl(["req", "-new", "-key", tsaKey, "-subj", "/CN=Coffer test TSA", "-out", d + "/tsa.csr"], in: d)
            try tsaExtensions.write(toFile: d + "/tsa.ext", atomically: true, encoding: .utf8)
            try await openssl(["x509", "-req", "-in", d + "/tsa.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
                               "-CAcreateserial", "-days", "2", "-extfile", d + "/tsa.ext", "-out", d + "/tsa.crt"], in: d)
        } else if let tsaPublicKey {
            try await openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/tsa-throwaway.key",
                               "-subj", "/CN=Coffer test TSA", "-out", d + "/tsa.csr"], in: d)
            try tsaExtensions.write(toFile: d + "/tsa.ext", atomically: true, encoding: .utf8)
            try await openssl(["x509", "-req", "-in", d + "/tsa.csr", "-force_pubkey", tsaPublicKey, "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
                               "-CAcreateserial", "-days", "2", "-extfile", d + "/tsa.ext", "-out", d + "/tsa.crt"], in: d)
            try? FileManager.default.removeItem(atPath: d + "/tsa-throwaway.key")
        }
        return TestCertificates(directory: directory)
    }

    /// Has this CA issue a time-stamping certificate for the PEM key `keyFile` (an identity
    /// rotation's next key), named `commonName`; returns the certificate's file.
    public func issueTimestampingCertificate(for keyFile: String, commonName: String, to certificate: String) async throws -> String {
        let d = directory
        let request = certificate + ".csr", extensions = certificate + ".ext"
        try await Self.openssl(["req", "-new", "-key", keyFile, "-subj", "/CN=\(commonName)", "-out", request], in: d)
        try "extendedKeyUsage=critical,timeStamping\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            .write(toFile: extensions, atomically: true, encoding: .utf8)
        try await Self.openssl(["x509", "-req", "-in", request, "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key",
                                "-CAcreateserial", "-days", "2", "-extfile", extensions, "-out", certificate], in: d)
        return certificate
    }

    /// Runs `openssl` with `arguments`; returns its standard output, throws on failure.
    @discardableResult
    public static func openssl(_ arguments: [String], in directory: String) async throws -> String {
        let process = try TestProcess("/usr/bin/openssl", arguments, environment: ["PATH": "/usr/bin:/bin"], logDirectory: directory)
        guard try await process.wait(timeout: .seconds(60)) == 0 else {
            throw TestError("openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(process.standardError)")
        }
        return process.standardOutput + process.standardError
    }
}
