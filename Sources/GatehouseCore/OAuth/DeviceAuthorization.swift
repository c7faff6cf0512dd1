import Foundation

/// The person's answer to a device's request.
package struct DeviceApproval: Equatable, Sendable {
    package var userID: UserID
    /// What the person allowed, as their role allowed it then; bounded again at the exchange.
    package var scopes: Set<Scope>
    package var authTime: Date
    package var amr: [String]

    package init(userID: UserID, scopes: Set<Scope>, authTime: Date, amr: [String]) {
        self.userID = userID
        self.scopes = scopes
        self.authTime = authTime
        self.amr = amr
    }
}

/// A device authorization request (RFC 8628) as stored: the digests of its two codes, what it asks for, and
/// the person's answer once given.
package struct DeviceCode: Equatable, Sendable {
    package var deviceDigest: SecretDigest
    package var userCodeDigest: SecretDigest
    package var workspaceID: WorkspaceID
    package var clientID: ClientID
    /// Nil when the request named none: the client's scopes are asked for.
    package var requestedScopes: Set<Scope>?
    package var resource: ResourceIdentifier?
    package var createdAt: Date
    package var expiresAt: Date
    /// Seconds the device waits between polls; raised by `slow_down`.
    package var interval: Int
    package var lastPolledAt: Date?
    package var approval: DeviceApproval?
    package var deniedAt: Date?
    package var consumedAt: Date?

    package init(
        deviceDigest: SecretDigest, userCodeDigest: SecretDigest, workspaceID: WorkspaceID, clientID: ClientID,
        requestedScopes: Set<Scope>?, resource: ResourceIdentifier?, createdAt: Date, expiresAt: Date, interval: Int,
        lastPolledAt: Date? = nil, approval: DeviceApproval? = nil, deniedAt: Date? = nil, consumedAt: Date? = nil
    ) {
        self.deviceDigest = deviceDigest
        self.userCodeDigest = userCodeDigest
        self.workspaceID = workspaceID
        self.clientID = clientID
        self.requestedScopes = requestedScopes
        self.resource = resource
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.interval = interval
        self.lastPolledAt = lastPolledAt
        self.approval = approval
        self.deniedAt = deniedAt
        self.consumedAt = consumedAt
    }

    /// Waiting for the person: no answer yet, not expired.
    package func isPending(at now: Date) -> Bool { approval == nil && deniedAt == nil && now < expiresAt }
}

/// Persists device authorization requests.
package protocol DeviceCodeStore: Sendable {
    func insert(_ code: DeviceCode) async throws
    func deviceCode(deviceDigest: SecretDigest) async throws -> DeviceCode?
    func deviceCode(userCodeDigest: SecretDigest) async throws -> DeviceCode?
    /// Stores the person's answer (an approval, or a denial when nil) to a code still waiting for one; false when
    /// it was answered already.
    func decide(userCodeDigest: SecretDigest, approval: DeviceApproval?, at time: Date) async throws -> Bool
    /// Notes a poll, and the interval from now on.
    func recordPoll(deviceDigest: SecretDigest, at time: Date, interval: Int) async throws
    /// Uses up an approved code and stores the tokens issued for it, in one step; false when it was used already.
    func redeem(deviceDigest: SecretDigest, at time: Date, issuing tokens: IssuedTokens) async throws -> Bool
}

/// A user code as people read and type it: 8 consonants (RFC 8628 §6.1: no vowels, so no words), shown as
/// `BCDF-GHJK`, taken in either case, with or without the dash.
package struct UserCode: Equatable, Sendable {
    /// The 8 letters, uppercase.
    package let letters: String

    static let alphabet = Array("BCDFGHJKLMNPQRSTVWXZ")

    package static func generate() -> UserCode {
        var letters = ""
        while letters.count < 8 {
            // 256 is not a multiple of 20: bytes from 240 up are drawn again, so every letter is as likely.
            for byte in SecretGenerator.randomBytes(16) where byte < 240 && letters.count < 8 {
                letters.append(alphabet[Int(byte) % alphabet.count])
            }
        }
        return UserCode(letters: letters)
    }

    private init(letters: String) { self.letters = letters }

    /// Parses what a person typed; nil when it cannot be a code.
    package init?(typed: String) {
        let letters = typed.uppercased().filter { !$0.isWhitespace && $0 != "-" }
        guard letters.count == 8, letters.allSatisfy({ Self.alphabet.contains($0) }) else { return nil }
        self.letters = letters
    }

    /// `BCDF-GHJK`.
    package var display: String { "\(letters.prefix(4))-\(letters.suffix(4))" }

    package var digest: SecretDigest { SecretDigest(of: letters) }
}

