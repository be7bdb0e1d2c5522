package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.kernel.scalar.ScalarLayerKernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SIMD layer kernels against the scalar reference on random data, odd sizes and tails (1, 7, 17, ...), and the
 * scalar reference against hand-computed values. Buffers start at an odd float offset so no kernel can rely on
 * alignment.
 */
class LayerKernelsTest {
    private static final LayerKernels SCALAR = new ScalarLayerKernels();
    private static final LayerKernels SIMD = LayerKernels.forBackend(Kernels.simd());
    private static final int OFF = 3;

    private final SplittableRandom rng = new SplittableRandom(7);
    private final java.util.List<OffHeapBlock> blocks = new java.util.ArrayList<>();

    @AfterEach
    void close() {
        blocks.forEach(OffHeapBlock::close);
    }

    private MemorySegment random(long n) {
        OffHeapBlock b = OffHeapBlock.allocateFloats(n + OFF + 16, Purpose.BATCHES);
        blocks.add(b);
        for (long i = 0; i < n + OFF + 16; i++) {
            b.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextGaussian());
        }
        return b.segment();
    }

    private MemorySegment copy(MemorySegment s) {
        OffHeapBlock b = OffHeapBlock.allocate(s.byteSize(), Purpose.BATCHES);
        blocks.add(b);
        MemorySegment.copy(s, 0, b.segment(), 0, s.byteSize());
        return b.segment();
    }

    private static void assertClose(MemorySegment a, MemorySegment b, long n, float tol, String what) {
        for (long i = 0; i < n; i++) {
            float x = a.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
            float y = b.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
            assertThat(Math.abs(x - y)).as("%s[%d]: scalar %s simd %s", what, i, x, y)
                    .isLessThanOrEqualTo(tol * (1 + Math.abs(x)));
        }
    }

    @ParameterizedTest
    @CsvSource({"1,5,5,3,1,1", "3,7,9,3,1,0", "2,17,17,5,1,2", "2,28,28,5,1,2", "3,9,8,3,2,1", "1,6,7,4,3,2",
            "2,33,35,3,1,1", "2,14,14,5,1,2", "1,13,11,3,1,1", "2,30,31,5,1,2", "1,12,12,5,1,0", "3,7,7,1,1,0"})
    void im2colAndCol2imShouldAgreeAndBeAdjoint(int c, int h, int w, int k, int stride, int pad) {
        int oh = (h + 2 * pad - k) / stride + 1;
        int ow = (w + 2 * pad - k) / stride + 1;
        int p = oh * ow;
        int colStride = p + 5; // two samples' worth side by side would use 2p; any stride >= p must work
        long colN = (long) c * k * k * colStride;
        MemorySegment in = random((long) c * h * w);
        MemorySegment colA = random(colN);
        MemorySegment colB = copy(colA);
        SCALAR.im2col(colA, OFF, colStride, in, OFF, c, h, w, k, k, stride, pad, oh, ow);
        SIMD.im2col(colB, OFF, colStride, in, OFF, c, h, w, k, k, stride, pad, oh, ow);
        assertClose(colA, colB, colN, 0f, "im2col");
        // im2col is a plain gather: check one entry by hand
        int ci = c - 1, ky = k - 1, kx = 0, oy = oh - 1, ox = 0;
        int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
        float expect = iy >= 0 && iy < h && ix >= 0 && ix < w
                ? in.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + ((long) ci * h + iy) * w + ix) : 0f;
        assertThat(colA.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + ((long) (ci * k + ky) * k + kx) * colStride
                + (long) oy * ow + ox)).isEqualTo(expect);

        MemorySegment g = random(colN);
        MemorySegment dA = random((long) c * h * w);
        MemorySegment dB = copy(dA);
        SCALAR.col2im(dA, OFF, g, OFF, colStride, c, h, w, k, k, stride, pad, oh, ow);
        SIMD.col2im(dB, OFF, g, OFF, colStride, c, h, w, k, k, stride, pad, oh, ow);
        assertClose(dA, dB, (long) c * h * w, 0f, "col2im"); // same terms in the same order: the same bits
        // adjoint: <im2col(x), g> == <x, col2im(g)> over the valid columns
        double lhs = 0;
        for (int r = 0; r < c * k * k; r++) {
            for (int j = 0; j < p; j++) {
                long at = OFF + (long) r * colStride + j;
                lhs += (double) colA.getAtIndex(ValueLayout.JAVA_FLOAT, at) * g.getAtIndex(ValueLayout.JAVA_FLOAT, at);
            }
        }
        double rhs = 0;
        for (long i = 0; i < (long) c * h * w; i++) {
            rhs += (double) in.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i) * dA.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
        }
        assertThat(lhs).isCloseTo(rhs, org.assertj.core.data.Offset.offset(1e-3 * (1 + Math.abs(rhs))));
    }

    /**
     * The direct convolution's kernels on wide planes, SIMD against the scalar reference, for channel counts below,
     * at and past the register tiles (1, 3, 8, 13, 32, 40), kernel offsets not a multiple of the weight-gradient tile,
     * several samples with strides and 1 and 2 threads, planes tiled flat and by rows (13 x 14 and 16 x 16 outputs on
     * 16-float vectors, 7 x 7 on 8-float ones); plus one output against a hand-written sum.
     */
    @ParameterizedTest
    @CsvSource({"4,13,14,5,10,2,1", "2,16,16,3,8,1,2", "3,7,7,5,12,2,2", "1,8,8,1,3,1,1", "2,14,14,5,32,2,1", "1,28,28,5,16,3,2", "3,7,9,3,13,2,1", "4,6,6,3,40,1,2",
            "16,14,14,5,32,2,2", "2,5,5,5,1,3,1", "5,9,9,3,3,2,1", "32,8,8,3,8,1,2"})
    void directConvolutionShouldAgree(int cin, int h, int w, int k, int cout, int n, int threads) {
        int pad = k / 2;
        int hp = h + 2 * pad;
        int wp = w + 2 * pad;
        int oh = hp - k + 1;
        int ow = wp - k + 1;
        int plane = hp * wp;
        int need = SIMD.convWidePlane(oh, wp, k);
        assertThat(need).isGreaterThanOrEqualTo(oh * wp).isLessThan(oh * wp + 64);
        assertThat(SCALAR.convWidePlane(oh, wp, k)).isEqualTo(oh * wp);
        int qp = need + 3; // planes further apart than needed must work
        long reach = (long) (cin - 1) * plane + need + (long) (k - 1) * (wp + 1);
        long inStride = Math.max(reach, (long) cin * plane) + 5; // any stride that covers the reach must work
        long outStride = (long) cout * qp + 3;
        MemorySegment x = random(inStride * n);
        MemorySegment wT = random((long) cin * k * k * cout);
        MemorySegment bias = random(cout);
        MemorySegment outA = random(outStride * n);
        MemorySegment outB = copy(outA);
        SCALAR.convWide(outA, OFF, outStride, oh, qp, x, OFF, inStride, n, cin, plane, wp, wT, OFF, bias, OFF, cout,
                k, threads);
        SIMD.convWide(outB, OFF, outStride, oh, qp, x, OFF, inStride, n, cin, plane, wp, wT, OFF, bias, OFF, cout, k,
                threads);
        for (int s = 0; s < n; s++) {
            for (int co = 0; co < cout; co++) {
                for (int oy = 0; oy < oh; oy++) { // the garbage columns ox >= ow may differ
                    long at = s * outStride + (long) co * qp + (long) oy * wp;
                    assertCloseAt(outA, outB, at, ow, 1e-4f, "convWide");
                }
            }
        }
        // by hand: sample n-1, channel cout-1, position q = 1 (or 0), no bias
        int q = Math.min(1, ow - 1);
        double expect = 0;
        for (int ci = 0; ci < cin; ci++) {
            for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                    expect += (double) f(wT, OFF + ((long) (ci * k + ky) * k + kx) * cout + cout - 1)
                            * f(x, OFF + (n - 1) * inStride + (long) ci * plane + q + (long) ky * wp + kx);
                }
            }
        }
        MemorySegment noBias = random(outStride * n);
        SIMD.convWide(noBias, OFF, outStride, oh, qp, x, OFF, inStride, n, cin, plane, wp, wT, OFF, null, 0, cout, k,
                threads);
        assertThat((double) f(noBias, OFF + (n - 1) * outStride + (long) (cout - 1) * qp + q))
                .isCloseTo(expect, org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(expect))));

        // weight gradient from a compact dY, accumulating onto what is there and overwriting
        long dyStride = (long) cout * oh * ow + 7;
        MemorySegment dy = random(dyStride * n);
        int ckk = cin * k * k;
        for (boolean accumulate : new boolean[]{false, true}) {
            MemorySegment dwA = random((long) cout * ckk);
            MemorySegment dwB = copy(dwA);
            SCALAR.convWideWeightGrad(dwA, OFF, dy, OFF, dyStride, oh, ow, x, OFF, inStride, n, cin, plane, wp, cout, k,
                    accumulate, threads);
            SIMD.convWideWeightGrad(dwB, OFF, dy, OFF, dyStride, oh, ow, x, OFF, inStride, n, cin, plane, wp, cout, k,
                    accumulate, threads);
            assertCloseAt(dwA, dwB, 0, (long) cout * ckk, 1e-4f * (float) Math.sqrt((double) n * oh * ow),
                    "convWideWeightGrad accumulate=" + accumulate);
        }
        // by hand: weight (cout-1, last offset) without accumulation
        double dwExpect = 0;
        int e = ckk - 1;
        long shift = (long) (cin - 1) * plane + (long) (k - 1) * wp + k - 1;
        for (int s = 0; s < n; s++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    dwExpect += (double) f(dy, OFF + s * dyStride + ((long) (cout - 1) * oh + oy) * ow + ox)
                            * f(x, OFF + s * inStride + shift + (long) oy * wp + ox);
                }
            }
        }
        MemorySegment dwHand = random((long) cout * ckk);
        SIMD.convWideWeightGrad(dwHand, OFF, dy, OFF, dyStride, oh, ow, x, OFF, inStride, n, cin, plane, wp, cout, k,
                false, threads);
        assertThat((double) f(dwHand, OFF + (long) (cout - 1) * ckk + e))
                .isCloseTo(dwExpect, org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(dwExpect))));
    }

    /**
     * convPadded (compact samples in and out, padded and compacted inside the kernels) gives exactly the bits of
     * padPlanes, convWide and the wide planes' valid columns on the SIMD kernels (planes flat and by rows, rows below, at and past a
     * vector, a row's last vector masked, no padding and the input gradient's k-1, several samples with strides, 1
     * and 2 threads), and the scalar reference agrees with its own three.
     */
    @ParameterizedTest
    @CsvSource({"4,13,14,5,2,10,2,1", "2,16,16,3,1,8,1,2", "3,7,7,5,4,12,2,2", "1,28,28,5,2,16,3,2", "3,7,9,3,0,13,2,1",
            "16,14,14,5,2,32,2,2", "32,16,16,3,2,8,1,1", "2,5,17,3,1,3,2,1", "5,33,9,5,4,3,1,2"})
    void paddedConvolutionShouldGiveTheBitsOfPadConvolveUnpad(int cin, int h, int w, int k, int pad, int cout, int n,
                                                              int threads) {
        int hp = h + 2 * pad;
        int wp = w + 2 * pad;
        int oh = hp - k + 1;
        int ow = wp - k + 1;
        int plane = hp * wp;
        for (var kernels : new LayerKernels[]{SIMD, SCALAR}) {
            int qp = kernels.convWidePlane(oh, wp, k) + 3;
            long reach = (long) (cin - 1) * plane + qp + (long) (k - 1) * (wp + 1);
            long paddedStride = Math.max(reach, (long) cin * plane) + 5;
            long inStride = (long) cin * h * w + 3;
            long wideStride = (long) cout * qp + 3;
            long outStride = (long) cout * oh * ow + 2;
            MemorySegment in = random(inStride * n);
            MemorySegment padded = random(paddedStride * n);
            for (int s = 0; s < n; s++) {
                kernels.padPlanes(padded, OFF + s * paddedStride, in, OFF + s * inStride, cin, h, w, pad, pad, hp, wp,
                        plane, paddedStride - (long) cin * plane);
            }
            MemorySegment wT = random((long) cin * k * k * cout);
            MemorySegment bias = random(cout);
            MemorySegment wide = random(wideStride * n);
            MemorySegment outA = random(outStride * n);
            MemorySegment outB = copy(outA);
            kernels.convWide(wide, OFF, wideStride, oh, qp, padded, OFF, paddedStride, n, cin, plane, wp, wT, OFF, bias,
                    OFF, cout, k, threads);
            for (int s = 0; s < n; s++) {
                unpad(outA, OFF + s * outStride, wide, OFF + s * wideStride, cout, oh, ow, wp, qp);
            }
            kernels.convPadded(outB, OFF, outStride, in, OFF, inStride, n, cin, h, w, pad, wT, OFF, bias, OFF, cout, k,
                    threads);
            for (long i = 0; i < outStride * n; i++) { // the gaps between samples untouched as well
                if (kernels == SIMD) {
                    assertThat(Float.floatToRawIntBits(f(outB, OFF + i))).as("float %d of %d", i, outStride * n)
                            .isEqualTo(Float.floatToRawIntBits(f(outA, OFF + i)));
                } else {
                    assertThat(f(outB, OFF + i)).as("scalar, float %d of %d", i, outStride * n)
                            .isCloseTo(f(outA, OFF + i), org.assertj.core.data.Offset.offset(1e-5f));
                }
            }
        }
    }

    /** dst[ci, y, x] = src[ci*srcPlane + y*wp + x] for x < w: the valid columns of wide planes. */
    private static void unpad(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int c, int h, int w,
                              int wp, int srcPlane) {
        for (int ci = 0; ci < c; ci++) {
            for (int y = 0; y < h; y++) {
                MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, (srcOff + (long) ci * srcPlane + (long) y * wp) * 4,
                        dst, ValueLayout.JAVA_FLOAT, (dstOff + ((long) ci * h + y) * w) * 4, w);
            }
        }
    }

    /** Same bits in 1 and 2 threads: the parts split whole samples or whole weight rows. */
    @Test
    void directConvolutionShouldNotDependOnThreads() {
        int cin = 16, hp = 18, wp = 18, k = 5, cout = 32, n = 8;
        int plane = hp * wp;
        int qp = SIMD.convWidePlane(14, wp, k);
        long inStride = (long) cin * plane + qp + (long) (k - 1) * (wp + 1);
        MemorySegment x = random(inStride * n);
        MemorySegment wT = random((long) cin * k * k * cout);
        MemorySegment one = random((long) n * cout * qp);
        MemorySegment two = copy(one);
        SIMD.convWide(one, OFF, (long) cout * qp, 14, qp, x, OFF, inStride, n, cin, plane, wp, wT, OFF, null, 0, cout, k,
                1);
        SIMD.convWide(two, OFF, (long) cout * qp, 14, qp, x, OFF, inStride, n, cin, plane, wp, wT, OFF, null, 0, cout, k,
                2);
        assertCloseAt(one, two, 0, (long) n * cout * qp, 0f, "convWide threads");
        MemorySegment dw1 = random((long) cout * cin * k * k);
        MemorySegment dw2 = copy(dw1);
        MemorySegment dy = random((long) n * cout * 14 * 14);
        SIMD.convWideWeightGrad(dw1, OFF, dy, OFF, (long) cout * 14 * 14, 14, 14, x, OFF, inStride, n, cin, plane, wp,
                cout, k, false, 1);
        SIMD.convWideWeightGrad(dw2, OFF, dy, OFF, (long) cout * 14 * 14, 14, 14, x, OFF, inStride, n, cin, plane, wp,
                cout, k, false, 2);
        assertCloseAt(dw1, dw2, 0, (long) cout * cin * k * k, 0f, "convWideWeightGrad threads");
    }

    @ParameterizedTest
    @CsvSource({"1,5,5,2,2,9,9,81,7", "3,14,14,2,2,18,18,330,0", "2,4,7,0,0,4,12,64,3", "2,3,3,4,4,11,11,121,1",
            "4,28,28,2,2,32,32,1024,33"})
    void padAndUnpadShouldAgreeAndRoundTrip(int c, int h, int w, int top, int left, int hp, int wp, int dstPlane,
                                            int tail) {
        MemorySegment src = random((long) c * h * w);
        long n = (long) c * dstPlane + tail;
        MemorySegment a = random(n);
        MemorySegment b = copy(a);
        SCALAR.padPlanes(a, OFF, src, OFF, c, h, w, top, left, hp, wp, dstPlane, tail);
        SIMD.padPlanes(b, OFF, src, OFF, c, h, w, top, left, hp, wp, dstPlane, tail);
        assertClose(a, b, n, 0f, "padPlanes");
        // by hand: the first pixel lands at (top, left), the corner before it is 0, the tail is 0
        assertThat(f(a, OFF + (long) top * wp + left)).isEqualTo(f(src, OFF));
        assertThat(f(a, OFF + (long) (c - 1) * dstPlane)).isEqualTo(top == 0 && left == 0
                ? f(src, OFF + (long) (c - 1) * h * w) : 0f);
        if (tail > 0) {
            assertThat(f(a, OFF + n - 1)).isZero();
        }
        // the valid window (planes read at offset top*wp + left) is the source, bit for bit
        MemorySegment back = random((long) c * h * w);
        unpad(back, OFF, a, OFF + (long) top * wp + left, c, h, w, wp, dstPlane);
        assertClose(src, back, (long) c * h * w, 0f, "padPlanes' window");
        assertThatThrownBy(() -> SIMD.padPlanes(b, OFF, src, OFF, c, h, w, top, left, h - 1 + top, wp, dstPlane, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not fit");
    }

    private static float f(MemorySegment s, long i) {
        return s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    private static void assertCloseAt(MemorySegment a, MemorySegment b, long from, long n, float tol, String what) {
        for (long i = from; i < from + n; i++) {
            float x = a.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
            float y = b.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
            assertThat(Math.abs(x - y)).as("%s[%d]: scalar %s simd %s", what, i, x, y)
                    .isLessThanOrEqualTo(tol * (1 + Math.abs(x)));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 16, 17, 33, 196})
    void channelKernelsShouldAgree(int p) {
        int ch = 5;
        MemorySegment bias = random(ch);
        MemorySegment a = random((long) ch * p);
        MemorySegment b = copy(a);
        SCALAR.channelBiasAdd(a, OFF, bias, OFF, ch, p);
        SIMD.channelBiasAdd(b, OFF, bias, OFF, ch, p);
        assertClose(a, b, (long) ch * p, 0f, "channelBiasAdd");
        MemorySegment sa = random(ch);
        MemorySegment sb = copy(sa);
        SCALAR.channelSum(sa, OFF, a, OFF, ch, p, true);
        SIMD.channelSum(sb, OFF, a, OFF, ch, p, true);
        assertClose(sa, sb, ch, 1e-5f, "channelSum");
    }

    @ParameterizedTest
    @CsvSource({"4,3,1", "5,17,1", "3,2,49", "2,3,17", "7,1,1", "1,33,1"})
    void batchNormShouldAgree(int n, int c, int s) {
        long size = (long) n * c * s;
        MemorySegment x = random(size);
        MemorySegment dy = random(size);
        MemorySegment g = random(c);
        MemorySegment beta = random(c);
        MemorySegment mean = random(c);
        MemorySegment var = random(c);
        SCALAR.batchNormStats(mean, OFF, var, OFF, x, OFF, n, c, s);
        MemorySegment rstd = copy(var);
        for (int i = 0; i < c; i++) {
            rstd.setAtIndex(ValueLayout.JAVA_FLOAT, OFF + i,
                    (float) (1 / Math.sqrt(var.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i) + 1e-5)));
        }
        MemorySegment oa = random(size);
        MemorySegment ob = copy(oa);
        SCALAR.batchNormForward(oa, OFF, x, OFF, mean, OFF, rstd, OFF, g, OFF, beta, OFF, n, c, s);
        SIMD.batchNormForward(ob, OFF, x, OFF, mean, OFF, rstd, OFF, g, OFF, beta, OFF, n, c, s);
        assertClose(oa, ob, size, 1e-6f, "bn forward");
        for (boolean batchStats : new boolean[]{true, false}) {
            MemorySegment da = random(size);
            MemorySegment db = copy(da);
            MemorySegment ga = random(c);
            MemorySegment gb = copy(ga);
            MemorySegment ba = random(c);
            MemorySegment bb = copy(ba);
            SCALAR.batchNormBackward(da, OFF, ga, OFF, ba, OFF, dy, OFF, x, OFF, mean, OFF, rstd, OFF, g, OFF, n, c, s,
                    batchStats);
            SIMD.batchNormBackward(db, OFF, gb, OFF, bb, OFF, dy, OFF, x, OFF, mean, OFF, rstd, OFF, g, OFF, n, c, s,
                    batchStats);
            assertClose(da, db, size, 2e-4f, "bn dx");
            assertClose(ga, gb, c, 1e-4f, "bn dgamma");
            assertClose(ba, bb, c, 1e-4f, "bn dbeta");
        }
    }

    @ParameterizedTest
    @CsvSource({"3,1", "4,7", "2,16", "5,17", "3,128", "2,1023"})
    void layerNormShouldAgree(int rows, int c) {
        long size = (long) rows * c;
        MemorySegment x = random(size);
        MemorySegment dy = random(size);
        MemorySegment g = random(c);
        MemorySegment beta = random(c);
        MemorySegment oa = random(size);
        MemorySegment ob = copy(oa);
        MemorySegment ma = random(rows);
        MemorySegment mb = copy(ma);
        MemorySegment ra = random(rows);
        MemorySegment rb = copy(ra);
        SCALAR.layerNormForward(oa, OFF, ma, OFF, ra, OFF, x, OFF, g, OFF, beta, OFF, rows, c, 1e-5f);
        SIMD.layerNormForward(ob, OFF, mb, OFF, rb, OFF, x, OFF, g, OFF, beta, OFF, rows, c, 1e-5f);
        assertClose(oa, ob, size, 1e-4f, "ln forward");
        assertClose(ra, rb, rows, 1e-4f, "ln rstd");
        MemorySegment da = random(size);
        MemorySegment db = copy(da);
        MemorySegment ga = random(c);
        MemorySegment gb = copy(ga);
        MemorySegment ba = random(c);
        MemorySegment bb = copy(ba);
        SCALAR.layerNormBackward(da, OFF, ga, OFF, ba, OFF, dy, OFF, x, OFF, ma, OFF, ra, OFF, g, OFF, rows, c);
        SIMD.layerNormBackward(db, OFF, gb, OFF, bb, OFF, dy, OFF, x, OFF, ma, OFF, ra, OFF, g, OFF, rows, c);
        assertClose(da, db, size, 1e-3f, "ln dx");
        assertClose(ga, gb, c, 1e-4f, "ln dgamma");
        assertClose(ba, bb, c, 1e-4f, "ln dbeta");
    }

    @ParameterizedTest
    @CsvSource({"2,5,8,2", "1,7,12,3", "3,4,128,4", "1,1,17,1", "2,6,34,2"})
    void attentionShouldAgreeAndBeCausal(int b, int t, int c, int nh) {
        MemorySegment qkv = random((long) b * t * 3 * c);
        MemorySegment oa = random((long) b * t * c);
        MemorySegment ob = copy(oa);
        MemorySegment aa = random((long) b * nh * t * t);
        MemorySegment ab = copy(aa);
        SCALAR.attentionForward(oa, OFF, aa, OFF, qkv, OFF, b, t, c, nh);
        SIMD.attentionForward(ob, OFF, ab, OFF, qkv, OFF, b, t, c, nh);
        assertClose(oa, ob, (long) b * t * c, 1e-4f, "attention out");
        assertClose(aa, ab, (long) b * nh * t * t, 1e-5f, "attention probs");
        for (int r = 0; r < b * nh * t; r++) {
            int i = r % t;
            double rowSum = 0;
            for (int j = 0; j < t; j++) {
                float v = aa.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + (long) r * t + j);
                if (j > i) {
                    assertThat(v).as("future position %d of query %d", j, i).isZero();
                }
                rowSum += v;
            }
            assertThat(rowSum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        }
        MemorySegment dOut = random((long) b * t * c);
        MemorySegment da = random((long) b * t * 3 * c);
        MemorySegment db = copy(da);
        SCALAR.attentionBackward(da, OFF, random(t), OFF, dOut, OFF, qkv, OFF, aa, OFF, b, t, c, nh);
        SIMD.attentionBackward(db, OFF, random(t), OFF, dOut, OFF, qkv, OFF, aa, OFF, b, t, c, nh);
        assertClose(da, db, (long) b * t * 3 * c, 1e-4f, "attention dqkv");
    }

    @Test
    void poolingReferenceShouldMatchHandValues() {
        // one 4x4 plane: 0..15
        MemorySegment in = random(16);
        for (int i = 0; i < 16; i++) {
            in.setAtIndex(ValueLayout.JAVA_FLOAT, OFF + i, i);
        }
        MemorySegment out = random(4);
        SCALAR.maxPoolForward(out, OFF, in, OFF, 1, 4, 4, 2, 2, 0, 2, 2);
        assertThat(floats(out, 4)).containsExactly(5f, 7f, 13f, 15f);
        SCALAR.avgPoolForward(out, OFF, in, OFF, 1, 4, 4, 2, 2, 0, 2, 2);
        assertThat(floats(out, 4)).containsExactly(2.5f, 4.5f, 10.5f, 12.5f);
        MemorySegment dOut = random(4);
        for (int i = 0; i < 4; i++) {
            dOut.setAtIndex(ValueLayout.JAVA_FLOAT, OFF + i, i + 1);
        }
        MemorySegment dIn = random(16);
        SCALAR.maxPoolBackward(dIn, OFF, dOut, OFF, in, OFF, 1, 4, 4, 2, 2, 0, 2, 2);
        assertThat(floats(dIn, 16)).containsExactly(0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4);
        SIMD.maxPoolBackward(dIn, OFF, dOut, OFF, in, OFF, 1, 4, 4, 2, 2, 0, 2, 2);
        assertThat(floats(dIn, 16)).containsExactly(0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4);
    }

    /**
     * Both implementations, bit for bit: the 2x2 stride-2 fast path (vector groups of 8 windows where vectors hold 16
     * floats, of 4 windows, an overlapping last group, scalar rows narrower than a group) and the fallbacks (odd
     * sizes, other windows). {@code nanEvery}: one pixel in that many is NaN (0: none, so that every vector group
     * takes the NaN-free form of the step; 20: nearly every group holds one and takes the full rule; 400: both
     * kinds of group in one call), among ties (small integers), signed zeros and infinities.
     */
    @ParameterizedTest
    @CsvSource({"3,28,28,2,2,0,20", "5,14,14,2,2,0,20", "2,6,10,2,2,0,20", "2,7,9,2,2,0,20", "2,8,8,3,2,1,20",
            "1,9,9,3,3,0,20", "2,6,6,2,1,0,20", "2,8,8,2,2,0,20", "1,4,16,2,2,0,20", "3,4,4,2,2,0,20",
            "2,2,26,2,2,0,20", "3,28,28,2,2,0,0", "5,14,14,2,2,0,0", "2,2,26,2,2,0,0", "2,4,32,2,2,0,0",
            "2,2,34,2,2,0,0", "1,4,16,2,2,0,0", "2,8,8,2,2,0,0", "4,28,28,2,2,0,400", "4,14,14,2,2,0,400"})
    void maxPoolShouldMatchTheReferenceIncludingTiesAndNaN(int planes, int h, int w, int k, int stride, int pad,
                                                           int nanEvery) {
        int oh = (h + 2 * pad - k) / stride + 1;
        int ow = (w + 2 * pad - k) / stride + 1;
        long n = (long) planes * h * w;
        MemorySegment in = random(n);
        java.util.SplittableRandom r = new java.util.SplittableRandom(h * 31L + w + nanEvery);
        for (long i = 0; i < n; i++) {
            int pick = r.nextInt(40);   // ties (small integers), signed zeros and infinities among the gaussians
            float v = pick < 12 ? (float) r.nextInt(3) : pick < 14 ? -0f : pick < 16 ? 0f
                    : pick == 16 ? Float.POSITIVE_INFINITY : pick == 17 ? Float.NEGATIVE_INFINITY
                    : in.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
            if (nanEvery > 0 && r.nextInt(nanEvery) == 0) {
                v = Float.NaN;
            }
            in.setAtIndex(ValueLayout.JAVA_FLOAT, OFF + i, v);
        }
        long on = (long) planes * oh * ow;
        MemorySegment outA = random(on);
        MemorySegment outB = random(on);
        SCALAR.maxPoolForward(outA, OFF, in, OFF, planes, h, w, k, stride, pad, oh, ow);
        SIMD.maxPoolForward(outB, OFF, in, OFF, planes, h, w, k, stride, pad, oh, ow);
        assertSameBits(outA, outB, on, "maxPoolForward");
        MemorySegment dOut = random(on);
        dOut.setAtIndex(ValueLayout.JAVA_FLOAT, OFF, -0f);
        MemorySegment dA = random(n);
        MemorySegment dB = random(n);  // garbage in dIn must be overwritten
        SCALAR.maxPoolBackward(dA, OFF, dOut, OFF, in, OFF, planes, h, w, k, stride, pad, oh, ow);
        SIMD.maxPoolBackward(dB, OFF, dOut, OFF, in, OFF, planes, h, w, k, stride, pad, oh, ow);
        assertSameBits(dA, dB, n, "maxPoolBackward");
    }

    private static void assertSameBits(MemorySegment a, MemorySegment b, long n, String what) {
        for (long i = 0; i < n; i++) {
            float x = a.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
            float y = b.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
            assertThat(Float.floatToRawIntBits(y)).as("%s[%d]: scalar %s simd %s", what, i, x, y)
                    .isEqualTo(Float.floatToRawIntBits(x));
        }
    }

    @Test
    void embeddingShouldRejectIdsOutsideTheVocabulary() {
        MemorySegment ids = random(2);
        ids.setAtIndex(ValueLayout.JAVA_FLOAT, OFF, 1f);
        ids.setAtIndex(ValueLayout.JAVA_FLOAT, OFF + 1, 5f);
        assertThatThrownBy(() -> SIMD.embeddingForward(random(8), OFF, ids, OFF, random(20), OFF, random(8), OFF, 1, 2,
                4, 5)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id 5.0");
    }

    private static float[] floats(MemorySegment s, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = s.getAtIndex(ValueLayout.JAVA_FLOAT, OFF + i);
        }
        return f;
    }
}
