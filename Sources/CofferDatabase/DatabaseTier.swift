import CofferFiles
import CofferServerSupport
import CofferStorage
import CofferWire
import CofferZMQ
import Foundation
public import Logging
public import ServiceLifecycle
import UnixSignals
import Synchronization

/// The database tier: a CURVE-protected ZeroMQ endpoint in front of the store, run as a service.
///
/// `run()` opens the store (running migrations), binds, checks that an unknown CURVE key is refused,
/// starts the health probes and writes the ready file, then serves until a graceful shutdown
/// (SIGTERM, SIGINT) begins: it stops taking requests, finishes the one in progress, and exits the
/// process with 75 if that takes longer than the drain timeout.
public final class DatabaseTier: Service, Sendable {
    private let configuration: DatabaseTierConfiguration
    private let logger: Logger
    private let context: ZMQContext
    private let server: RequestServer
    private let keys: CurveKeyPair
    private let probe: StoreProbe
    private let stopping = Mutex(false)
    /// Held shared while this process has a SQLite store open, so that a restore waits for it.
    private let storeLock = Mutex<StoreLock?>(nil)

    /// Reads keys and the allow list, but binds and opens nothing yet.
    public init(configuration: DatabaseTierConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        guard ZMQContext.hasCurve else {
            throw DatabaseTierError("this libzmq was built without CURVE; install libzmq with libsodium support")
        }
        self.keys = try Self.load("the CURVE secret key", configuration.curveSecretKeyFile) { try CurveKeyFile.readKeyPair(at: $0) }
        let allowed = try Self.load("the allow list", configuration.allowListFile) { try CurveKeyFile.readPublicKeys(at: $0) }
        if allowed.isEmpty {
            logger.warning("the allow list is empty: no transaction process can connect", metadata: ["coffer.file": "\(configuration.allowListFile)"])
        }
        self.context = try ZMQContext()
        var serverConfiguration = RequestServer.Configuration(endpoint: configuration.endpoint, keys: keys, allowedClientKeys: allowed)
        serverConfiguration.maxMessageSize = WireProtocol.maxMessageSize
        serverConfiguration.maxBatch = configuration.maxBatch
        self.server = RequestServer(configuration: serverConfiguration, context: context, logger: logger)
        self.probe = StoreProbe(location: configuration.store)
    }

    /// The endpoint bound, with the port chosen when the configuration asked for `*`.
    public var boundEndpoint: String { server.boundEndpoint }

    public func run() async throws {
        try start()
        var probes: HealthListener?
        if let endpoint = configuration.healthEndpoint {
            do {
                probes = try HealthListener(endpoint: endpoint, ready: { [self] in readiness() })
            } catch let error as HealthListenerError {
                throw DatabaseTierError("the health listener: \(error)")
            }
        }
        var metrics: HealthListener?
        if let endpoint = configuration.metricsEndpoint {
            do {
                metrics = try HealthListener(endpoint: endpoint, metrics: ServerMetrics.exposition)
            } catch let error as HealthListenerError {
                throw DatabaseTierError("the metrics listener: \(error)")
            }
        }
        if let path = configuration.readyFile {
            // Line 1: the bound endpoint; then, with health probes or metrics, their addresses (port 0 picks one).
            let health = probes.map { "health=\($0.host):\($0.port)\n" } ?? ""
            let scrape = metrics.map { "metrics=\($0.host):\($0.port)\n" } ?? ""
            try AtomicFile.write(Array((boundEndpoint + "\n" + health + scrape).utf8), to: path)
        }
        SystemdNotify.ready(status: "serving \(boundEndpoint)")
        let reloading = Task { [self] in
            for await _ in await UnixSignalsSequence(trapping: .sighup) { reloadAllowList() }
        }
        defer { reloading.cancel() }
        try? await gracefulShutdown()
        SystemdNotify.stopping()
        logger.info("shutting down")
        await drain()
        probes?.stop()
        metrics?.stop()
        logger.info("database tier stopped")
    }

    /// Opens the store (running migrations), binds, and checks that an unknown CURVE key is refused.
    func start() throws {
        let location = configuration.store
        let quota = configuration.centralQuota
        if !location.isPostgres && location.text != ":memory:" {
            let lock = try StoreLock(store: location.text, exclusive: false)
            storeLock.withLock { $0 = lock }
        }
        let dispatcher = try RequestDispatcher(logger: logger) { try location.open(quota: quota) }
        let box = DispatcherBox(dispatcher)
        try server.start(batchHandler: { batch in box.dispatcher.handleBatch(batch) })
        try checkUnknownKeyIsRefused()
        logger.info("database tier ready", metadata: [
            "coffer.endpoint": "\(server.boundEndpoint)", "coffer.store": "\(location.kind)",
            "coffer.schema_version": "\(Migrations.latestVersion)", "coffer.batch": "\(configuration.maxBatch)",
            "coffer.central": "\(location.centralFolder ?? location.kind)",
        ])
    }

    /// Reads the allow list again (SIGHUP): keys added are admitted and keys removed refused from the
    /// next handshake on. A list that cannot be read leaves the one in force.
    func reloadAllowList() {
        do {
            let allowed = try CurveKeyFile.readPublicKeys(at: configuration.allowListFile)
            server.replaceAllowedClientKeys(allowed)
            logger.notice("reloaded the allow list", metadata: ["coffer.file": "\(configuration.allowListFile)", "coffer.keys": "\(allowed.count)"])
        } catch {
            logger.error("cannot reload the allow list; the one in force stays", metadata: ["coffer.file": "\(configuration.allowListFile)", "coffer.error": "\(error)"])
        }
    }

    /// Stops serving after the request in progress (the server's thread is joined off the pool);
    /// exits the process with 75 if that takes longer than the drain timeout.
    private func drain() async {
        stopping.withLock { $0 = true }
        let server = self.server
        let finished = Task.detached { await withCheckedContinuation { continuation in
            Thread { server.stop(); continuation.resume() }.start()
        } }
        let limit = configuration.drainTimeout
        let logger = self.logger
        let watchdog = Task.detached {
            try await Task.sleep(for: limit)
            logger.error("the request in progress did not finish within the drain timeout; exiting")
            exit(75)
        }
        await finished.value
        watchdog.cancel()
    }

    /// Brings the store's schema up to date and, on PostgreSQL, grants `role` the tier's rights.
    ///
    /// - Returns: The schema version now in force.
    public static func migrate(configuration: DatabaseTierConfiguration, grantTo role: String?) throws -> Int {
        let connection = try configuration.store.connect()
        let version = try Migrations.run(on: connection)
        if let role {
            guard configuration.store.isPostgres else { throw DatabaseTierError("--grant-to applies to PostgreSQL only") }
            try Migrations.grantTierRights(to: role, on: connection)
        }
        return version
    }

    /// Whether this process should receive requests: it serves, is not stopping, and reaches its store.
    public func readiness() -> (ok: Bool, detail: String) {
        if stopping.withLock({ $0 }) { return (false, "stopping") }
        return probe.isReachable() ? (true, configuration.store.kind) : (false, "the store is unreachable")
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

/// Hands the non-Sendable dispatcher to the server thread, which is the only thread that uses it.
private final class DispatcherBox: @unchecked Sendable {
    let dispatcher: RequestDispatcher
    init(_ dispatcher: RequestDispatcher) { self.dispatcher = dispatcher }
}

/// A start-up failure of the database tier, with a sentence for the operator.
public struct DatabaseTierError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
