public import Hummingbird

/// The HTTPS API (`docs/api/openapi.yaml`): every area's routes, behind the middlewares every
/// answer passes through, and the signed areas behind the authentication middleware.
///
/// Where things go: an endpoint anyone may call belongs to an area's `open` collection; one that
/// needs a session to its `signed` collection, whose context (``SignedRequestContext``) already
/// holds the checked session, replay guard and body.
public enum APIRoutes {
    /// The largest request body read, in bytes.
    static let maxBody = 64 * 1024

    /// Builds the router for `services`.
    public static func router(_ services: TransactionServices) -> Router<CofferRequestContext> {
        let router = Router(context: CofferRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: SecurityHeadersMiddleware())
        // Requests by route pattern (never a record id), method and status, with their latency.
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorAnswerMiddleware(routes: routes))
        if let fault = FaultInjectionMiddleware<CofferRequestContext>.fromEnvironment() { router.add(middleware: fault) }

        if let web = services.web { router.addRoutes(WebRoutes.open(web, published: services.webPublication)) }
        let v1 = router.group("v1")
        v1.addRoutes(AccountRoutes.open(services.accounts))
        v1.addRoutes(HealthRoutes.open(services.health, identity: services.identity))

        let signed = v1.group().add(middleware: AuthenticationMiddleware(authenticator: services.authenticator))
            .group(context: SignedRequestContext.self)
        signed.addRoutes(AccountRoutes.signed(services.accounts))
        signed.addRoutes(FileRoutes.signed(services.files))
        signed.addRoutes(AuditRoutes.signed(services.audit))
        signed.addRoutes(CentralRoutes.signed(services.central))
        signed.addRoutes(SharingRoutes.signed(services.sharing))

        let streamed = v1.group().add(middleware: AuthenticationMiddleware(authenticator: services.authenticator, streamsBody: true))
            .group(context: SignedRequestContext.self)
        streamed.addRoutes(CentralRoutes.streamed(services.central))

        routes.load(router.routes.map { ($0.path, $0.method.rawValue) })
        return router
    }
}
