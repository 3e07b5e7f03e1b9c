#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every hot loop of ProxyLM on raw row-major `Float` buffers, vectorised with `SIMD8<Float>`:
/// matrix products (blocked four rows by sixteen columns of fused multiply-adds, so the partial
/// sums stay in registers), transposes, the tanh layer, the softmax cross-entropy and the Adam update.
///
/// They share one file on purpose: a debug build compiles each file separately and inlines only
/// within a file, so the small SIMD helpers (`load`, `store`, `exp`) must live next to their callers.
enum Kernels {
    /// `c[m×n] = a·b` (or `+=` with `accumulate`), where `b` is `inner×n` row-major and the element
    /// `(i, p)` of `a` is `a[i·rowStride + p·innerStride]` (so `a` may be read transposed).
    static func multiply(
        _ a: UnsafePointer<Float>, rowStride: Int, innerStride: Int, _ b: UnsafePointer<Float>,
        into c: UnsafeMutablePointer<Float>, rows m: Int, inner: Int, columns n: Int, accumulate: Bool
    ) {
        var i = 0
        while i + 4 <= m {
            let a0 = a + i * rowStride, a1 = a0 + rowStride, a2 = a1 + rowStride, a3 = a2 + rowStride
            let r0 = c + i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n
            var j = 0
            while j + 16 <= n {
                var s00 = accumulate ? load(r0 + j) : .zero, s01 = accumulate ? load(r0 + j + 8) : .zero
                var s10 = accumulate ? load(r1 + j) : .zero, s11 = accumulate ? load(r1 + j + 8) : .zero
                var s20 = accumulate ? load(r2 + j) : .zero, s21 = accumulate ? load(r2 + j + 8) : .zero
                var s30 = accumulate ? load(r3 + j) : .zero, s31 = accumulate ? load(r3 + j + 8) : .zero
                var bp = b + j
                var ap = 0
                for _ in 0..<inner {
                    let b0 = load(bp), b1 = load(bp + 8)
                    let x0 = a0[ap], x1 = a1[ap], x2 = a2[ap], x3 = a3[ap]
                    s00 = s00.addingProduct(b0, x0); s01 = s01.addingProduct(b1, x0)
                    s10 = s10.addingProduct(b0, x1); s11 = s11.addingProduct(b1, x1)
                    s20 = s20.addingProduct(b0, x2); s21 = s21.addingProduct(b1, x2)
                    s30 = s30.addingProduct(b0, x3); s31 = s31.addingProduct(b1, x3)
                    bp += n
                    ap += innerStride
                }
                store(s00, r0 + j); store(s01, r0 + j + 8)
                store(s10, r1 + j); store(s11, r1 + j + 8)
                store(s20, r2 + j); store(s21, r2 + j + 8)
                store(s30, r3 + j); store(s31, r3 + j + 8)
                j += 16
            }
            while j + 8 <= n {
                var s0 = accumulate ? load(r0 + j) : .zero, s1 = accumulate ? load(r1 + j) : .zero
                var s2 = accumulate ? load(r2 + j) : .zero, s3 = accumulate ? load(r3 + j) : .zero
                var bp = b + j
                var ap = 0
                for _ in 0..<inner {
                    let b0 = load(bp)
                    s0 = s0.addingProduct(b0, a0[ap]); s1 = s1.addingProduct(b0, a1[ap])
                    s2 = s2.addingProduct(b0, a2[ap]); s3 = s3.addingProduct(b0, a3[ap])
                    bp += n
                    ap += innerStride
                }
                store(s0, r0 + j); store(s1, r1 + j); store(s2, r2 + j); store(s3, r3 + j)
                j += 8
            }
            while j < n {
                r0[j] = (accumulate ? r0[j] : 0) + scalarDot(a0, innerStride, b + j, n, inner)
                r1[j] = (accumulate ? r1[j] : 0) + scalarDot(a1, innerStride, b + j, n, inner)
                r2[j] = (accumulate ? r2[j] : 0) + scalarDot(a2, innerStride, b + j, n, inner)
                r3[j] = (accumulate ? r3[j] : 0) + scalarDot(a3, innerStride, b + j, n, inner)
                j += 1
            }
            i += 4
        }
        while i < m {
            let a0 = a + i * rowStride
            let r0 = c + i * n
            var j = 0
            while j + 8 <= n {
                var s0 = accumulate ? load(r0 + j) : .zero
                var bp = b + j
                var ap = 0
                for _ in 0..<inner {
                    s0 = s0.addingProduct(load(bp), a0[ap])
                    bp += n
                    ap += innerStride
                }
                store(s0, r0 + j)
                j += 8
            }
            while j < n {
                r0[j] = (accumulate ? r0[j] : 0) + scalarDot(a0, innerStride, b + j, n, inner)
                j += 1
            }
            i += 1
        }
    }

