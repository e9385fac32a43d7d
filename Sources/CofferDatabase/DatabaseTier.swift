import CofferStorage
import CofferWire
public import CofferZMQ
import Foundation
public import Logging
import Synchronization

/// The database tier: a CURVE-protected ZeroMQ endpoint in front of the store.
public final class DatabaseTier: Sendable {
    private let configuration: DatabaseTierConfiguration
    private let logger: Logger
    private let context: ZMQContext
    private let server: RequestServer
    private let keys: CurveKeyPair
    private let stopping = Mutex(false)

    /// Reads keys and the allow list, but binds and opens nothing yet.
    public init(configuration: DatabaseTierConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        guard ZMQContext.hasCurve else {
            throw DatabaseTierError("this libzmq was built without CURVE; install libzmq with libsodium support")
        }
        self.keys = try Self.load("the CURVE secret key", configuration.curveSecretKeyFile) {
            try CurveKeyFile.readKeyPair(at: $0)
        }
        let allowed = try Self.load("the allow list", configuration.allowListFile) {
            try CurveKeyFile.readPublicKeys(at: $0)
        }
        if allowed.isEmpty {
            logger.warning("the allow list is empty: no transaction process can connect", metadata: ["coffer.file": "\(configuration.allowListFile)"])
        }
        self.context = try ZMQContext()
        var serverConfiguration = RequestServer.Configuration(endpoint: configuration.endpoint, keys: keys, allowedClientKeys: allowed)
        serverConfiguration.maxMessageSize = WireProtocol.maxMessageSize
        serverConfiguration.maxBatch = configuration.maxBatch
        self.server = RequestServer(configuration: serverConfiguration, context: context, logger: logger)
    }

    /// The endpoint bound, with the port chosen when the configuration asked for `*`.
    public var boundEndpoint: String { server.boundEndpoint }

    /// Opens the store (running migrations), binds, and checks that an unknown CURVE key is refused.
    public func start() throws {
        let configuration = self.configuration
        let openStore: () throws -> RecordStore = {
            let connection: any SQLConnection = configuration.usesPostgres
                ? try PostgresConnection(url: configuration.store)
                : try SQLiteConnection(path: configuration.store)
            return try RecordStore(connection: connection)
        }
        let handler = try DatabaseRequestHandler(logger: logger, openStore: openStore)
        let box = HandlerBox(handler)
        try server.start(batchHandler: { batch in box.handler.handleBatch(batch) })
        try checkUnknownKeyIsRefused()
        logger.info("database tier ready", metadata: [
            "coffer.endpoint": "\(server.boundEndpoint)",
            "coffer.store": "\(configuration.usesPostgres ? "postgresql" : "sqlite")",
            "coffer.schema_version": "\(Migrations.latestVersion)",
            "coffer.batch": "\(configuration.maxBatch)",
        ])
    }

    /// Brings the store's schema up to date and, on PostgreSQL, grants `role` the tier's rights.
    ///
    /// - Returns: The schema version now in force.
    public static func migrate(configuration: DatabaseTierConfiguration, grantTo role: String?) throws -> Int {
        let connection: any SQLConnection = configuration.usesPostgres
            ? try PostgresConnection(url: configuration.store)
            : try SQLiteConnection(path: configuration.store)
        let version = try Migrations.run(on: connection)
        if let role {
            guard configuration.usesPostgres else { throw DatabaseTierError("--grant-to applies to PostgreSQL only") }
            try Migrations.grantTierRights(to: role, on: connection)
        }
        return version
    }

    /// Whether this process should receive requests: it serves, is not stopping, and reaches its store.
    public func readiness() -> (ok: Bool, detail: String) {
        if stopping.withLock({ $0 }) { return (false, "stopping") }
        do {
            let connection: any SQLConnection = configuration.usesPostgres
                ? try PostgresConnection(url: configuration.store)
                : try SQLiteConnection(path: configuration.store)
            try connection.query("SELECT 1", [])
            return (true, configuration.usesPostgres ? "postgresql" : "sqlite")
        } catch {
            return (false, "the store is unreachable")
        }
    }

    /// Stops serving after the request in progress; exits the process if that takes longer than
    /// ``DatabaseTierConfiguration/drainTimeout``.
    public func stop() {
        stopping.withLock { $0 = true }
        let logger = self.logger
        let limit = configuration.drainTimeout
        let watchdog = Thread {
            Thread.sleep(forTimeInterval: Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18)
            logger.error("the request in progress did not finish within the drain timeout; exiting")
            exit(75)
        }
        watchdog.start()
        server.stop()
        logger.info("database tier stopped")
    }

    /// Connects to ourselves with a random CURVE key and confirms that the ZAP handler refuses it.
    private func checkUnknownKeyIsRefused() throws {
        let before = server.authenticationDecisions.denied
        let stranger = try CurveKeyPair.generate()
        let endpoint = server.boundEndpoint.replacingOccurrences(of: "0.0.0.0", with: "127.0.0.1")
        let socket = try ZMQSocket(context, .dealer)
        try socket.makeCurveClient(keys: stranger, serverKey: keys.publicKey)
        try socket.connect(endpoint)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if server.authenticationDecisions.denied > before {
                logger.debug("start-up check: an unknown CURVE key was refused")
                return
            }
            usleep(10_000)
        }
        throw DatabaseTierError("start-up check failed: a client with an unknown CURVE key was not refused within 5 s")
    }

    private static func load<T>(_ what: String, _ path: String, _ read: (String) throws -> T) throws -> T {
        do {
            return try read(path)
        } catch {
            throw DatabaseTierError("cannot read \(what) from \(path): \(error); run `coffer-admin init` first")
        }
    }
}

/// Hands the non-Sendable handler to the server thread, which is the only thread that uses it.
private final class HandlerBox: @unchecked Sendable {
    let handler: DatabaseRequestHandler
    init(_ handler: DatabaseRequestHandler) { self.handler = handler }
}

/// A start-up failure of the database tier, with a sentence for the operator.
public struct DatabaseTierError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
