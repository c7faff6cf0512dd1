import Foundation
import GatehouseCore
import HTTPTypes
import Hummingbird

/// The device authorization grant (RFC 8628): `POST /oauth/device_authorization` for the device, and the
/// `/device` pages where the signed-in person types the code and answers.
struct DeviceController {
    let device: DeviceAuthorization
    let clients: ClientAuthenticator
    let issuer: String

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("oauth/device_authorization") { request, context in
            let form = try await OAuthRequest.read(request, context: context)
            let client = try await clients.authenticate(form)
            let started = try await device.start(form.parameters, client: client)
            return try DeviceAuthorizationResponse(started, issuer: issuer).noStoreResponse(
                from: request, context: context)
        }
    }
}

/// RFC 8628 §3.2.
struct DeviceAuthorizationResponse: ResponseEncodable {
    let deviceCode: String
    let userCode: String
    let verificationUri: String
    let verificationUriComplete: String
    let expiresIn: Int
    let interval: Int

    init(_ started: StartedDeviceAuthorization, issuer: String) {
        deviceCode = started.deviceCode
        userCode = started.userCode.display
        verificationUri = issuer + "/device"
        verificationUriComplete = issuer + "/device?user_code=" + started.userCode.display
        expiresIn = started.expiresIn
        interval = started.interval
    }
}

/// `/device`: the signed-in person types the code their device shows, sees what it asks for, and allows or
/// denies it.
struct DevicePages {
    let device: DeviceAuthorization
    let pages: SignedInPages

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("device") { request, context in
            let page = try await pages.open(request, context: context)
            let typed = request.uri.queryParameters["user_code"].map(String.init) ?? ""
            return try pages.render("device", DevicePage(step: .entering, userCode: typed), for: page, in: .account)
        }
        router.post("device") { request, context in
            let (page, form) = try await pages.submit(request, context: context)
            let typed = form["user_code"] ?? ""
            return try await answering(typed, page, request) { signedIn in
                let pending = try await device.pending(typed, for: signedIn, address: context.remoteAddress)
                return try pages.render("device", DevicePage(pending), for: page, in: .account)
            }
        }
        router.post("device/decision") { request, context in
            let (page, form) = try await pages.submit(request, context: context)
            let typed = form["user_code"] ?? ""
            let allowed = form["decision"] == "allow"
            return try await answering(typed, page, request) { signedIn in
                if allowed {
                    try await device.approve(typed, by: signedIn, address: context.remoteAddress)
                } else {
                    try await device.deny(typed, by: signedIn, address: context.remoteAddress)
                }
                return try pages.render(
                    "device", DevicePage(step: allowed ? .allowed : .denied, userCode: ""), for: page, in: .account)
            }
        }
    }

    /// Runs `body` for the signed-in person; a code that leads nowhere shows the form again with why.
    private func answering(
        _ typed: String, _ page: SignedInPage, _ request: Request, _ body: (SignedInUser) async throws -> Response
    ) async throws -> Response {
        guard let signedIn = try await pages.sessions.signedIn(request) else {
            throw RedirectInstead(location: pages.sessions.signInLocation(returningTo: "/device"))
        }
        do {
            return try await body(signedIn)
        } catch let refusal as DeviceCodeRefusal {
            let (message, status): (String, HTTPResponse.Status) =
                switch refusal {
                case .unknown:
                    (
                        "That code is not valid, or it has expired or been used. Check the code on your device.",
                        .badRequest
                    )
                case .nothingToGrant: ("Your role allows nothing this device asks for.", .forbidden)
                case .throttled(let retryAfter): ("Too many codes tried. Wait \(retryAfter) seconds.", .tooManyRequests)
                }
            var response = try pages.render(
                "device", DevicePage(step: .entering, userCode: typed, problem: message), for: page, in: .account)
            response.status = status
            return response
        }
    }
}

/// `device.mustache`.
struct DevicePage: Encodable {
    enum Step: String, Encodable { case entering, confirming, allowed, denied }
    struct ScopeLine: Encodable {
        let name: String
        let description: String
    }

    let entering: Bool
    let confirming: Bool
    let allowed: Bool
    let denied: Bool
    let userCode: String
    var problem: String? = nil
    var clientName: String? = nil
    var clientID: String? = nil
    var resourceName: String? = nil
    var selfRegistered = false
    var scopes: [ScopeLine] = []

    init(step: Step, userCode: String, problem: String? = nil) {
        entering = step == .entering
        confirming = step == .confirming
        allowed = step == .allowed
        denied = step == .denied
        self.userCode = userCode
        self.problem = problem
    }

    init(_ pending: PendingDevice) {
        self.init(step: .confirming, userCode: pending.userCode.display)
        clientName = pending.client.name
        clientID = pending.client.id.value
        resourceName = pending.resource?.name
        selfRegistered = pending.client.registeredBy != .admin
        scopes = pending.scopes.map { ScopeLine(name: $0.scope.name, description: $0.description) }
    }
}
