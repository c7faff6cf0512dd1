/// A QR code (ISO/IEC 18004) of a short text, in byte mode at error correction level M, versions 1 to 9 (up to
/// 180 bytes): what the two-factor enrolment page shows an authenticator app. Drawn as an SVG path, so the page
/// loads no image and needs no script.
///
/// The construction follows the standard's steps, as Project Nayuki's reference generator lays them out:
/// data codewords, Reed–Solomon blocks interleaved, function patterns, the zigzag placement, and of the eight
/// masks the one with the lowest penalty.
struct QRCode {
    /// `modules[y][x]`: true for a dark module.
    let modules: [[Bool]]
    var size: Int { modules.count }

    /// The code of `text`, or nil when it is longer than version 9 holds (its length takes 8 bits up to there).
    init?(_ text: String) {
        let data = Array(text.utf8)
        guard let version = (1...9).first(where: { Self.dataCodewords($0) >= 2 + data.count }) else { return nil }
        var builder = Builder(version: version)
        builder.drawFunctionPatterns()
        builder.place(Self.codewords(data, version: version))
        builder.applyBestMask()
        modules = builder.modules
    }

    /// The code as an SVG element, `scale` pixels a module, with the four-module quiet zone around it.
    func svg(scale: Int = 5, label: String) -> String {
        let side = (size + 8) * scale
        var path = ""
        for y in 0..<size {
            for x in 0..<size where modules[y][x] { path += "M\(x + 4) \(y + 4)h1v1h-1z" }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img" aria-label="\(label)" width="\(side)" \
            height="\(side)" viewBox="0 0 \(size + 8) \(size + 8)" shape-rendering="crispEdges">\
            <rect width="100%" height="100%" fill="#ffffff"/><path fill="#000000" d="\(path)"/></svg>
            """
    }

    // MARK: Codewords

    /// Error correction codewords per block, and blocks, at level M, by version (index 0 unused).
    static let eccPerBlock = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22]
    static let blocks = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5]

    static func rawModules(_ version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            result -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    static func dataCodewords(_ version: Int) -> Int {
        rawModules(version) / 8 - eccPerBlock[version] * blocks[version]
    }

    /// The data in byte mode, padded, split into blocks with their error correction, interleaved.
    static func codewords(_ data: [UInt8], version: Int) -> [UInt8] {
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
        }
        append(0b0100, 4)
        append(data.count, 8)
        for byte in data { append(Int(byte), 8) }
        let capacity = dataCodewords(version) * 8
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var pad = 0xEC
        while bits.count < capacity {
            append(pad, 8)
            pad ^= 0xEC ^ 0x11
        }
        var bytes = [UInt8](repeating: 0, count: bits.count / 8)
        for (i, bit) in bits.enumerated() where bit { bytes[i >> 3] |= 1 << (7 - UInt8(i & 7)) }

        let blockCount = blocks[version]
        let ecc = eccPerBlock[version]
        let raw = rawModules(version) / 8
        let shortBlocks = blockCount - raw % blockCount
        let shortLength = raw / blockCount
        let divisor = reedSolomonDivisor(degree: ecc)
        var split: [[UInt8]] = []
        var offset = 0
        for i in 0..<blockCount {
            let length = shortLength - ecc + (i < shortBlocks ? 0 : 1)
            var block = Array(bytes[offset..<offset + length])
            offset += length
            let remainder = reedSolomonRemainder(block, divisor)
            if i < shortBlocks { block.append(0) }
            split.append(block + remainder)
        }
        var result: [UInt8] = []
        for i in 0..<split[0].count {
            for (j, block) in split.enumerated() where i != shortLength - ecc || j >= shortBlocks {
                result.append(block[i])
            }
        }
        return result
    }

    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for i in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= ((Int(y) >> i) & 1) * Int(x)
        }
        return UInt8(z & 0xFF)
    }

    static func reedSolomonDivisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func reedSolomonRemainder(_ data: [UInt8], _ divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for i in 0..<result.count { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }

    // MARK: Modules

    struct Builder {
        let version: Int
        let size: Int
        var modules: [[Bool]]
        var isFunction: [[Bool]]

        init(version: Int) {
            self.version = version
            size = version * 4 + 17
            modules = Array(repeating: Array(repeating: false, count: size), count: size)
            isFunction = modules
        }

        mutating func set(_ x: Int, _ y: Int, _ dark: Bool) {
            modules[y][x] = dark
            isFunction[y][x] = true
        }

        mutating func drawFunctionPatterns() {
            for i in 0..<size {
                set(6, i, i % 2 == 0)
                set(i, 6, i % 2 == 0)
            }
            for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
                for dy in -4...4 {
                    for dx in -4...4 where (0..<size).contains(x + dx) && (0..<size).contains(y + dy) {
                        let distance = max(abs(dx), abs(dy))
                        set(x + dx, y + dy, distance != 2 && distance != 4)
                    }
                }
            }
            let positions = alignmentPositions()
            let last = positions.count - 1
            for (i, x) in positions.enumerated() {
                for (j, y) in positions.enumerated()
                where !(i == 0 && j == 0 || i == 0 && j == last || i == last && j == 0) {
                    for dy in -2...2 {
                        for dx in -2...2 { set(x + dx, y + dy, max(abs(dx), abs(dy)) != 1) }
                    }
                }
            }
            drawFormatBits(mask: 0)
            if version >= 7 {
                var remainder = version
                for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
                let bits = version << 12 | remainder
                for i in 0..<18 {
                    let dark = (bits >> i) & 1 == 1
                    let a = size - 11 + i % 3
                    let b = i / 3
                    set(a, b, dark)
                    set(b, a, dark)
                }
            }
        }

        func alignmentPositions() -> [Int] {
            guard version > 1 else { return [] }
            let count = version / 7 + 2
            let step = (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
            var result: [Int] = []
            var position = size - 7
            for _ in 0..<(count - 1) {
                result.insert(position, at: 0)
                position -= step
            }
            return [6] + result
        }

        /// Level M (0b00) and the mask, with their BCH code, in both copies; and the dark module.
        mutating func drawFormatBits(mask: Int) {
            let data = 0b00 << 3 | mask
            var remainder = data
            for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
            let bits = (data << 10 | remainder) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { set(8, i, bit(i)) }
            set(8, 7, bit(6))
            set(8, 8, bit(7))
            set(7, 8, bit(8))
            for i in 9..<15 { set(14 - i, 8, bit(i)) }
            for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
            for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
            set(8, size - 8, true)
        }

        mutating func place(_ codewords: [UInt8]) {
            var i = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                for vertical in 0..<size {
                    for j in 0..<2 {
                        let x = right - j
                        let upward = (right + 1) & 2 == 0
                        let y = upward ? size - 1 - vertical : vertical
                        if !isFunction[y][x], i < codewords.count * 8 {
                            modules[y][x] = (codewords[i >> 3] >> (7 - UInt8(i & 7))) & 1 == 1
                            i += 1
                        }
                    }
                }
                right -= 2
            }
        }

        static func masked(_ mask: Int, _ x: Int, _ y: Int) -> Bool {
            switch mask {
            case 0: (x + y) % 2 == 0
            case 1: y % 2 == 0
            case 2: x % 3 == 0
            case 3: (x + y) % 3 == 0
            case 4: (x / 3 + y / 2) % 2 == 0
            case 5: x * y % 2 + x * y % 3 == 0
            case 6: (x * y % 2 + x * y % 3) % 2 == 0
            default: ((x + y) % 2 + x * y % 3) % 2 == 0
            }
        }

        mutating func applyMask(_ mask: Int) {
            for y in 0..<size {
                for x in 0..<size where !isFunction[y][x] && Self.masked(mask, x, y) { modules[y][x].toggle() }
            }
        }

        mutating func applyBestMask() {
            var best = 0
            var lowest = Int.max
            for mask in 0..<8 {
                applyMask(mask)
                drawFormatBits(mask: mask)
                let score = penalty()
                if score < lowest {
                    lowest = score
                    best = mask
                }
                applyMask(mask)
            }
            applyMask(best)
            drawFormatBits(mask: best)
        }

        /// The standard's penalty: runs of five or more, 2×2 blocks, finder-like patterns, and imbalance.
        func penalty() -> Int {
            var result = 0
            for line in 0..<2 {
                for a in 0..<size {
                    var run = 0
                    var previous = false
                    var window: [Bool] = []
                    for b in 0..<size {
                        let dark = line == 0 ? modules[a][b] : modules[b][a]
                        if dark == previous && b > 0 {
                            run += 1
                        } else {
                            if run >= 5 { result += run - 2 }
                            run = 1
                            previous = dark
                        }
                        window.append(dark)
                        if window.count > 11 { window.removeFirst() }
                        if window.count == 11,
                            window == Self.finderLike || window == Array(Self.finderLike.reversed())
                        {
                            result += 40
                        }
                    }
                    if run >= 5 { result += run - 2 }
                }
            }
            for y in 0..<size - 1 {
                for x in 0..<size - 1 {
                    let color = modules[y][x]
                    if color == modules[y][x + 1], color == modules[y + 1][x], color == modules[y + 1][x + 1] {
                        result += 3
                    }
                }
            }
            let dark = modules.reduce(0) { $0 + $1.filter { $0 }.count }
            let total = size * size
            result += max(0, (abs(dark * 20 - total * 10) + total - 1) / total - 1) * 10
            return result
        }

        static let finderLike = [true, false, true, true, true, false, true, false, false, false, false]
    }
}
