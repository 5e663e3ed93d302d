internal import _CGSL

/// The outcome of a minimisation.
public struct MinimizationResult: Sendable, Equatable {
    /// The best point found.
    public var x: [Double]
    /// The objective at `x`.
    public var value: Double
    public var iterations: Int
    /// True when the stopping test was met; false when the iteration limit ran out first.
    public var converged: Bool
}

public struct MinimizationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The GSL status code (gsl_errno.h) or -1 for a problem found before GSL was called.
    public let code: Int
    public let reason: String

    public var description: String { "minimisation failed: \(reason)" }
}

/// Unconstrained minimisation of a function of a few variables with GSL's `gsl_multimin`.
///
/// GSL's default error handler aborts the process; it is switched off the first time this type
/// is used, and every status code is checked instead.
public enum Minimizer {
    /// BFGS (`gsl_multimin_fdfminimizer_vector_bfgs2`) with an analytic gradient. `objective`
    /// returns f(x) and writes the gradient into its second argument (same length as x).
    ///
    /// Stops when the gradient's Euclidean norm falls below `gradientTolerance`, when the line
    /// search can make no further progress (GSL_ENOPROG: converged only if the gradient is below
    /// 10 x the tolerance), or after `maxIterations` iterations. `initialStep` is the length of the
    /// first trial step, in the units of `x`.
    public static func bfgs(
        start: [Double], initialStep: Double, gradientTolerance: Double, maxIterations: Int,
        objective: ([Double], inout [Double]) -> Double
    ) throws(MinimizationError) -> MinimizationResult {
        GSL.configure()
        let n = start.count
        var probe = [Double](repeating: 0, count: n)
        guard n > 0, start.allSatisfy(\.isFinite), objective(start, &probe).isFinite else {
            throw MinimizationError(code: -1, reason: "the start point must be finite with a finite objective")
        }
        return try withoutActuallyEscaping(objective) { (objective) throws(MinimizationError) in
            let context = ObjectiveBox(value: { x in var g = [Double](repeating: 0, count: x.count); return objective(x, &g) },
                                       gradient: objective)
            let contextPointer = Unmanaged.passUnretained(context).toOpaque()
            var function = gsl_multimin_function_fdf(
                f: { x, params in
                    Unmanaged<ObjectiveBox>.fromOpaque(params!).takeUnretainedValue().value(GSL.array(x!))
                },
                df: { x, params, gradient in
                    let box = Unmanaged<ObjectiveBox>.fromOpaque(params!).takeUnretainedValue()
                    var g = [Double](repeating: 0, count: Int(x!.pointee.size))
                    _ = box.gradient(GSL.array(x!), &g)
                    GSL.copy(g, into: gradient!)
                },
                fdf: { x, params, value, gradient in
                    let box = Unmanaged<ObjectiveBox>.fromOpaque(params!).takeUnretainedValue()
                    var g = [Double](repeating: 0, count: Int(x!.pointee.size))
                    value!.pointee = box.gradient(GSL.array(x!), &g)
                    GSL.copy(g, into: gradient!)
                },
                n: n, params: contextPointer)
            guard let state = gsl_multimin_fdfminimizer_alloc(mamq_gsl_vector_bfgs2(), n) else {
                throw MinimizationError(code: Int(GSL_ENOMEM), reason: "cannot allocate BFGS")
            }
            defer { gsl_multimin_fdfminimizer_free(state) }
            let x0 = GSL.vector(start)
            defer { gsl_vector_free(x0) }
            try GSL.check(gsl_multimin_fdfminimizer_set(state, &function, x0, initialStep, 0.1), "BFGS set-up")

            var iterations = 0
            var converged = false
            while iterations < maxIterations {
                iterations += 1
                let status = gsl_multimin_fdfminimizer_iterate(state)
                let gradient = gsl_multimin_fdfminimizer_gradient(state)!
                if status == GSL_ENOPROG {
                    converged = gsl_multimin_test_gradient(gradient, 10 * gradientTolerance) == GSL_SUCCESS
                    break
                }
                try GSL.check(status, "BFGS iteration")
                if gsl_multimin_test_gradient(gradient, gradientTolerance) == GSL_SUCCESS {
                    converged = true
                    break
                }
            }
            return MinimizationResult(x: GSL.array(gsl_multimin_fdfminimizer_x(state)),
                                      value: gsl_multimin_fdfminimizer_minimum(state),
                                      iterations: iterations, converged: converged)
        }
    }
}

/// The Swift closures behind a GSL callback's `void *params`.
private final class ObjectiveBox {
    let value: ([Double]) -> Double
    let gradient: ([Double], inout [Double]) -> Double

    init(value: @escaping ([Double]) -> Double, gradient: @escaping ([Double], inout [Double]) -> Double) {
        self.value = value
        self.gradient = gradient
    }
}

/// Every GSL call of this module goes through here.
enum GSL {
    private static let configured: Void = { _ = gsl_set_error_handler_off() }()

    static func configure() { _ = configured }

    static func check(_ status: Int32, _ what: String) throws(MinimizationError) {
        guard status != GSL_SUCCESS else { return }
        let reason = gsl_strerror(status).map { String(cString: $0) } ?? "GSL error"
        throw MinimizationError(code: Int(status), reason: "\(what): \(reason)")
    }

    static func vector(_ values: [Double]) -> UnsafeMutablePointer<gsl_vector> {
        let v = gsl_vector_alloc(values.count)!
        copy(values, into: v)
        return v
    }

    static func copy(_ values: [Double], into v: UnsafeMutablePointer<gsl_vector>) {
        for (i, value) in values.enumerated() { gsl_vector_set(v, i, value) }
    }

    static func array(_ v: UnsafePointer<gsl_vector>) -> [Double] {
        (0..<v.pointee.size).map { gsl_vector_get(v, $0) }
    }
}