    /// Writes the `rows×columns` matrix `source` transposed (`columns×rows`) into `target`, in
    /// 16×16 tiles so both sides stay in cache.
    static func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, into target: UnsafeMutablePointer<Float>) {
        let tile = 16
        for rowStart in stride(from: 0, to: rows, by: tile) {
            let rowEnd = min(rowStart + tile, rows)
            for columnStart in stride(from: 0, to: columns, by: tile) {
                let columnEnd = min(columnStart + tile, columns)
                for r in rowStart..<rowEnd {
                    let row = source + r * columns
                    for column in columnStart..<columnEnd { target[column * rows + r] = row[column] }
                }
            }
        }
    }

    /// `values[row][unit] = tanh(values[row][unit] + bias[unit])` for a `rows×width` matrix.
    static func addBiasAndTanh(_ values: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, width: Int) {
        for row in 0..<rows {
            let rowValues = values + row * width
            var unit = 0
            while unit + 8 <= width {
                store(tanh(load(rowValues + unit) + load(bias + unit)), rowValues + unit)
                unit += 8
            }
            while unit < width {
                rowValues[unit] = tanhf(rowValues[unit] + bias[unit])
                unit += 1
            }
        }
    }

    /// `delta *= 1 − a²` elementwise: backpropagation through tanh, given its outputs `a`.
    static func multiplyByTanhDerivative(_ delta: UnsafeMutablePointer<Float>, outputs: UnsafePointer<Float>, count: Int) {
        var index = 0
        while index + 8 <= count {
            let a = load(outputs + index)
            store(load(delta + index) * (1 - a * a), delta + index)
            index += 8
        }
        while index < count {
            delta[index] *= 1 - outputs[index] * outputs[index]
            index += 1
        }
    }

    /// Adds `bias` to one row of 256 logits and returns the cross-entropy of `target`. With a
    /// `gradientScale`, the row is replaced by `gradientScale · (softmax − onehot(target))`.
    static func softmaxCrossEntropy(
        _ logits: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, target: Int, gradientScale: Float?
    ) -> Float {
        let vocabulary = ByteLMArchitecture.vocabulary
        var largest8 = SIMD8<Float>(repeating: -.infinity)
        for symbol in stride(from: 0, to: vocabulary, by: 8) {
            let value = load(logits + symbol) + load(bias + symbol)
            store(value, logits + symbol)
            largest8 = largest8.replacing(with: value, where: value .> largest8)
        }
        let largest = largest8.max()
        let targetLogit = logits[target]
        var sums = SIMD8<Float>.zero
        for symbol in stride(from: 0, to: vocabulary, by: 8) {
            let e = exp(load(logits + symbol) - largest)
            store(e, logits + symbol)
            sums += e
        }
        let sum = sums.sum()
        if let gradientScale {
            let normaliser = gradientScale / sum
            for symbol in stride(from: 0, to: vocabulary, by: 8) { store(load(logits + symbol) * normaliser, logits + symbol) }
            logits[target] -= gradientScale
        }
        return logf(sum) + largest - targetLogit
    }

    /// One Adam update of `count` parameters: moments `m`, `v` in place, then
    /// `p -= stepSize · m / (√v · secondCorrection + ε)`.
    static func adamUpdate(
        parameters p: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, firstMoment m: UnsafeMutablePointer<Float>,
        secondMoment v: UnsafeMutablePointer<Float>, count: Int, beta1: Float, beta2: Float, epsilon: Float,
        stepSize: Float, secondCorrection: Float
    ) {
        var index = 0
        while index + 8 <= count {
            let gradient8 = load(g + index)
            let m8 = load(m + index) * beta1 + gradient8 * (1 - beta1)
            let v8 = load(v + index) * beta2 + gradient8 * gradient8 * (1 - beta2)
            store(m8, m + index)
            store(v8, v + index)
            store(load(p + index) - stepSize * m8 / (v8.squareRoot() * secondCorrection + epsilon), p + index)
            index += 8
        }
        while index < count {
            m[index] = m[index] * beta1 + g[index] * (1 - beta1)
            v[index] = v[index] * beta2 + g[index] * g[index] * (1 - beta2)
            p[index] -= stepSize * m[index] / (v[index].squareRoot() * secondCorrection + epsilon)
            index += 1
        }
    }

    /// `exp` of eight floats (relative error about 2e-7): 2ⁿ · a degree-6 polynomial on [−ln2/2, ln2/2].
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let clamped = x.replacing(with: -87, where: x .< -87).replacing(with: 88, where: x .> 88)
        // Adding 1.5·2²³ rounds to an integer and leaves it in the low mantissa bits.
        let shifted = clamped * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
        var p = SIMD8<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
    }

    /// `tanh` of eight floats (about 1e-7 absolute error) as `(1 − e^{−2|x|}) / (1 + e^{−2|x|})`.
    @inline(__always)
    static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let magnitude = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
        let t = exp(-2 * magnitude)
        let positive = (1 - t) / (1 + t)
        return positive.replacing(with: -positive, where: x .< 0)
    }

    @inline(__always)
    private static func scalarDot(
        _ a: UnsafePointer<Float>, _ aStride: Int, _ b: UnsafePointer<Float>, _ bStride: Int, _ count: Int
    ) -> Float {
        var sum: Float = 0
        for p in 0..<count { sum += a[p * aStride] * b[p * bStride] }
        return sum
    }

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func load(_ pointer: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
    }
}
