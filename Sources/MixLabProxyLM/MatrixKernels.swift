/// Dense single-precision matrix products on raw row-major buffers, vectorised with `SIMD8<Float>`
/// fused multiply-adds and blocked four rows by sixteen columns so the partial sums stay in registers.
enum MatrixKernels {
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

    /// Writes the `rows×columns` matrix `source` transposed (`columns×rows`) into `target`.
    static func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, into target: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = source + r * columns
            for col in 0..<columns { target[col * rows + r] = row[col] }
        }
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
