import Foundation
internal import MAMNumerics

/// Cox proportional hazards regression by Efron's partial likelihood (Newton-Raphson from 0),
/// with the model-based variance and, given clusters (patients), the cluster-robust sandwich
/// variance; and the Grambsch-Therneau test of proportional hazards on scaled Schoenfeld
/// residuals against the rank of the event times. Each formula is lifelines' (`CoxPHFitter`,
/// `proportional_hazard_test`), written out in Docs/outcomes.md.
public struct CoxRegression: Sendable {
    public struct Coefficient: Sendable, Equatable {
        public var beta: Double
        public var standardError: Double
        public var hazardRatio: Double { exp(beta) }
        public var lower: Double
        public var upper: Double
        public var z: Double { beta / standardError }
        public var pValue: Double
        /// The proportional-hazards test of this covariate: chi-squared (1 df) and its p-value.
        public var proportionalHazardsStatistic: Double
        public var proportionalHazardsPValue: Double
    }

    public let coefficients: [Coefficient]
    public let logLikelihood: Double
    public let iterations: Int
    /// True when the standard errors are the cluster-robust ones.
    public let robust: Bool
    public let events: Int

    public enum Failure: Error, Equatable {
        case noEvents
        case notConverged
        /// The information matrix is singular (a covariate constant, or separating the events).
        case singular
    }

    /// `covariates[i]` holds subject i's values; `clusters[i]` its cluster (nil: no clustering).
    public init(_ data: CensoredTimes, covariates: [[Double]], clusters: [Int]? = nil, level: Double = 0.95) throws(Failure) {
        let n = data.count, p = covariates.first?.count ?? 0
        precondition(covariates.count == n && covariates.allSatisfy { $0.count == p } && p > 0, "one covariate row per subject")
        guard data.events.contains(true) else { throw .noEvents }
        // Sorted by time, then event (censored first), ties in input order: lifelines' order.
        let order = (0..<n).sorted {
            (data.times[$0], data.events[$0] ? 1 : 0, $0) < (data.times[$1], data.events[$1] ? 1 : 0, $1)
        }
        let times = order.map { data.times[$0] }, events = order.map { data.events[$0] }
        let means = (0..<p).map { k in covariates.map { $0[k] }.reduce(0, +) / Double(n) }
        let x = order.map { i in (0..<p).map { covariates[i][$0] - means[$0] } }

        var beta = [Double](repeating: 0, count: p)
        var current = Self.efron(times: times, events: events, x: x, beta: beta)
        var iterations = 0
        while true {
            iterations += 1
            guard iterations <= 100 else { throw .notConverged }
            let information = current.hessian.map { -$0 }
            guard let step = LinearSystem.solveSymmetricPositiveDefinite(information, current.gradient) else { throw .singular }
            var scale = 1.0
            var next = Self.efron(times: times, events: events, x: x, beta: zip(beta, step).map { $0 + scale * $1 })
            // Step halving while the likelihood falls (it does not near the optimum).
            while next.logLikelihood < current.logLikelihood - 1e-12 * abs(current.logLikelihood), scale > 1e-6 {
                scale /= 2
                next = Self.efron(times: times, events: events, x: x, beta: zip(beta, step).map { $0 + scale * $1 })
            }
            beta = zip(beta, step).map { $0 + scale * $1 }
            current = next
            if step.map({ abs($0 * scale) }).max()! < 1e-10 { break }
        }
        guard let variance = LinearSystem.inverseSymmetricPositiveDefinite(current.hessian.map { -$0 }, n: p) else { throw .singular }

        var covariance = variance
        if let clusters {
            let dfbeta = Self.scoreResiduals(times: times, events: events, x: x, beta: beta).map { r in
                (0..<p).map { k in (0..<p).map { j in r[j] * variance[j * p + k] }.reduce(0, +) }
            }
            var sums: [Int: [Double]] = [:]
            for (row, i) in order.enumerated() {
                for k in 0..<p { sums[clusters[i], default: [Double](repeating: 0, count: p)][k] += dfbeta[row][k] }
            }
            covariance = [Double](repeating: 0, count: p * p)
            for d in sums.values { for a in 0..<p { for b in 0..<p { covariance[a * p + b] += d[a] * d[b] } } }
        }
        let errors = (0..<p).map { covariance[$0 * p + $0].squareRoot() }
        let ph = Self.proportionalHazards(times: times, events: events, x: x, beta: beta, variance: variance, errors: errors)
        let zq = Distributions.normalQuantile(1 - (1 - level) / 2)
        coefficients = (0..<p).map { k in
            Coefficient(beta: beta[k], standardError: errors[k], lower: beta[k] - zq * errors[k], upper: beta[k] + zq * errors[k],
                        pValue: Distributions.chiSquaredUpperTail(pow(beta[k] / errors[k], 2), df: 1),
                        proportionalHazardsStatistic: ph[k], proportionalHazardsPValue: Distributions.chiSquaredUpperTail(ph[k], df: 1))
        }
        logLikelihood = current.logLikelihood
        self.iterations = iterations
        robust = clusters != nil
        self.events = events.filter { $0 }.count
    }

