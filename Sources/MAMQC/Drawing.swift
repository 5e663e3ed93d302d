/// Rectangles, markers and text drawn into an image, in whole pixels (no anti-aliasing: the tests
/// find each mark by its exact colour).
extension RGBImage {
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ colour: RGB) {
        for v in max(0, y)..<min(height, y + h) where w > 0 {
            for u in max(0, x)..<min(width, x + w) { self[u, v] = colour }
        }
    }

    /// A cross of arms `arm` pixels long with a gap of 2 pixels around (x, y), so the point
    /// itself stays visible, and one pixel at the point.
    public mutating func crossMarker(x: Int, y: Int, arm: Int, _ colour: RGB) {
        for d in 3...(2 + arm) {
            self[x + d, y] = colour
            self[x - d, y] = colour
            self[x, y + d] = colour
            self[x, y - d] = colour
        }
        self[x, y] = colour
    }

    /// `text` in the 5 x 7 font, each font pixel `scale` x `scale`, its top left corner at
    /// (x, y); characters the font lacks are drawn as spaces.
    public mutating func text(_ text: String, x: Int, y: Int, scale: Int = 2, _ colour: RGB) {
        var left = x
        for character in text {
            if let rows = Glyphs.rows[character] {
                for (row, bits) in rows.enumerated() {
                    for (column, bit) in bits.enumerated() where bit == "#" {
                        fillRect(x: left + column * scale, y: y + row * scale, width: scale, height: scale, colour)
                    }
                }
            }
            left += Glyphs.advance * scale
        }
    }

    /// The width in pixels of `text` drawn at `scale` (without the last character's spacing).
    public static func textWidth(_ text: String, scale: Int = 2) -> Int {
        max(0, text.count * Glyphs.advance - 1) * scale
    }
}

/// A 5 x 7 pixel font of the characters the pictures need: orientation letters, digits,
/// "mm". Drawn for mam-quantify.
enum Glyphs {
    static let height = 7
    /// Glyph width plus one column of space.
    static let advance = 6

    static let rows: [Character: [String]] = [
        "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
        "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
        "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
        "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
        "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
        "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
        "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
        "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
        "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
        "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
        "m": [".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"],
        "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
        "I": [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
        "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
        "P": ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
        "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
        "S": [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
        ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
        "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
    ]
}
