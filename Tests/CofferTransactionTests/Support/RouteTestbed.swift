import CofferAPI
import CofferAudit
import CofferKeys
import CofferTesting
import CofferTimestamp
import CofferTransaction
import CofferWebModule
import CofferWire
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// The transaction tier's routes, in process, over a ``ScriptedDatabase``: real keys, a real
/// time-stamping authority and real session tokens, no sockets.
struct RouteTestbed {
    let database = ScriptedDatabase()
    let keys: ServerKeys
    let services: TransactionServices
    let tokens: SessionTokens
    let device = P256.Signing.PrivateKey()
    let clientID = UUID().uuidString.lowercased()

    /// A testbed with the default settings, or `settings`.
    /// - Parameter keyBackend: Wraps the testbed's key files in another backend (a failing double).
    static func make(_ settings: TransactionTierConfiguration = TransactionTierConfiguration(), webModule: WebModule? = nil,
                     keyBackend: @Sendable (FileKeyBackend) -> any KeyBackend = { $0 }) async throws -> RouteTestbed {
        let keys = ServerKeys(signingKey: P256.Signing.PrivateKey(), kek: SymmetricKey(size: .bits256))
        let directory = try TestEnvironment.makeTemporaryDirectory("routes")
        try keys.signingKey.pemRepresentation.write(toFile: directory + "/signing.key.pem", atomically: true, encoding: .utf8)
        let certificates = try await TestCertificates.make(in: directory, tsaKey: directory + "/signing.key.pem")
        let authority = try TimestampAuthority(certificateChainPEM: try String(contentsOfFile: certificates.tsaCertificate, encoding: .utf8),
                                               keyPEM: keys.signingKey.pemRepresentation)
        return RouteTestbed(keys: keys, backend: keyBackend(FileKeyBackend(keys: keys, checkpointKeyFile: "unused")), authority: authority,
                            settings: settings, webModule: webModule)
    }

    private init(keys: ServerKeys, backend: any KeyBackend, authority: TimestampAuthority, settings: TransactionTierConfiguration, webModule: WebModule?) {
        self.keys = keys
        let signer = try! NoteSigner(keyName: "coffer/audit", key: Curve25519.Signing.PrivateKey())
        let checkpointer = Checkpointer(signer: signer, database: database, policy: .init(), logger: Logger(label: "test"))
        let identity = try! IdentityKeys.load(backend: backend, timestamps: authority, settings: .init())
        self.services = try! TransactionServices(database: database, keys: backend, identity: identity, checkpointer: checkpointer, settings: settings,
                                                 webModule: webModule, logger: Logger(label: "test"))
        self.tokens = SessionTokens(kek: keys.kek)
    }

    /// A decode key of `record` owned by `owner`, and the database tier's release of it (wrapped
    /// under the testbed's KEK, with `sha256` and `size` as the record's).
    func released(_ record: [UInt8], owner: String = "alice", sha256: [UInt8], size: Int64 = 0) throws
        -> (decodeKey: P256.KeyAgreement.PrivateKey, answer: Coffer_Wire_V1_KeyReleased) {
        let decodeKey = P256.KeyAgreement.PrivateKey()
        var released = Coffer_Wire_V1_KeyReleased()
        released.wrappedDecodeKey = Data(try KeyWrapper(kek: keys.kek).wrap(decodeKey, recordID: record, owner: owner))
        released.encodeKeyID = Data(KeyWrapper.keyID(decodeKey.publicKey))
        released.sha256 = Data(sha256)
        released.size = size
        return (decodeKey, released)
    }

    /// A valid session token of `user` on this testbed's device, or one issued `age` ago.
    func token(_ user: String = "alice", issuedAgo age: TimeInterval = 0) -> String {
        // A key in memory never fails.
        try! tokens.issue(for: Session(user: user, clientID: clientID, deviceKey: device.publicKey), now: Date().addingTimeInterval(-age)).token
    }

    /// The headers of a request signed by `signer` (the testbed's device unless given) under `token`.
    func signedHeaders(_ method: HTTPRequest.Method, _ path: String, body: [UInt8], token: String?, signer: P256.Signing.PrivateKey?,
                       time: Date = Date()) throws -> HTTPFields {
        var fields: HTTPFields = [.contentType: "application/json"]
        if let token { fields[.authorization] = "Bearer \(token)" }
        if let signer {
            let signed = try RequestSignature.sign(method: method.rawValue, path: path, body: body, key: signer, now: time)
            fields[HTTPField.Name(RequestSignature.timeHeader)!] = signed.time
            fields[HTTPField.Name(RequestSignature.nonceHeader)!] = signed.nonce
            fields[HTTPField.Name(RequestSignature.signatureHeader)!] = signed.signature
        }
        return fields
    }

    /// Runs `test` with a client of the router.
    func test<Value: Sendable>(_ test: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Application(router: APIRoutes.router(services)).test(.router, test)
    }
}

/// What an answer said: its status, its error code if any, its body.
struct RouteAnswer: Sendable {
    let status: Int
    let code: String?
    let body: String

    init(_ response: TestResponse) {
        status = Int(response.status.code)
        body = String(buffer: response.body)
        code = (try? JSONDecoder().decode(ErrorResponse.self, from: Data(body.utf8)))?.error.code
    }
}

extension TestClientProtocol {
    /// Sends `body` to `path` with `headers` and returns what came back.
    func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields, body: [UInt8]) async throws -> RouteAnswer {
        try await execute(uri: path, method: method, headers: headers, body: body.isEmpty ? nil : ByteBuffer(bytes: body)) { RouteAnswer($0) }
    }
}
