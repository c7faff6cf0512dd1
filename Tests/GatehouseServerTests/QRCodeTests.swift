import Foundation
import Testing

@testable import GatehouseServer

/// The QR code's structure; that a real decoder reads it back is proven in scripts/e2e-browser (zxing-cpp).
@Suite("QR codes")
struct QRCodeTests {
    static let uri =
        "otpauth://totp/Gatehouse:ann%40acme.test?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Gatehouse"
        + "&algorithm=SHA1&digits=6&period=30"

    @Test func anOtpauthURIFitsAndCarriesTheThreeFinderPatterns() throws {
        let code = try #require(QRCode(Self.uri))
        #expect((code.size - 17) % 4 == 0 && code.size <= 57)
        for (x, y) in [(0, 0), (code.size - 7, 0), (0, code.size - 7)] {
            #expect(code.modules[y][x] && code.modules[y + 6][x + 6] && !code.modules[y + 1][x + 1])
            #expect(code.modules[y + 3][x + 3], "the finder's centre")
        }
        // For a look with a decoder: every version's code, written to this folder.
        if let folder = ProcessInfo.processInfo.environment["GATEHOUSE_QR_FOLDER"] {
            for length in [5, 20, 40, 70, 100, 130, 160, 180] {
                let text = String((0..<length).map { Character(UnicodeScalar(UInt8(33 + $0 % 90))) })
                try #require(QRCode(text)).svg(label: "test").write(
                    toFile: "\(folder)/\(length).svg", atomically: true, encoding: .utf8)
            }
        }
    }

    @Test func textLongerThanVersionNineHoldsIsRefused() {
        let tooLong = QRCode(String(repeating: "x", count: 181)) == nil
        #expect(tooLong)
        let size = QRCode(String(repeating: "x", count: 180))?.size
        #expect(size == 9 * 4 + 17)
    }
}
