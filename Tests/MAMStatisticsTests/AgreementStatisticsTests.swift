import Foundation
import MAMStatistics
import MAMCore
import MAMTestSupport
import Testing

@Suite("Agreement statistics: ICC, Bland-Altman, kappa")
struct AgreementStatisticsTests {
    /// Shrout and Fleiss (1979), Table 2: 6 targets rated by 4 judges.
    static let shroutFleiss: [[Double]] = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]

    @Test("ICC(2,1) = 0.29 and ICC(3,1) = 0.71 on Shrout and Fleiss's example, to two decimals")
    func shroutFleissExample() throws {
        let icc = try #require(IntraclassCorrelation(Self.shroutFleiss))
        #expect((icc.icc21.value * 100).rounded() / 100 == 0.29)
        #expect((icc.icc31.value * 100).rounded() / 100 == 0.71)
        #expect(icc.targets == 6 && icc.raters == 4)
    }

    @Test("confidence intervals agree with the same published formulas coded with scipy's F quantiles (1e-6)")
    func intervals() throws {
        var g = SeededGenerator(seed: 5)
        // Shrout and Fleiss's data, and MAM-like data: 30 cases x 2 observers with a 0.4 mm bias.
        let truth = (0..<30).map { _ in Double.random(in: -4...8, using: &g) }
        let mams = truth.map { [$0 + Double.random(in: -1...1, using: &g), $0 + 0.4 + Double.random(in: -1...1, using: &g)] }
        for ratings in [Self.shroutFleiss, mams] {
            let icc = try #require(IntraclassCorrelation(ratings))
            let json = try JSONSerialization.data(withJSONObject: ratings)
            let folder = try TemporaryFolder()
            defer { folder.remove() }
            try json.write(to: URL(fileURLWithPath: folder.file("r.json")))
            let output = try ReferenceTools.run("icc_reference.py", [folder.file("r.json")])
            let reference = try JSONDecoder().decode([String: Double].self, from: output)
            for (value, key) in [(icc.icc21.value, "icc21"), (icc.icc21.lower!, "icc21_lower"), (icc.icc21.upper!, "icc21_upper"),
                                 (icc.icc31.value, "icc31"), (icc.icc31.lower!, "icc31_lower"), (icc.icc31.upper!, "icc31_upper")] {
                #expect(abs(value - reference[key]!) < 1e-6, "\(key): \(value) vs \(reference[key]!)")
            }
            #expect(icc.icc21.lower! < icc.icc21.value && icc.icc21.value < icc.icc21.upper!)
        }
    }

    @Test("three discordant pairs: every bound finite or null, never NaN (0.6.0 wrote no report: NaN cannot be encoded)")
    func discordant() throws {
        // The smallest MAMs of three sample cases against another case's (scripts/equivalence's
        // first draft): ICC(2,1) is negative and its Satterthwaite interval undefined.
        let icc = try #require(IntraclassCorrelation([[4.81, -1.98], [1.97, 4.81], [3.11, -1.98]]))
        for bound in [icc.icc21.lower, icc.icc21.upper, icc.icc31.lower, icc.icc31.upper] {
            #expect(bound.map(\.isFinite) ?? true, "bound \(String(describing: bound))")
        }
        #expect(icc.icc21.value.isFinite && icc.icc31.value.isFinite)
        _ = try JSONEncoder().encode(icc)
    }

    @Test("Bland-Altman: bias and limits by hand")
    func blandAltman() throws {
        // Differences 0.5, 0, 0.5, 0.5: mean 0.375, SD sqrt((3 * 0.125^2 + 0.375^2) / 3) = 0.25.
        let ba = try #require(BlandAltman(a: [1, 2, 3, 4], b: [1.5, 2, 3.5, 4.5]))
        #expect(abs(ba.biasMM - 0.375) < 1e-12 && abs(ba.sdMM - 0.25) < 1e-12)
        #expect(abs(ba.lowerLimitMM - (0.375 - 0.49)) < 1e-12 && abs(ba.upperLimitMM - (0.375 + 0.49)) < 1e-12)
    }

    @Test("Cohen's kappa: the two worked examples of Wikipedia's article; weighted kappa by hand")
    func kappa() throws {
        // 50 items: both yes 20, A yes B no 5, A no B yes 10, both no 15: p_o 0.7, p_e 0.5, kappa 0.4.
        func items(_ yy: Int, _ yn: Int, _ ny: Int, _ nn: Int) -> ([Int], [Int]) {
            (Array(repeating: 1, count: yy + yn) + Array(repeating: 2, count: ny + nn),
             Array(repeating: 1, count: yy) + Array(repeating: 2, count: yn) + Array(repeating: 1, count: ny) + Array(repeating: 2, count: nn))
        }
        let (a, b) = items(20, 5, 10, 15)
        let k = try #require(CohenKappa(a: a, b: b, categories: 2))
        #expect(abs(k.observedAgreement - 0.7) < 1e-12 && abs(k.kappa! - 0.4) < 1e-12)
        // 45 / 15 / 25 / 15 of 100: p_o 0.6, p_e 0.54, kappa 0.06 / 0.46 = 0.1304.
        let (c, d) = items(45, 15, 25, 15)
        #expect(abs(try #require(CohenKappa(a: c, b: d, categories: 2)).kappa! - 0.06 / 0.46) < 1e-12)
        // Two categories: every weighting is the same kappa.
        #expect(abs(k.linearWeightedKappa! - 0.4) < 1e-12 && abs(k.quadraticWeightedKappa! - 0.4) < 1e-12)
        // Three categories, 4 items: (1,1), (2,3), (3,3), (1,2). Table rows A, columns B:
        // row 1: [1, 1, 0], row 2: [0, 0, 1], row 3: [0, 0, 1]. Marginals A (2, 1, 1)/4,
        // B (1, 1, 2)/4. Linear weights |i-j|/2: observed (0.5 + 0.5) / 4 = 0.25; expected
        // sum w p_i q_j = (2*1*0.5 + 2*2*1 + 1*1*0.5 + 1*2*0.5 + 1*1*1 + 1*1*0.5) / 16 = 8 / 16,
        // so kappa_w = 1 - 0.25 / 0.5 = 0.5. Quadratic weights (i-j)^2/4: observed 0.125,
        // expected (2*1*0.25 + 2*2*1 + 1*1*0.25 + 1*2*0.25 + 1*1*1 + 1*1*0.25) / 16 = 6.5 / 16.
        let w = try #require(CohenKappa(a: [1, 2, 3, 1], b: [1, 3, 3, 2], categories: 3))
        #expect(abs(w.linearWeightedKappa! - 0.5) < 1e-12)
        #expect(abs(w.quadraticWeightedKappa! - (1 - 0.125 / (6.5 / 16))) < 1e-12)
        #expect(abs(w.observedAgreement - 0.5) < 1e-12)
    }

    @Test("undefined cases give nil: too few targets, no residual variance, one category only")
    func undefined() {
        #expect(IntraclassCorrelation([[1, 2]]) == nil)
        #expect(IntraclassCorrelation([[1, 1], [2, 2]]) == nil)  // raters identical: EMS 0
        #expect(BlandAltman(a: [1], b: [2]) == nil)
        #expect(CohenKappa(a: [1, 1], b: [1, 1], categories: 2)?.kappa == nil)
    }
}
