import MAMNumerics
import Testing

@Suite("GSL minimisers")
struct MinimizerTests {
    /// Rosenbrock's function: minimum 0 at (1, 1), in a curved valley that defeats naive methods.
    static func rosenbrock(_ x: [Double]) -> Double {
        (1 - x[0]) * (1 - x[0]) + 100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0])
    }

    /// Rosenbrock's function with its analytic gradient, as `Minimizer.bfgs` takes it.
    static func rosenbrock(_ x: [Double], _ g: inout [Double]) -> Double {
        g[0] = -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0])
        g[1] = 200 * (x[1] - x[0] * x[0])
        return rosenbrock(x)
    }

    @Test("BFGS with the analytic gradient finds Rosenbrock's minimum within 1e-5")
    func bfgs() throws {
        let result = try Minimizer.bfgs(start: [-1.2, 1], initialStep: 0.01, gradientTolerance: 1e-8,
                                        maxIterations: 1_000, objective: Self.rosenbrock)
        #expect(result.converged)
        // |grad| < 1e-8 near a minimum with Hessian eigenvalues >= 0.4 puts x within ~2.5e-8.
        #expect(abs(result.x[0] - 1) < 1e-5 && abs(result.x[1] - 1) < 1e-5)
    }

    @Test("BFGS on a 6-parameter quadratic reaches its known minimum")
    func quadratic() throws {
        let centre = [3.0, -2, 0.5, 10, -7, 1e-3]
        let weights = [1.0, 2, 3, 0.5, 4, 10]
        let result = try Minimizer.bfgs(start: [Double](repeating: 0, count: 6), initialStep: 1, gradientTolerance: 1e-10,
                                        maxIterations: 200) { x, g in
            var f = 0.0
            for i in 0..<6 {
                f += weights[i] * (x[i] - centre[i]) * (x[i] - centre[i])
                g[i] = 2 * weights[i] * (x[i] - centre[i])
            }
            return f
        }
        #expect(result.converged)
        // |grad| < 1e-10 and the smallest curvature 2 * 0.5 = 1 put every coordinate within 1e-10.
        for i in 0..<6 { #expect(abs(result.x[i] - centre[i]) < 1e-9) }
    }

    @Test("running out of iterations is reported, not hidden")
    func iterationLimit() throws {
        let result = try Minimizer.bfgs(start: [-1.2, 1], initialStep: 0.01, gradientTolerance: 1e-12,
                                        maxIterations: 3, objective: Self.rosenbrock)
        #expect(!result.converged)
        #expect(result.iterations == 3)
    }

    @Test("a non-finite start is refused with a typed error")
    func nonFiniteStart() {
        #expect(throws: MinimizationError.self) {
            try Minimizer.bfgs(start: [.nan, 1], initialStep: 1, gradientTolerance: 1e-6, maxIterations: 10) { x, _ in
                Self.rosenbrock(x)
            }
        }
        #expect(throws: MinimizationError.self) {
            try Minimizer.bfgs(start: [1, 1], initialStep: 1, gradientTolerance: 1e-6, maxIterations: 10) { _, _ in .infinity }
        }
    }
}

@Suite("Symmetric positive definite systems (GSL Cholesky)")
struct LinearSystemTests {
    // A = [[4, 2, 0], [2, 5, 1], [0, 1, 3]]: solution, factor and inverse worked by hand
    // (det 44); exact up to rounding (1e-12).
    static let a: [Double] = [4, 2, 0, 2, 5, 1, 0, 1, 3]

    @Test("solve, factor and inverse of a 3 x 3 matrix; nil for one that is not positive definite")
    func system() throws {
        let x = try #require(LinearSystem.solveSymmetricPositiveDefinite(Self.a, [2, 6, 4]))
        for (got, want) in zip(x, [0.0, 1, 1]) { #expect(abs(got - want) < 1e-12, "\(x)") }
        let l = try #require(LinearSystem.choleskyFactor(Self.a, n: 3))
        // L L^T = A, L lower-triangular with L[0][0] = 2.
        #expect(l[1] == 0 && l[2] == 0 && l[5] == 0 && abs(l[0] - 2) < 1e-12)
        for r in 0..<3 {
            for c in 0..<3 {
                let product = (0..<3).map { l[r * 3 + $0] * l[c * 3 + $0] }.reduce(0, +)
                #expect(abs(product - Self.a[r * 3 + c]) < 1e-12)
            }
        }
        let inverse = try #require(LinearSystem.inverseSymmetricPositiveDefinite(Self.a, n: 3))
        let expected = [14.0, -6, 2, -6, 12, -4, 2, -4, 16].map { $0 / 44 }
        for (got, want) in zip(inverse, expected) { #expect(abs(got - want) < 1e-12) }
        #expect(LinearSystem.solveSymmetricPositiveDefinite([1, 2, 2, 1], [1, 1]) == nil)
    }
}