/// What the device is told to show (RFC 8628 §3.2).
package struct StartedDeviceAuthorization: Sendable {
    package var deviceCode: String
    package var userCode: UserCode
    package var expiresIn: Int
    package var interval: Int
}

/// A device's request, found by its user code for the person who typed it.
package struct PendingDevice: Sendable {
    package var code: DeviceCode
    package var userCode: UserCode
    package var client: ClientApplication
    package var resource: ResourceServer?
    /// What the person would allow: what was asked, as the client may receive it and their role allows.
    package var scopes: [DescribedScope]
}

/// The device authorization grant (RFC 8628): a device without a browser shows a code, the person types it on
/// `/device` in a browser where they are signed in, and consents; the device polls the token endpoint.
package struct DeviceAuthorization: Sendable {
    let store: any DeviceCodeStore & ClientStore & ConsentStore & ScopeStore & ResourceServerStore
    let clock: any WallClock
    let settings: OAuthSettings
    let throttle: SignInThrottle

    package static let lifetime: TimeInterval = 600
    package static let interval = 5

    package init(
        store: any DeviceCodeStore & ClientStore & ConsentStore & ScopeStore & ResourceServerStore & SignInAttemptStore,
        clock: any WallClock, settings: OAuthSettings
    ) {
        self.store = store
        self.clock = clock
        self.settings = settings
        // A user code has 34 bits: typing them is throttled like passwords, per person and per address.
        self.throttle = SignInThrottle(
            store: store, clock: clock, perAccount: 10, perAddress: 50, purpose: "device_code")
    }

    /// `POST /oauth/device_authorization` by an authenticated client (RFC 8628 §3.1).
    package func start(_ parameters: [String: String], client: ClientApplication) async throws
        -> StartedDeviceAuthorization
    {
        guard client.grantTypes.contains(.deviceCode) else {
            throw OAuthFailure(.unauthorizedClient, "This client is not registered for the device_code grant.")
        }
        let scopes = try GrantableScopes.parse(parameters["scope"])
        let resource = try await ResourceIndicator.resolve(
            parameters["resource"], in: client.workspaceID, settings: settings, store: store)
        let now = clock.now()
        let device = OpaqueToken.generate()
        let user = UserCode.generate()
        try await store.insert(
            DeviceCode(
                deviceDigest: device.digest, userCodeDigest: user.digest, workspaceID: client.workspaceID,
                clientID: client.id, requestedScopes: scopes, resource: resource?.identifier, createdAt: now,
                expiresAt: now.addingTimeInterval(Self.lifetime), interval: Self.interval))
        return StartedDeviceAuthorization(
            deviceCode: device.value, userCode: user, expiresIn: Int(Self.lifetime), interval: Self.interval)
    }

    /// The request a person's typed code names, if it is waiting and theirs to answer; otherwise
    /// `DeviceCodeRefusal`. Throttled per person and per address.
    package func pending(_ typed: String, for signedIn: SignedInUser, address: String?) async throws -> PendingDevice {
        do {
            _ = try await throttle.admit(email: signedIn.user.email.value, address: address)
        } catch SignInRefusal.throttled(let retryAfter) {
            throw DeviceCodeRefusal.throttled(retryAfter: retryAfter)
        }
        guard let userCode = UserCode(typed: typed) else { throw DeviceCodeRefusal.unknown }
        let now = clock.now()
        guard let code = try await store.deviceCode(userCodeDigest: userCode.digest), code.isPending(at: now),
            code.workspaceID == signedIn.user.workspaceID,
            let client = try await store.client(id: code.clientID), !client.isDisabled,
            client.workspaceID == code.workspaceID
        else { throw DeviceCodeRefusal.unknown }
        let rights = RoleRights(custom: try await store.scopeDefinitions(in: code.workspaceID))
        let scopes: Set<Scope>
        do {
            scopes = try GrantableScopes(rights: rights).forUser(
                requested: code.requestedScopes, client: client, role: signedIn.user.role)
        } catch {
            throw DeviceCodeRefusal.nothingToGrant
        }
        var resource: ResourceServer?
        if let identifier = code.resource { resource = try await store.resourceServer(identifier: identifier) }
        return PendingDevice(
            code: code, userCode: userCode, client: client, resource: resource,
            scopes: DescribedScope.describing(scopes, custom: rights.custom))
    }

    /// The person allowed it: their consent is remembered, and the device's next poll gets tokens.
    package func approve(_ typed: String, by signedIn: SignedInUser, address: String?) async throws {
        let pending = try await pending(typed, for: signedIn, address: address)
        let scopes = Set(pending.scopes.map(\.scope))
        try await store.remember(scopes, of: signedIn.user, for: pending.client, at: clock.now())
        let approval = DeviceApproval(
            userID: signedIn.user.id, scopes: scopes, authTime: signedIn.authTime, amr: signedIn.amr)
        guard try await store.decide(userCodeDigest: pending.userCode.digest, approval: approval, at: clock.now())
        else { throw DeviceCodeRefusal.unknown }
    }

    /// The person refused it: the device's next poll gets `access_denied`.
    package func deny(_ typed: String, by signedIn: SignedInUser, address: String?) async throws {
        let pending = try await pending(typed, for: signedIn, address: address)
        _ = try await store.decide(userCodeDigest: pending.userCode.digest, approval: nil, at: clock.now())
    }
}

