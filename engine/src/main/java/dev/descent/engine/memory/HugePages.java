package dev.descent.engine.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.Optional;

/**
 * Large blocks on transparent huge pages (Linux): an anonymous {@code mmap} aligned to 2 MiB and advised with
 * {@code madvise(MADV_HUGEPAGE)}, through the JDK's foreign-function API (libc's own functions, no native code of
 * ours). Where the kernel has THP in {@code madvise} mode (the Debian/Ubuntu default) a block of floats is otherwise
 * faulted in 4 KiB at a time: on the VMs measured, first-touching Fashion-MNIST's 188 MB of floats took ~500 ms on 4
 * KiB pages against ~270 ms on 2 MiB pages (docs/performance.md). The mapping is zero-filled by the kernel, like
 * {@link Arena#allocate}, so callers cannot tell the two apart.
 *
 * <p>Opt-in ({@code -Ddescent.memory.hugePages=true}): linking the three libc functions makes the JDK generate ~100
 * classes (~0.1 s interpreted, then their compilation), and on two cores that work competes with the kernels' JIT
 * warm-up: the default 3-epoch MLP run was no shorter with huge pages and its first epoch 10-40% slower in 6 of 6
 * alternated rounds (docs/performance.md, "Warm-up: the Vector API's fallbacks stay out of C2; huge pages
 * opt-in"). It pays where loading is the critical path (more cores, larger datasets).
 *
 * <p>Used only when all of this holds, else {@link #map} returns empty and the caller allocates from an arena:
 * {@code -Ddescent.memory.hugePages=true}; Linux on x86-64 or AArch64; native access enabled for this module
 * ({@code --enable-native-access}, which the launcher and the build pass: without it the JDK would print a warning
 * on the first call); the block is at least {@link #MIN_BYTES}; and the mmap call succeeds.
 */
@SuppressWarnings("restricted") // the point of the class; used only when native access is enabled for it
final class HugePages {
    /** Blocks smaller than this stay on the arena: a 2 MiB page would round them up too much. */
    static final long MIN_BYTES = 16L << 20;
    private static final long PAGE = 2L << 20;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MADV_HUGEPAGE = 14;
    private static final Functions LIBC = Functions.load();

    private HugePages() {
    }

    /** Whether this JVM maps large blocks on huge pages (see the class comment). */
    static boolean available() {
        return LIBC != null;
    }

    /**
     * A zeroed segment of {@code bytes} bytes, 2 MiB-aligned, unmapped when {@code arena} closes; empty when the
     * huge-page path is not available or the block is smaller than {@link #MIN_BYTES}.
     */
    static Optional<MemorySegment> map(long bytes, Arena arena) {
        if (LIBC == null || bytes < MIN_BYTES) {
            return Optional.empty();
        }
        long length = (bytes + PAGE - 1) & -PAGE;
        long mapped = length + PAGE; // slack to align the start
        try {
            MemorySegment base = (MemorySegment) LIBC.mmap.invokeExact(MemorySegment.NULL, mapped, PROT_READ_WRITE,
                    MAP_PRIVATE_ANONYMOUS, -1, 0L);
            if (base.address() == -1L || base.address() == 0L) {
                return Optional.empty(); // MAP_FAILED: the arena path reports a real shortage as usual
            }
            long start = (base.address() + PAGE - 1) & -PAGE;
            MemorySegment whole = base.reinterpret(mapped);
            MemorySegment block;
            try {
                block = MemorySegment.ofAddress(start).reinterpret(length, arena, s -> unmap(whole));
            } catch (RuntimeException e) { // e.g. the arena is already closed: do not leak the mapping
                unmap(whole);
                throw e;
            }
            // advice only: when it fails (THP "never"), the mapping still works on 4 KiB pages
            int ignored = (int) LIBC.madvise.invokeExact(block, length, MADV_HUGEPAGE);
            return Optional.of(block.asSlice(0, bytes));
        } catch (Throwable t) {
            return Optional.empty();
        }
    }

    private static void unmap(MemorySegment whole) {
        try {
            int ignored = (int) LIBC.munmap.invokeExact(whole, whole.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException("munmap of a " + whole.byteSize() + "-byte block failed", t);
        }
    }

    /** libc's mmap, madvise and munmap, or null where the huge-page path is off. */
    private record Functions(MethodHandle mmap, MethodHandle madvise, MethodHandle munmap) {
        static Functions load() {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "");
            if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))
                    || !Boolean.parseBoolean(System.getProperty("descent.memory.hugePages", "false"))
                    || !HugePages.class.getModule().isNativeAccessEnabled()) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup libc = linker.defaultLookup();
                MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                return new Functions(mmap, madvise, munmap);
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }
    }
}