    /// Efron's log partial likelihood, its gradient and Hessian (row-major), for rows sorted by
    /// time. Risk sets are built from the latest time back.
    static func efron(times: [Double], events: [Bool], x: [[Double]], beta: [Double])
        -> (logLikelihood: Double, gradient: [Double], hessian: [Double]) {
        let n = times.count, p = beta.count
        var ll = 0.0
        var gradient = [Double](repeating: 0, count: p), hessian = [Double](repeating: 0, count: p * p)
        var risk = 0.0, riskX = [Double](repeating: 0, count: p), riskXX = [Double](repeating: 0, count: p * p)
        var i = n - 1
        while i >= 0 {
            let t = times[i]
            var tie = 0.0, tieX = [Double](repeating: 0, count: p), tieXX = [Double](repeating: 0, count: p * p)
            var deaths = 0
            while i >= 0, times[i] == t {
                let xi = x[i]
                let eta = zip(xi, beta).map(*).reduce(0, +), phi = exp(eta)
                risk += phi
                for a in 0..<p {
                    riskX[a] += phi * xi[a]
                    for b in 0..<p { riskXX[a * p + b] += phi * xi[a] * xi[b] }
                }
                if events[i] {
                    deaths += 1
                    ll += eta
                    tie += phi
                    for a in 0..<p {
                        gradient[a] += xi[a]
                        tieX[a] += phi * xi[a]
                        for b in 0..<p { tieXX[a * p + b] += phi * xi[a] * xi[b] }
                    }
                }
                i -= 1
            }
            for l in 0..<deaths {
                let c = Double(l) / Double(deaths)
                let denominator = risk - c * tie
                ll -= Foundation.log(denominator)
                let mean = (0..<p).map { (riskX[$0] - c * tieX[$0]) / denominator }
                for a in 0..<p {
                    gradient[a] -= mean[a]
                    for b in 0..<p {
                        hessian[a * p + b] -= (riskXX[a * p + b] - c * tieXX[a * p + b]) / denominator - mean[a] * mean[b]
                    }
                }
            }
        }
        return (ll, gradient, hessian)
    }

    /// Each row's score residual (Lin and Wei's, lifelines' form): the risk set of row i is
    /// rows i... in sorted order.
    static func scoreResiduals(times: [Double], events: [Bool], x: [[Double]], beta: [Double]) -> [[Double]] {
        let n = times.count, p = beta.count
        let phi = x.map { exp(zip($0, beta).map(*).reduce(0, +)) }
        var risk = [Double](repeating: 0, count: n), riskX = [[Double]](repeating: [Double](repeating: 0, count: p), count: n)
        var r = 0.0, rx = [Double](repeating: 0, count: p)
        for i in stride(from: n - 1, through: 0, by: -1) {
            r += phi[i]
            for a in 0..<p { rx[a] += phi[i] * x[i][a] }
            risk[i] = r
            riskX[i] = rx
        }
        // sum over j <= i of E_j / R_j (x_i - S_j / R_j) = x_i A_i - B_i.
        var a = 0.0, b = [Double](repeating: 0, count: p)
        var residuals: [[Double]] = []
        for i in 0..<n {
            if events[i] {
                a += 1 / risk[i]
                for k in 0..<p { b[k] += riskX[i][k] / (risk[i] * risk[i]) }
            }
            residuals.append((0..<p).map { k in
                -phi[i] * (x[i][k] * a - b[k]) + (events[i] ? x[i][k] - riskX[i][k] / risk[i] : 0)
            })
        }
        return residuals
    }

    /// The Grambsch-Therneau statistic per covariate: scaled Schoenfeld residuals (Efron means,
    /// times D V) against the events' ranks g = 1...D, (sum (g - mean g) r)^2 / (D se^2 sum (g - mean g)^2).
    static func proportionalHazards(times: [Double], events: [Bool], x: [[Double]], beta: [Double], variance: [Double],
                                    errors: [Double]) -> [Double] {
        let n = times.count, p = beta.count
        var residuals: [[Double]] = []  // events, in reverse sorted order
        var risk = 0.0, riskX = [Double](repeating: 0, count: p)
        var i = n - 1
        while i >= 0 {
            let t = times[i]
            var tie = 0.0, tieX = [Double](repeating: 0, count: p), dead: [Int] = []
            while i >= 0, times[i] == t {
                let phi = exp(zip(x[i], beta).map(*).reduce(0, +))
                risk += phi
                for a in 0..<p { riskX[a] += phi * x[i][a] }
                if events[i] {
                    tie += phi
                    for a in 0..<p { tieX[a] += phi * x[i][a] }
                    dead.append(i)
                }
                i -= 1
            }
            guard !dead.isEmpty else { continue }
            let d = Double(dead.count)
            var mean = [Double](repeating: 0, count: p)
            for l in 0..<dead.count {
                let c = Double(l) / d
                for a in 0..<p { mean[a] += (riskX[a] - c * tieX[a]) / ((risk - c * tie) * d) }
            }
            for row in dead { residuals.append((0..<p).map { x[row][$0] - mean[$0] }) }
        }
        residuals.reverse()
        let deaths = residuals.count, dd = Double(deaths)
        let scaled = residuals.map { r in (0..<p).map { k in dd * (0..<p).map { j in r[j] * variance[j * p + k] }.reduce(0, +) } }
        let ranks = (1...max(1, deaths)).map(Double.init)
        let meanRank = ranks.reduce(0, +) / Double(ranks.count)
        let spread = ranks.map { ($0 - meanRank) * ($0 - meanRank) }.reduce(0, +)
        return (0..<p).map { k in
            let sum = zip(ranks, scaled).map { ($0 - meanRank) * $1[k] }.reduce(0, +)
            return sum * sum / (dd * errors[k] * errors[k] * spread)
        }
    }
}