/// Why a typed user code leads nowhere.
package enum DeviceCodeRefusal: Error, Equatable, Sendable {
    /// Unknown, mistyped, expired, answered already, or another workspace's: one answer for all.
    case unknown
    /// The person's role allows nothing the device asks for.
    case nothingToGrant
    case throttled(retryAfter: Int)
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5): the device polls until the
/// person answers; too fast is `slow_down` (and the interval grows by 5 seconds), before the answer
/// `authorization_pending`, after the code's life `expired_token`. The code is used once.
package struct DeviceCodeGrant: GrantHandler {
    package let grantType = GrantType.deviceCode
    let store: any GrantStore & DeviceCodeStore
    let issuer: TokenIssuer
    let clock: any WallClock
    var cache: EpochCache? = nil

    package func exchange(_ parameters: [String: String], client: ClientApplication) async throws -> TokenResponse {
        guard let value = parameters["device_code"] else {
            throw OAuthFailure.invalidRequest("The device_code parameter is required.")
        }
        let now = clock.now()
        guard let code = try await store.deviceCode(deviceDigest: OpaqueToken(value).digest), code.clientID == client.id
        else { throw OAuthFailure.invalidGrant("The device code is not valid.") }
        guard code.consumedAt == nil else { throw OAuthFailure.invalidGrant("The device code was already used.") }
        guard now < code.expiresAt else {
            throw OAuthFailure(.expiredToken, "The device code has expired; start again.")
        }
        if let last = code.lastPolledAt, now < last.addingTimeInterval(TimeInterval(code.interval)) {
            try await store.recordPoll(deviceDigest: code.deviceDigest, at: now, interval: code.interval + 5)
            throw OAuthFailure(.slowDown, "Poll at most every \(code.interval + 5) seconds.")
        }
        try await store.recordPoll(deviceDigest: code.deviceDigest, at: now, interval: code.interval)
        guard code.deniedAt == nil else { throw OAuthFailure(.accessDenied, "The user denied the request.") }
        guard let approval = code.approval else {
            throw OAuthFailure(.authorizationPending, "The user has not answered yet.")
        }
        let (response, records) = try await tokens(
            for: PersonalAuthorization(
                workspaceID: code.workspaceID, userID: approval.userID, scopes: approval.scopes,
                authTime: approval.authTime, amr: approval.amr, resource: code.resource),
            client: client, userGone: "The user who allowed this device can no longer sign in.", store: store,
            issuer: issuer, cache: cache, at: now)
        guard try await store.redeem(deviceDigest: code.deviceDigest, at: now, issuing: records) else {
            throw OAuthFailure.invalidGrant("The device code was already used.")
        }
        return response
    }
}
